"""The main window: files through its actions, recovery, preview, language, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from designer.document import DesignerDocument
from designer.main_window import DesignerWindow
from widgets.editors import file_dialogs

Yes = QMessageBox.StandardButton.Yes


def test_window_composes_docks_and_stays_small(window):
    assert set(window.docks) == {"palette", "outline", "inspector", "problems"}
    assert window.canvas.form_key == "request"
    source = Path("designer/main_window.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) < 300


def test_canvas_selection_drives_inspector_and_outline(window):
    window.canvas.select(["fault"])
    assert window.inspector.target == ("field", "request", "fault")
    assert window.outline.items[("field", "request", "fault")].isSelected()


def test_save_as_then_open_gives_the_same_app(window, monkeypatch, tmp_path):
    window.document.set_field_property("request", "fault", "label", "What happened")
    target = tmp_path / "saved.fwapp"
    monkeypatch.setattr(file_dialogs, "save_file", lambda *a, **k: (target, ""))
    window.actions.all["save_as"].trigger()
    assert target.exists() and not window.document.is_dirty()
    expected = window.document.spec.to_json_dict()
    monkeypatch.setattr(file_dialogs, "open_file", lambda *a, **k: target)
    window.actions.all["open"].trigger()
    assert window.document.path == target
    assert window.document.spec.to_json_dict() == expected
    assert str(target.resolve()) in window.files.recent.paths()


def test_save_to_a_folder_and_ctrl_s(window, monkeypatch, tmp_path):
    folder = tmp_path / "as_folder"
    monkeypatch.setattr(file_dialogs, "save_file", lambda *a, **k: (folder, ""))
    window.actions.all["save_as"].trigger()
    assert (folder / "app.json").exists()
    window.document.set_app_property("title", "Renamed")
    assert window.windowTitle().startswith("Renamed") and "*" in window.windowTitle()
    window.actions.all["save"].trigger()
    assert DesignerDocument.open(folder).spec.title == "Renamed"


def test_close_with_unsaved_changes_asks(window, monkeypatch):
    window.document.set_app_property("title", "Changed")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    assert not window.close()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert window.close()


def test_new_from_template_is_unsaved(window):
    template = window.files.templates()[0]
    window.files.new_from_template(template)
    assert window.document.path is None and window.document.spec.forms


def test_autosave_and_recovery_after_a_crash(qtbot, repair_folder, recovery, settings, monkeypatch):
    first = DesignerWindow(repair_folder, recovery=recovery, settings=settings)
    first.document.set_field_property("request", "fault", "label", "Recovered label")
    copy = first.files.autosave()
    assert copy is not None and copy.exists()
    first.document.mark_saved()  # the "crash": the window goes without saving
    first.close()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: Yes)
    second = DesignerWindow(repair_folder, recovery=recovery, settings=settings)
    try:
        assert second.document.field("request", "fault").label == "Recovered label"
        assert second.document.path == repair_folder and second.document.is_dirty()
    finally:
        second.document.mark_saved()
        second.close()


def test_recovery_declined_opens_the_file(qtbot, repair_folder, recovery, settings, monkeypatch):
    document = DesignerDocument.open(repair_folder)
    document.set_app_property("title", "Lost")
    recovery.write(document)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    window = DesignerWindow(repair_folder, recovery=recovery, settings=settings)
    assert window.document.spec.title != "Lost" and recovery.find(repair_folder) is None
    window.close()


def test_preview_opens_with_samples_and_saves_a_record(window, qtbot):
    window.canvas.show_form("device")
    preview = window.try_it()
    assert preview is not None
    try:
        before = preview.records.count()
        cells = preview.view.cells
        cells["asset_no"].editor.set_value("EQ-9001")
        cells["name"].editor.set_value("Preview pump")
        cells["owner_dept"].editor.set_value(preview.session.actor.primary_department)
        with qtbot.waitSignal(preview.saved):
            assert preview.save()
        assert preview.records.count() == before + 1
        assert window.document.spec.form("device") is not preview.form  # a copy
    finally:
        preview.close()


def test_sample_records_come_from_the_types(qtbot):
    from designer.preview import add_samples, open_session

    document = DesignerDocument.new()
    for type_name in ("text", "number", "date", "select", "checkbox", "user", "rating"):
        document.add_field(
            "form_1", type_name, type_name.title(), key=f"f_{type_name}", required=True
        )
    document.set_field_property(
        "form_1",
        "f_select",
        "options",
        [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
    )
    session = open_session(document.spec)
    try:
        assert add_samples(session, document.spec.form("form_1")) == 3
    finally:
        session.close()


def test_try_it_action_is_f5(window):
    assert window.actions.all["try_it"].shortcut().toString() == "F5"


def test_publish_bumps_the_version_and_freezes_keys(window, monkeypatch, tmp_path):
    target = tmp_path / "published.fwapp"
    monkeypatch.setattr(file_dialogs, "save_file", lambda *a, **k: (target, ""))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: Yes)
    version = window.document.spec.version
    window.actions.all["publish"].trigger()
    assert window.document.spec.version == version + 1
    assert window.document.is_key_frozen("request", "fault")


def test_language_switch_shows_chinese_titles(window):
    window.switch_language("zh_CN")
    items = window.palette_view.items()
    assert items["text"].text(0) == "单行文本"
    assert window.docks["inspector"].windowTitle() == "属性"
    window.canvas.select(["fault"])
    assert window.inspector.rows  # the rebuilt parts still work
    window.switch_language("en")
    assert window.palette_view.items()["text"].text(0) == "Text"


def test_formwright_design_starts_the_window(qtbot, monkeypatch, tmp_path):
    import designer.cli
    from runtime.cli import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    root = Path(__file__).resolve().parents[2]
    assert main(["design", "--no-exec", str(root / "sample_apps" / "equipment_repair")]) == 0
    window = designer.cli.main.last_window
    try:
        assert window.isVisible() and window.document.spec.id == "equipment_repair"
    finally:
        window.close()


def test_formwright_design_without_a_package_opens_a_new_app(qtbot, monkeypatch, tmp_path):
    import designer.cli
    from runtime.cli import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert main(["design", "--no-exec"]) == 0
    window = designer.cli.main.last_window
    assert window.document.path is None
    window.close()


@pytest.mark.parametrize("name", ["equipment_repair", "adverse_event"])
def test_sample_apps_open_in_the_designer_without_problems(qtbot, name, recovery, settings):
    root = Path(__file__).resolve().parents[2]
    window = DesignerWindow(root / "sample_apps" / name, recovery=recovery, settings=settings)
    try:
        assert window.document.problems() == []
        assert window.canvas.cells
    finally:
        window.close()


def test_a_large_form_shows_first_then_previews_and_problems_follow(qtbot, recovery, settings):
    from designer.document import build_large_form
    from designer.problems_panel import ProblemsPanel

    document = build_large_form(120)
    document.add_field("form_1", "number", "Total", visible_when="no_such_field > 1")
    window = DesignerWindow(document=document, recovery=recovery, settings=settings)
    qtbot.addWidget(window)
    assert window.problems is None  # the whole-app check waits for the form to show
    window.show()
    cells = window.canvas.cells.values()
    qtbot.waitUntil(
        lambda: window.problems is not None and all(cell.built for cell in cells),
        timeout=10000,
    )
    assert isinstance(window.docks["problems"].widget(), ProblemsPanel)
    assert window.problems.count() == len(document.problems()) > 0
    window.problems.jump_to(window.problems.item(0))
    assert [p.key for p in document.selection()] == ["total"]
    assert window.inspector.target == ("field", "form_1", "total")
    document.mark_saved()
