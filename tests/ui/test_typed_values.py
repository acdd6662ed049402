"""Issue #11 §2 in the runtime's forms: what is typed is what is stored, or nothing is.

Real key events into the record window's editors; the saved record is read back
from the workspace.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from PySide6.QtCore import Qt

from runtime.spec.models import FormSpec
from runtime.ui.form_view import RecordFormView
from runtime.ui.record_window import RecordWindow
from widgets.editors.base import FieldEditor


def open_cell(table) -> FieldEditor:
    """The cell editor open in a table (closed ones are hidden until deleted)."""
    (editor,) = [e for e in table.viewport().findChildren(FieldEditor) if e.isVisible()]
    return editor


def type_into(qtbot, editor, text: str) -> None:
    """Focus the editor, type, and leave it with Tab as a user would."""
    target = editor.focusProxy() or editor
    editor.window().activateWindow()
    target.setFocus()
    qtbot.waitUntil(target.hasFocus)
    qtbot.keyClicks(target, text)
    qtbot.keyClick(target, Qt.Key.Key_Tab)


def open_device(qtbot, services, icu) -> RecordWindow:
    window = RecordWindow(services, services.form("device"))
    qtbot.addWidget(window)
    window.show()
    cells = window.view.cells
    for key, value in {"asset_no": "EQ-0001", "name": "输液泵", "owner_dept": icu}.items():
        cells[key].editor.set_value(value)
        cells[key].editor.value_changed.emit()
    return window


def test_a_date_typed_in_the_placeholder_format_is_stored_as_typed(qtbot, repair, icu):
    window = open_device(qtbot, repair, icu)
    type_into(qtbot, window.view.cells["purchased"].editor, "2024-05-10")
    type_into(qtbot, window.view.cells["price"].editor, "120.50")
    assert window.save()
    stored = repair.records.get("device", window.record.id).values
    assert stored["purchased"] == dt.date(2024, 5, 10)
    assert stored["price"] == Decimal("120.50")


def test_unreadable_date_is_refused_with_a_message_and_nothing_saved(qtbot, repair, icu):
    window = open_device(qtbot, repair, icu)
    type_into(qtbot, window.view.cells["purchased"].editor, "5/10/2024")
    assert "ambiguous" in window.view.error_text("purchased")  # shown on leaving the field
    assert not window.save()
    assert "ambiguous" in window.view.error_text("purchased")
    assert window.banner.isVisible()
    assert repair.records.count("device") == 0
    window.view.mark_clean()


def test_unreadable_number_is_refused_not_saved_empty(qtbot, repair, icu):
    window = open_device(qtbot, repair, icu)
    type_into(qtbot, window.view.cells["price"].editor, "-")
    assert not window.save()
    assert window.view.error_text("price")
    assert repair.records.count("device") == 0
    window.view.mark_clean()


def test_a_time_below_the_minimum_gets_a_message_never_another_time(qtbot):
    form = FormSpec.model_validate(
        {
            "key": "dose",
            "title": "Dose",
            "fields": [{"key": "at", "type": "time", "label": "At", "min": "08:00"}],
        }
    )
    view = RecordFormView(form)
    qtbot.addWidget(view)
    view.show()
    type_into(qtbot, view.cells["at"].editor, "0730")
    assert view.values()["at"] in (None, dt.time(7, 30))
    assert view.error_text("at") == "must be 08:00 or later"
    assert view.typing_problems() == {"at": "must be 08:00 or later"}
    view.cells["at"].editor.set_value(None)
    type_into(qtbot, view.cells["at"].editor, "0830")
    assert view.values()["at"] == dt.time(8, 30) and view.typing_problems() == {}


def test_subtable_rows_get_defaults_and_live_subtotals(qtbot, repair):
    window = RecordWindow(repair, repair.form("request"))
    qtbot.addWidget(window)
    window.show()
    try:
        check_live_subtotals(qtbot, window)
    finally:
        window.view.mark_clean()


def check_live_subtotals(qtbot, window) -> None:
    parts = window.view.cells["parts"].editor
    parts.add_row()
    assert parts.model.rows[0]["qty"] == 1  # the column's default
    for column, text in ((0, "Valve"), (2, "120.50")):
        parts.table.setFocus()
        parts.table.setCurrentIndex(parts.model.index(0, column))
        qtbot.keyClicks(parts.table, text[0])
        line = open_cell(parts.table).focusProxy()  # opened by the first key
        qtbot.keyClicks(line, text[1:])
        qtbot.keyClick(line, Qt.Key.Key_Return)
    subtotal = parts.model.index(0, 3)
    qtbot.waitUntil(lambda: parts.model.data(subtotal) == "120.50")  # before any save
    assert parts.model.rows[0]["unit_price"] == Decimal("120.50")
    qtbot.waitUntil(lambda: window.view.values()["total_cost"] == Decimal("120.50"))
    assert not parts.model.flags(subtotal) & Qt.ItemFlag.ItemIsEditable
    parts.table.setCurrentIndex(parts.model.index(0, 1))
    qtbot.keyClicks(parts.table, "3")
    qtbot.keyClick(open_cell(parts.table).focusProxy(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: parts.model.data(subtotal) == "361.50")


def test_an_unreadable_subtable_cell_blocks_the_save_with_its_row_and_column(qtbot, repair):
    window = RecordWindow(repair, repair.form("request"))
    qtbot.addWidget(window)
    window.show()
    try:
        parts = window.view.cells["parts"].editor
        parts.add_row()
        parts.table.setFocus()
        parts.table.setCurrentIndex(parts.model.index(0, 2))
        qtbot.keyClicks(parts.table, "-")  # not (yet) a number
        qtbot.keyClick(open_cell(parts.table).focusProxy(), Qt.Key.Key_Return)
        assert parts.model.data(parts.model.index(0, 2)) == "-"
        assert not window.save()
        assert window.view.error_text("parts") == "row 1, 单价: please enter a number"
        assert repair.records.count("request") == 0
    finally:
        window.view.mark_clean()
