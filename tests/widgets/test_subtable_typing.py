"""Typing into a subtable's cells stores what is typed (issue #11 §2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView

from widgets.base import FieldValueError
from widgets.editors.base import FieldEditor, create_editor
from widgets.registry import default_registry

SUBTABLE = default_registry.get("subtable")
COLUMNS = [
    {"key": "part", "type": "text", "label": "Part"},
    {"key": "qty", "type": "number", "label": "Qty", "decimals": 0, "min": 1, "default": 1},
    {"key": "price", "type": "number", "label": "Price", "decimals": 2, "unit": "元"},
    {"key": "used", "type": "date", "label": "Used on"},
]


def open_cell(table) -> FieldEditor:
    """The cell editor open in a table (closed ones are hidden until deleted)."""
    (editor,) = [e for e in table.viewport().findChildren(FieldEditor) if e.isVisible()]
    return editor


def make_editor(qtbot, **attributes):
    spec = SUBTABLE.new_spec("items", "Items", fields=COLUMNS, **attributes)
    editor = create_editor(spec)
    qtbot.addWidget(editor)
    editor.resize(700, 300)
    editor.show()
    return editor


def type_in_cell(qtbot, editor, row: int, column: int, text: str, finish=Qt.Key.Key_Return):
    """Select the cell and type: the first key opens the cell's editor, as for a user."""
    editor.table.setFocus()
    editor.table.setCurrentIndex(editor.model.index(row, column))
    qtbot.keyClicks(editor.table, text[0])
    line = open_cell(editor.table).focusProxy()  # opened by the first key
    qtbot.keyClicks(line, text[1:])
    if finish is None:
        return  # every key commits: the cell holds what is typed while it is edited
    qtbot.keyClick(line, finish)
    qtbot.waitUntil(lambda: editor.table.state() != QAbstractItemView.State.EditingState)


def test_decimals_typed_into_a_cell_are_stored_as_typed(qtbot):
    editor = make_editor(qtbot)
    editor.add_row()
    type_in_cell(qtbot, editor, 0, 2, "120.50")
    assert editor.value()[0]["price"] == Decimal("120.50")
    assert editor.model.data(editor.model.index(0, 2)) == "120.50 元"


def test_a_date_typed_into_a_cell_is_stored_as_typed(qtbot):
    editor = make_editor(qtbot)
    editor.add_row()
    type_in_cell(qtbot, editor, 0, 3, "2024-05-10")
    assert str(editor.value()[0]["used"]) == "2024-05-10"


def test_unreadable_cell_text_is_kept_and_reported_not_stored(qtbot):
    editor = make_editor(qtbot)
    editor.add_row()
    type_in_cell(qtbot, editor, 0, 3, "5/10/2024")
    assert editor.model.data(editor.model.index(0, 3)) == "5/10/2024"  # still what was typed
    assert "row 1, Used on: ambiguous date" in editor.problem()
    editor.table.setCurrentIndex(editor.model.index(0, 3))
    qtbot.keyClick(editor.table, Qt.Key.Key_F2)  # F2 edits what was typed
    line = editor.table.viewport().findChild(FieldEditor).focusProxy()
    assert line.text() == "5/10/2024"
    line.selectAll()
    qtbot.keyClicks(line, "2024-10-05")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.table.state() != QAbstractItemView.State.EditingState)
    assert editor.problem() is None
    assert str(editor.value()[0]["used"]) == "2024-10-05"


def test_a_new_row_gets_the_columns_defaults(qtbot):
    editor = make_editor(qtbot)
    editor.add_row()
    assert editor.model.rows[0]["qty"] == 1
    editor2 = make_editor(qtbot, min_rows=2)
    assert [row["qty"] for row in editor2.model.rows] == [1, 1]


def test_over_long_text_in_a_cell_is_kept_for_the_service_to_name(qtbot):
    spec = SUBTABLE.new_spec(
        "items",
        "Items",
        fields=[{"key": "note", "type": "textarea", "label": "Note", "max_length": 3}],
    )
    editor = create_editor(spec)
    qtbot.addWidget(editor)
    editor.show()
    editor.add_row()
    type_in_cell(qtbot, editor, 0, 0, "abcdef", None)  # Enter is a new line
    assert editor.value() == [{"note": "abcdef"}] and editor.problem() is None
    with pytest.raises(FieldValueError, match="at most 3 characters"):
        SUBTABLE.validate(spec, editor.value())
