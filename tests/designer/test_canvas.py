"""The canvas: drops from the palette for every type, moves, subtables, keys."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from designer.canvas_drop import field_mime
from designer.palette import field_type_mime
from widgets.registry import default_registry


def top_left(canvas, key: str) -> QPoint:
    """A point in the first quarter of a cell: "before it" in either direction."""
    QApplication.processEvents()  # let the scroll area settle the canvas size first
    rect = canvas.cells[key].geometry()
    return rect.topLeft() + QPoint(rect.width() // 5, rect.height() // 5)


@pytest.mark.parametrize("type_name", default_registry.names())
def test_every_type_drops_from_the_palette_at_the_marker(canvas, drop, field_keys, type_name):
    document = canvas.document
    before = field_keys(document)
    index = before.index("fault")
    marker, accepted = drop(canvas, field_type_mime(type_name), top_left(canvas, "fault"))
    assert accepted
    assert marker is not None
    fault = canvas.cells["fault"].geometry()
    assert abs(marker.top() - fault.top()) < 8 or abs(marker.left() - fault.left()) < 8
    added = document.form("request").fields[index]
    assert added.type == type_name
    assert field_keys(document)[index + 1] == "fault"
    assert [p.key for p in document.selection()] == [added.key]
    assert added.key in canvas.cells  # the canvas grew one cell, in place
    document.undo_stack.undo()
    assert field_keys(document) == before and added.key not in canvas.cells


def test_drop_after_the_last_field_and_on_empty_space(canvas, drop, field_keys):
    last = canvas.cells[field_keys(canvas.document)[-1]].geometry()
    drop(canvas, field_type_mime("text"), QPoint(last.center().x(), last.bottom() + 30))
    assert canvas.document.form("request").fields[-1].type == "text"


def test_reorder_by_drag(canvas, drop, field_keys):
    document = canvas.document
    _marker, accepted = drop(canvas, field_mime("request", "fault"), top_left(canvas, "request_no"))
    assert accepted and field_keys(document)[0] == "fault"
    QApplication.processEvents()
    rect = canvas.cells["status"].geometry()
    drop(canvas, field_mime("request", "fault"), rect.bottomRight() - QPoint(5, 5))
    keys = field_keys(document)
    assert keys[keys.index("status") + 1] == "fault"
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert field_keys(document)[5] == "fault"


def test_drop_into_a_subtable_and_move_a_column_out(canvas, drop, field_keys):
    document = canvas.document
    strip = canvas.cells["parts"].strip
    chips = strip.chips
    first = chips[0]
    point = first.mapTo(canvas, QPoint(2, first.height() // 2))
    _marker, accepted = drop(canvas, field_type_mime("number"), point)
    assert accepted
    columns = [c.key for c in document.field("request", "parts").fields]
    assert document.field("request", columns[0]).type == "number"
    assert len(canvas.cells["parts"].strip.chips) == len(columns)
    moved = columns[1]
    drop(canvas, field_mime("request", moved), top_left(canvas, "fault"))
    assert document.field_path("request", moved).parent is None
    assert moved in canvas.cells


def test_layout_items_are_refused_in_a_subtable(canvas, drop, qtbot):
    chip = canvas.cells["parts"].strip.chips[0]
    with qtbot.waitSignal(canvas.message) as blocker:
        _marker, accepted = drop(
            canvas, field_type_mime("section"), chip.mapTo(canvas, QPoint(2, 2))
        )
    assert not accepted and "subtable" in blocker.args[0]


def test_click_and_ctrl_click_select(canvas, qtbot):
    overlay = canvas.cells["fault"].overlay
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton)
    assert [p.key for p in canvas.document.selection()] == ["fault"]
    assert canvas.cells["fault"].selected
    other = canvas.cells["status"].overlay
    qtbot.mouseClick(other, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier)
    assert {p.key for p in canvas.document.selection()} == {"fault", "status"}
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert canvas.document.selection() == []


def test_preview_editors_take_no_input(canvas):
    cell = canvas.cells["fault"]
    assert cell.overlay.geometry() == cell.rect()
    assert cell.childAt(cell.rect().center()) is cell.overlay


def test_delete_asks_when_the_field_is_used_and_undo_restores(canvas, monkeypatch, field_keys):
    document = canvas.document
    asked = []

    def answer(reply):
        def question(parent, title, text, *args, **kwargs):
            asked.append(text)
            return reply

        return question

    canvas.select(["urgency"])
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    QTest.keyClick(canvas, Qt.Key.Key_Delete)
    assert "urgency" in field_keys(document) and "Open requests" in asked[0]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    QTest.keyClick(canvas, Qt.Key.Key_Delete)
    assert "urgency" not in field_keys(document)
    assert "urgency" not in document.spec.view("open_requests").columns
    document.undo_stack.undo()
    assert "urgency" in field_keys(document) and "urgency" in canvas.cells
    assert "urgency" in document.spec.view("open_requests").columns


def test_delete_of_an_unused_field_does_not_ask(canvas, monkeypatch, field_keys):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked"))
    key = canvas.document.add_field("request", "text", "Spare")
    canvas.select([key])
    QTest.keyClick(canvas, Qt.Key.Key_Delete)
    assert key not in field_keys(canvas.document)


def test_duplicate_copy_paste_and_move_with_keys(canvas, field_keys):
    document = canvas.document
    canvas.select(["fault"])
    QTest.keyClick(canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    keys = field_keys(document)
    assert keys[keys.index("fault") + 1] == "fault_copy"
    canvas.select(["fault"])
    QTest.keyClick(canvas, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert "fault" in QApplication.clipboard().text()
    canvas.select(["status"])
    QTest.keyClick(canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    keys = field_keys(document)
    pasted = keys[keys.index("status") + 1]
    assert (
        pasted not in ("fault", "fault_copy")
        and document.field("request", pasted).type == "textarea"
    )
    assert [p.key for p in document.selection()] == [pasted]
    before = keys.index(pasted)
    QTest.keyClick(canvas, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert field_keys(document).index(pasted) == before - 1
    QTest.keyClick(canvas, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert field_keys(document).index(pasted) == before


def test_paste_a_subtable_gives_its_columns_fresh_keys(canvas):
    document = canvas.document
    canvas.select(["parts"])
    canvas.copy_selected()
    canvas.paste()
    pasted = document.selection()[0].key
    old = {c.key for c in document.field("request", "parts").fields}
    new = {c.key for c in document.field("request", pasted).fields}
    assert new and not old & new
    assert not [p for p in document.problems() if "fields" in p.path and "key" in p.message]


def test_label_edit_updates_one_cell_without_rebuilding(canvas):
    cell = canvas.cells["fault"]
    editor = cell.editor
    canvas.document.set_field_property("request", "fault", "label", "What broke")
    assert canvas.cells["fault"] is cell and cell.editor is editor
    assert "What broke" in cell.label.text()
    canvas.document.set_field_property("request", "fault", "max_length", 10)
    assert cell.editor is not editor  # other attributes rebuild that one preview


def test_width_change_reflows(canvas):
    before = canvas.cells["fault"].geometry().width()
    canvas.document.set_field_property("request", "fault", "width", "1/2")
    QApplication.processEvents()
    assert canvas.cells["fault"].geometry().width() < before * 0.7


def test_large_form_builds_previews_lazily(qtbot):
    from designer.canvas import Canvas
    from designer.document import build_large_form

    view = Canvas(build_large_form(120))
    qtbot.addWidget(view)
    assert any(not cell.built for cell in view.cells.values())
    qtbot.waitUntil(lambda: all(cell.built for cell in view.cells.values()), timeout=5000)


@pytest.fixture
def placeholders(qtbot, monkeypatch):
    """A shown large form whose previews are never built: every cell a placeholder."""
    from designer.canvas import Canvas, CanvasArea
    from designer.document import build_large_form

    monkeypatch.setattr(Canvas, "_build_some", lambda self: None)
    view = Canvas(build_large_form(120))
    area = CanvasArea(view)
    qtbot.addWidget(area)
    area.resize(1000, 800)
    area.show()
    qtbot.waitExposed(area)
    QApplication.processEvents()
    assert not any(cell.built for cell in view.cells.values())
    return view


def test_a_shown_large_form_paints_first_then_builds_real_editors(qtbot):
    from designer.canvas import Canvas, CanvasArea
    from designer.document import build_large_form
    from widgets.editors.base import FieldEditor

    view = Canvas(build_large_form(120))
    area = CanvasArea(view)
    qtbot.addWidget(area)
    area.resize(1000, 800)
    area.show()
    view._build_some()  # the timer firing before the first paint: it waits for it
    assert not any(cell.built for cell in view.cells.values())
    qtbot.waitUntil(lambda: all(cell.built for cell in view.cells.values()), timeout=10000)
    for cell in view.cells.values():
        assert isinstance(cell.editor, FieldEditor) and cell.editor.isVisible()
        assert cell.overlay is not None and cell.overlay.geometry() == cell.rect()
    tops = [cell.geometry().top() for cell in view.cells.values()]
    assert tops == sorted(tops)  # the form re-flowed around the real previews


def test_drops_on_cells_not_built_yet(placeholders, drop, field_keys):
    view, document = placeholders, placeholders.document
    before = field_keys(document, "form_1")
    target = before[100]  # far below the fold
    _marker, accepted = drop(view, field_type_mime("text"), top_left(view, target))
    keys = field_keys(document, "form_1")
    assert accepted and keys[101] == target and document.form("form_1").fields[100].type == "text"
    moved = before[3]
    _marker, accepted = drop(view, field_mime("form_1", moved), top_left(view, target))
    keys = field_keys(document, "form_1")
    assert accepted and keys[keys.index(target) - 1] == moved
    view.build_all()
    assert all(cell.built for cell in view.cells.values())


def test_select_and_rename_cells_not_built_yet(placeholders, qtbot):
    view, document = placeholders, placeholders.document
    keys = [spec.key for spec in document.form("form_1").fields]
    qtbot.mouseClick(view.cells[keys[90]], Qt.MouseButton.LeftButton)
    assert [p.key for p in document.selection()] == [keys[90]]
    assert view.cells[keys[90]].selected
    modifier = Qt.KeyboardModifier.ControlModifier
    qtbot.mouseClick(view.cells[keys[2]], Qt.MouseButton.LeftButton, modifier)
    assert {p.key for p in document.selection()} == {keys[90], keys[2]}
    image = view.cells[keys[2]].grab().toImage()
    assert image.pixelColor(1, image.height() // 2).blue() > 150  # the selection frame
    document.rename_field_key("form_1", keys[2], "renamed")
    assert view.cells["renamed"].key == "renamed"
    qtbot.mouseClick(view.cells["renamed"], Qt.MouseButton.LeftButton)
    assert [p.key for p in document.selection()] == ["renamed"]
    view.build_all()
    assert view.cells["renamed"].built and view.cells["renamed"].selected
