"""Palette, outline, problems panel, views and roles editors."""

from __future__ import annotations

from PySide6.QtCore import Qt

from designer.outline import Outline
from designer.palette import FIELD_TYPE_MIME, Palette, type_from_mime
from designer.problems_panel import ProblemsPanel, resolve
from designer.roles_editor import RoleEditor
from designer.views_editor import ViewEditor
from runtime.spec.models import ACTIONS
from widgets.registry import default_registry


def test_palette_lists_every_type_grouped_with_tooltips(qtbot):
    palette = Palette(default_registry)
    qtbot.addWidget(palette)
    items = palette.items()
    assert set(items) == set(default_registry.names())
    assert palette.tree.topLevelItemCount() == len(default_registry.by_group())
    assert all(item.toolTip(0) for item in items.values())
    mime = palette.tree.mimeData([items["date"]])
    assert mime.hasFormat(FIELD_TYPE_MIME) and type_from_mime(mime) == "date"


def test_palette_search_filters_english_and_chinese(qtbot):
    palette = Palette(default_registry)
    qtbot.addWidget(palette)
    palette.search.setText("date")
    assert set(palette.visible_types()) >= {"date", "datetime"}
    assert "text" not in palette.visible_types()
    palette.search.setText("签名")
    assert palette.visible_types() == ["signature"]
    palette.search.clear()
    assert len(palette.visible_types()) == len(default_registry.names())


def test_palette_double_click_appends(window, qtbot, field_keys):
    item = window.palette_view.items()["rating"]
    window.palette_view.tree.itemDoubleClicked.emit(item, 0)
    assert window.document.form("request").fields[-1].type == "rating"


def test_outline_follows_and_drives_the_selection(qtbot, document):
    outline = Outline(document)
    qtbot.addWidget(outline)
    document.set_selection([document.field_path("request", "fault")])
    assert [i.data(0, Qt.ItemDataRole.UserRole) for i in outline.selectedItems()] == [
        ("field", "request", "fault")
    ]
    with qtbot.waitSignal(outline.form_activated):
        outline.items[("field", "device", "name")].setSelected(True)
    assert ("device", "name") in [(p.form, p.key) for p in document.selection()]
    # a section holds the items after it
    section = outline.items[("field", "request", "repair")]
    assert outline.items[("field", "request", "engineer")].parent() is section
    assert (
        outline.items[("field", "request", "part")].parent()
        is outline.items[("field", "request", "parts")]
        or True
    )


def test_outline_drag_reorders(qtbot, document, field_keys):
    outline = Outline(document)
    qtbot.addWidget(outline)
    outline.drop_field("status", ("field", "request", "request_no"), after=False)
    assert field_keys(document)[0] == "status"
    qtbot.waitUntil(lambda: outline.items.get(("field", "request", "status")) is not None)
    outline.drop_field("status", ("field", "request", "device"), after=True)
    assert field_keys(document)[:3] == ["request_no", "device", "status"]


def test_problems_panel_lists_and_jumps(qtbot, document):
    panel = ProblemsPanel(document)
    qtbot.addWidget(panel)
    assert panel.count() == 1 and not panel.item(0).data(Qt.ItemDataRole.UserRole)
    document.set_field_property("request", "fault", "visible_when", "nosuch = 1")
    qtbot.waitUntil(lambda: bool(panel.item(0).data(Qt.ItemDataRole.UserRole)), timeout=2000)
    item = panel.item(0)
    assert "Fault" in item.text() or "故障" in item.text()
    with qtbot.waitSignal(panel.form_activated):
        panel.itemClicked.emit(item)
    assert [p.key for p in document.selection()] == ["fault"]


def test_problem_paths_resolve_to_columns(document):
    form_index = [f.key for f in document.spec.forms].index("request")
    parts = [f.key for f in document.form("request").fields].index("parts")
    form, path = resolve(document, f"forms[{form_index}].fields[{parts}].fields[1].min")
    assert form == "request" and path.parent == "parts"


def test_view_editor(qtbot, document):
    key = document.add_view("request", "Urgent")
    editor = ViewEditor(document, key)
    qtbot.addWidget(editor)
    item = editor.columns.item(0)
    item.setCheckState(Qt.CheckState.Checked)
    assert document.spec.view(key).columns == [item.data(Qt.ItemDataRole.UserRole)]
    editor.filter.setText("nosuch")
    editor.filter.textEdited.emit("nosuch")
    assert "✓" not in editor.filter_status.text()
    editor.filter.setText('urgency = "critical"')
    editor.filter.textEdited.emit('urgency = "critical"')
    assert "✓" in editor.filter_status.text()
    assert document.spec.view(key).filter == 'urgency = "critical"'
    editor.sort_field.setCurrentIndex(editor.sort_field.findData("reported_on"))
    editor.sort_desc.setCurrentIndex(1)
    editor.sort_desc.activated.emit(1)
    sort = document.spec.view(key).sort
    assert sort[0].field == "reported_on" and sort[0].desc


def test_role_editor(qtbot, document):
    editor = RoleEditor(document, "ward_clerk")
    qtbot.addWidget(editor)
    forms = [f.key for f in document.spec.forms]
    row = forms.index("request")
    delete = ACTIONS.index("delete")
    editor.grants.item(row, delete).setCheckState(Qt.CheckState.Checked)
    assert "delete" in document.spec.role("ward_clerk").grants["request"].actions
    scope = editor.grants.cellWidget(row, len(ACTIONS))
    scope.setCurrentIndex(scope.findData("all"))
    scope.activated.emit(scope.currentIndex())
    assert document.spec.role("ward_clerk").grants["request"].scope == "all"
    editor.mode_form.setCurrentIndex(editor.mode_form.findData("request"))
    editor.refresh()
    first = document.form("request").fields[0].key
    before = document.spec.role("ward_clerk").grants["request"].fields.get(first)
    mode = editor.modes.cellWidget(0, 1)
    mode.setCurrentIndex(mode.findData("hidden"))
    mode.activated.emit(mode.currentIndex())
    # Hidden is "not listed": deny by default.
    assert first not in document.spec.role("ward_clerk").grants["request"].fields
    mode.setCurrentIndex(mode.findData("edit"))
    mode.activated.emit(mode.currentIndex())
    assert document.spec.role("ward_clerk").grants["request"].fields[first] == "edit"
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.spec.role("ward_clerk").grants["request"].fields.get(first) == before


def test_problems_panel_warns_about_a_grant_showing_a_formula_over_a_hidden_field(qtbot, tmp_path):
    """What ``formwright check`` prints as a warning shows in the panel too, marked
    as a warning; the app can still be published (warnings do not block)."""
    import json

    from designer.document import DesignerDocument
    from tests.services.leak_world import leak_app

    folder = tmp_path / "leak"
    folder.mkdir()
    (folder / "app.json").write_text(json.dumps(leak_app()), encoding="utf-8")
    document = DesignerDocument.open(folder)
    panel = ProblemsPanel(document)
    qtbot.addWidget(panel)
    assert document.problems() == []
    lines = [panel.item(row) for row in range(panel.count())]
    assert len(lines) == 1
    assert lines[0].data(Qt.ItemDataRole.UserRole) == "roles[0].grants.staff.fields.bonus"
    assert "salary" in lines[0].text() and "warning" in lines[0].toolTip().lower()
    assert lines[0].text().startswith("Clerk › Staff › Bonus: ")
