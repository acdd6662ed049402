"""Subtables: spec checks, rows through their column types, and the grid editor."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QLineEdit

from widgets.base import FieldValueError
from widgets.editors.base import FieldEditor, create_editor
from widgets.registry import default_registry

SUBTABLE = default_registry.get("subtable")


def spec(**attributes):
    return SUBTABLE.new_spec("items", "Items", **(SUBTABLE.sample_attributes | attributes))


def test_palette_subtable_has_a_column():
    palette = SUBTABLE.new_spec("items", "Items")
    assert [child.key for child in SUBTABLE.children(palette)] == ["item"]
    assert SUBTABLE.check_spec(palette) == []
    assert (
        SUBTABLE.check_spec(SUBTABLE.spec_model(key="t", type="subtable", label="T"))[0].message
        == "add at least one column"
    )


def test_check_spec_problems():
    inner = {
        "key": "inner",
        "type": "subtable",
        "label": "Inner",
        "fields": [{"key": "a", "type": "text", "label": "A"}],
    }
    bad = spec(
        fields=[
            {"key": "a", "type": "text", "label": "A"},
            {"key": "a", "type": "number", "label": "A again"},
            inner,
            {"key": "sec", "type": "section", "label": "Section"},
        ],
        min_rows=3,
        max_rows=2,
    )
    found = {(p.attribute, p.message) for p in SUBTABLE.check_spec(bad)}
    assert ("fields[1].key", "duplicate column key 'a'") in found
    assert ("fields[2]", "a subtable can't contain another subtable") in found
    assert ("min_rows", "the minimum of rows is larger than the maximum") in found
    section = default_registry.get("section")
    if not section.has_value:  # layout types say so (placeholders may not yet)
        assert ("fields[3]", "layout items can't be columns of a subtable") in found


def test_unknown_child_type_is_a_spec_error():
    with pytest.raises(Exception, match="unknown field type 'nope'"):
        spec(fields=[{"key": "a", "type": "nope", "label": "A"}])


def test_coerce_cells_through_column_types():
    rows = SUBTABLE.coerce(spec(), [
        {"part": "Valve", "qty": "3", "price": 2.5},
        {"part": None, "qty": None},  # nothing filled in: dropped
    ])  # fmt: skip
    assert rows == [{"part": "Valve", "qty": 3, "price": Decimal("2.50")}]
    assert SUBTABLE.coerce(spec(), []) is None
    with pytest.raises(FieldValueError, match="row 1, Qty: please enter a whole number"):
        SUBTABLE.coerce(spec(), [{"qty": "1.5"}])
    with pytest.raises(FieldValueError, match="row 1: unknown column 'colour'"):
        SUBTABLE.coerce(spec(), [{"part": "x", "colour": "red"}])
    with pytest.raises(FieldValueError, match="list of rows"):
        SUBTABLE.coerce(spec(), "3 rows")


def test_validate_rows_and_cells():
    table = spec(min_rows=2, max_rows=3)
    row = {"part": "Valve", "qty": 1, "price": Decimal("1.00")}
    with pytest.raises(FieldValueError, match="at least 2 rows"):
        SUBTABLE.validate(table, [row])
    with pytest.raises(FieldValueError, match="at most 3 rows"):
        SUBTABLE.validate(table, [row] * 4)
    with pytest.raises(FieldValueError, match="row 2, Price: must be at least 0"):
        SUBTABLE.validate(spec(), [row, row | {"price": Decimal("-1.00")}])
    with pytest.raises(FieldValueError, match="row 1, Part: please fill this in"):
        SUBTABLE.validate(spec(), [row | {"part": None}])
    SUBTABLE.validate(table, None)  # no rows at all is left to "required"


def test_json_and_text():
    rows = [{"part": "阀门", "qty": 2, "price": Decimal("3.10")}]
    data = SUBTABLE.to_json(spec(), rows)
    assert data == [{"part": "阀门", "qty": 2, "price": "3.10"}]
    assert SUBTABLE.from_json(spec(), data) == rows
    assert SUBTABLE.display(spec(), rows) == "1 row"
    assert SUBTABLE.display(spec(), rows * 3) == "3 rows"
    assert SUBTABLE.parse(spec(), '[{"part": "阀门", "qty": 2, "price": "3.1"}]') == rows
    with pytest.raises(FieldValueError, match="can't be entered as text"):
        SUBTABLE.parse(spec(), "3 rows")
    assert SUBTABLE.expression_type(spec()) == "table"
    assert SUBTABLE.sql_type(spec()) is None
    assert "Part, Qty, Price" in SUBTABLE.describe(spec())


# -- editor -------------------------------------------------------------------


def make_editor(qtbot, **attributes):
    editor = create_editor(spec(**attributes))
    qtbot.addWidget(editor)
    editor.resize(500, 260)
    editor.show()
    return editor


def test_editor_adds_edits_and_removes_rows(qtbot):
    editor = make_editor(qtbot)
    assert editor.value() is None and editor.row_count() == 0
    with qtbot.waitSignal(editor.value_changed):
        qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert editor.row_count() == 1
    index = editor.model.index(0, 1)  # Qty: a number column edits with the number editor
    editor.table.setCurrentIndex(index)
    editor.table.edit(index)
    cell_editor = editor.table.viewport().findChild(FieldEditor)
    assert type(cell_editor).__name__ == "NumberEditor"
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClicks(cell_editor.findChild(QLineEdit), "12")
    assert editor.value() == [{"part": None, "qty": 12, "price": None}]
    assert editor.model.data(index) == "12"
    qtbot.keyClick(cell_editor.findChild(QLineEdit), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.table.state() != QAbstractItemView.State.EditingState)
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(editor.table, Qt.Key.Key_Insert)
    assert editor.row_count() == 2
    editor.table.setCurrentIndex(editor.model.index(0, 0))
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(editor.table, Qt.Key.Key_Delete)
    assert editor.row_count() == 1 and editor.value() is None  # the blank row is left


def test_editor_typing_starts_editing_a_text_cell(qtbot):
    editor = make_editor(qtbot)
    editor.set_value([{"part": "Valve", "qty": 1, "price": Decimal("2.00")}])
    editor.table.setFocus()
    editor.table.setCurrentIndex(editor.model.index(0, 0))
    qtbot.keyClick(editor.table, Qt.Key.Key_F2)
    line = editor.table.viewport().findChild(FieldEditor).findChild(QLineEdit)
    line.selectAll()
    qtbot.keyClicks(line, "Hose ")
    line.insert("软管")  # QTest can only type Latin-1 keys
    qtbot.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.table.state() != QAbstractItemView.State.EditingState)
    assert editor.value()[0]["part"] == "Hose 软管"


def test_editor_respects_row_limits(qtbot):
    editor = make_editor(qtbot, min_rows=1, max_rows=2)
    assert editor.row_count() == 1  # a blank row to start with
    editor.table.setCurrentIndex(editor.model.index(0, 0))
    assert not editor.remove_button.isEnabled()
    editor.add_row()
    assert not editor.add_button.isEnabled()
    editor.add_row()
    assert editor.row_count() == 2
    assert "at most 2" in editor.count_label.text()


def test_editor_read_only(qtbot):
    editor = make_editor(qtbot)
    editor.set_value([{"part": "Valve", "qty": 1, "price": Decimal("2.00")}])
    editor.set_read_only(True)
    assert not editor.add_button.isVisibleTo(editor)
    assert not editor.model.flags(editor.model.index(0, 0)) & Qt.ItemFlag.ItemIsEditable
    editor.add_row()
    assert editor.row_count() == 1
