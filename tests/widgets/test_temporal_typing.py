"""Issue #11 §2: what is typed into a date, time or datetime editor is what is stored.

Every editor accepts its placeholder's own format and the common hospital inputs,
and refuses anything else with a message — never another value.
"""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView

from widgets.base import FieldValueError
from widgets.editors.base import create_editor
from widgets.registry import default_registry
from widgets.types.date import parse_date_text, parse_datetime_text, parse_time_text

DATE = default_registry.get("date")
TIME = default_registry.get("time")
DATETIME = default_registry.get("datetime")


@pytest.mark.parametrize(
    "text",
    ["2024-05-10", "2024/5/10", "20240510", "2024.5.10", "2024年5月10日", "5/10/2024"],
)
def test_date_parser_reads_hospital_inputs(text):
    if text == "5/10/2024":  # month and day both <= 12: ambiguous, refused
        with pytest.raises(FieldValueError, match="ambiguous"):
            parse_date_text(text)
    else:
        assert parse_date_text(text) == dt.date(2024, 5, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13/5/2024", dt.date(2024, 5, 13)),
        ("5/13/2024", dt.date(2024, 5, 13)),
        ("13.5.2024", dt.date(2024, 5, 13)),
        ("7/7/2024", dt.date(2024, 7, 7)),  # the same either way
    ],
)
def test_date_parser_reads_day_month_orders_only_when_unambiguous(text, expected):
    assert parse_date_text(text) == expected


@pytest.mark.parametrize("text", ["5/10/2024", "01/02/2024"])
def test_date_parser_refuses_ambiguous_orders(text):
    with pytest.raises(FieldValueError, match="ambiguous"):
        parse_date_text(text)


@pytest.mark.parametrize(
    "text", ["2024-05-1O", "2024-5", "24-5-10", "2024-02-30", "13/13/2024", "tomorrow", "2024"]
)
def test_date_parser_refuses_other_text(text):
    with pytest.raises(FieldValueError):
        parse_date_text(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0730", dt.time(7, 30)),
        ("7:30", dt.time(7, 30)),
        ("07:30", dt.time(7, 30)),
        ("2359", dt.time(23, 59)),
        ("0000", dt.time(0, 0)),
    ],
)
def test_time_parser_reads_hospital_inputs(text, expected):
    assert parse_time_text(text) == expected


@pytest.mark.parametrize("text", ["2400", "0760", "7:3O", "730pm5", "07:30:99", "1"])
def test_time_parser_refuses_other_text(text):
    with pytest.raises(FieldValueError):
        parse_time_text(text)


@pytest.mark.parametrize(
    "text",
    ["2024-05-10 07:30", "2024/5/10 7:30", "20240510 0730", "2024.5.10 07:30", "202405100730"],
)
def test_datetime_parser_reads_date_plus_time(text):
    assert parse_datetime_text(text) == dt.datetime(2024, 5, 10, 7, 30)


def test_datetime_parser_refuses_ambiguous_dates():
    with pytest.raises(FieldValueError, match="ambiguous"):
        parse_datetime_text("5/10/2024 07:30")


# -- editors: real key events ------------------------------------------------------


def _editor(qtbot, type_name, **attributes):
    field_type = default_registry.get(type_name)
    editor = create_editor(field_type.new_spec("when", "When", **attributes))
    qtbot.addWidget(editor)
    editor.show()
    return editor


def _type(qtbot, editor, text):
    line = editor.focusProxy()
    line.setFocus()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


@pytest.mark.parametrize(
    ("type_name", "text", "expected"),
    [
        ("date", "2024-05-10", dt.date(2024, 5, 10)),
        ("date", "2024/5/10", dt.date(2024, 5, 10)),
        ("date", "20240510", dt.date(2024, 5, 10)),
        ("date", "2024.5.10", dt.date(2024, 5, 10)),
        ("date", "13/5/2024", dt.date(2024, 5, 13)),
        ("time", "0730", dt.time(7, 30)),
        ("time", "7:30", dt.time(7, 30)),
        ("time", "07:30", dt.time(7, 30)),
        ("datetime", "2024-05-10 07:30", dt.datetime(2024, 5, 10, 7, 30)),
        ("datetime", "20240510 0730", dt.datetime(2024, 5, 10, 7, 30)),
    ],
)
def test_editor_stores_what_is_typed(qtbot, type_name, text, expected):
    editor = _editor(qtbot, type_name)
    _type(qtbot, editor, text)
    assert editor.value() == expected
    assert editor.problem() is None


@pytest.mark.parametrize(
    ("type_name", "text"),
    [
        ("date", "5/10/2024"),
        ("date", "2024-13-01"),
        ("date", "10 May"),
        ("time", "25:00"),
        ("time", "7.3O"),
        ("datetime", "2024-05-10 25:00"),
        ("datetime", "5/10/2024 07:30"),
        ("datetime", "2024-05-10"),  # a day without a time is not a moment
    ],
)
def test_editor_refuses_other_text_with_a_message(qtbot, type_name, text):
    editor = _editor(qtbot, type_name)
    _type(qtbot, editor, text)
    assert editor.value() is None
    assert editor.problem()


def test_time_below_the_minimum_is_refused_not_wrapped(qtbot):
    editor = _editor(qtbot, "time", min="08:00")
    _type(qtbot, editor, "0730")
    assert editor.value() in (None, dt.time(7, 30))  # never 17:30
    assert "08:00 or later" in editor.problem()


def test_date_outside_the_limits_is_refused_not_clamped(qtbot):
    editor = _editor(qtbot, "date", min="2020-01-01", max="2030-12-31")
    _type(qtbot, editor, "2031-01-01")
    assert editor.value() in (None, dt.date(2031, 1, 1))
    assert "2030-12-31 or earlier" in editor.problem()


def test_text_is_rewritten_in_the_display_format_when_leaving(qtbot):
    editor = _editor(qtbot, "date")
    _type(qtbot, editor, "20240510")
    assert editor.edit.text() == "2024-05-10"


def test_unreadable_text_stays_as_typed(qtbot):
    editor = _editor(qtbot, "date")
    _type(qtbot, editor, "2024-13-01")
    assert editor.edit.text() == "2024-13-01"  # not replaced, so the user can correct it
    qtbot.keyClick(editor.edit, Qt.Key.Key_Up)  # no stepping from unreadable text
    assert editor.edit.text() == "2024-13-01"


def test_arrows_step_by_a_day_and_stop_at_the_limits(qtbot):
    editor = _editor(qtbot, "date", max="2024-05-11")
    editor.set_value(dt.date(2024, 5, 10))
    editor.edit.setFocus()
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(editor.edit, Qt.Key.Key_Up)
    assert editor.value() == dt.date(2024, 5, 11)
    qtbot.keyClick(editor.edit, Qt.Key.Key_Up)
    assert editor.value() == dt.date(2024, 5, 11)
    qtbot.keyClick(editor.edit, Qt.Key.Key_Down)
    assert editor.value() == dt.date(2024, 5, 10)


def test_time_arrows_do_not_wrap_past_midnight(qtbot):
    editor = _editor(qtbot, "time")
    editor.set_value(dt.time(23, 59))
    qtbot.keyClick(editor.edit, Qt.Key.Key_Up)
    assert editor.value() == dt.time(23, 59)


def test_calendar_popup_picks_a_day(qtbot):
    editor = _editor(qtbot, "date")
    editor.set_value(dt.date(2024, 5, 10))
    qtbot.keyClick(editor.edit, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    calendar = editor.calendar
    assert calendar is not None and calendar.isVisible()
    assert calendar.selectedDate().toPython() == dt.date(2024, 5, 10)
    grid = calendar.findChild(QTableView)
    qtbot.keyClick(grid, Qt.Key.Key_Right)  # the next day, by keyboard
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert editor.value() == dt.date(2024, 5, 11)
    assert not calendar.isVisible()


def test_datetime_calendar_keeps_the_time(qtbot):
    editor = _editor(qtbot, "datetime")
    editor.set_value(dt.datetime(2024, 5, 10, 7, 30))
    editor.calendar_button.click()
    grid = editor.calendar.findChild(QTableView)
    qtbot.keyClick(grid, Qt.Key.Key_Left)
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert editor.value() == dt.datetime(2024, 5, 9, 7, 30)
    assert editor.edit.selectedText() == "07:30"  # ready to type the time over


def test_time_editor_has_no_calendar(qtbot):
    editor = _editor(qtbot, "time")
    assert editor.calendar_button is None
    qtbot.keyClick(editor.edit, Qt.Key.Key_F4)
    assert editor.calendar is None


def test_read_only_hides_every_button(qtbot):
    editor = _editor(qtbot, "date")
    editor.set_value(dt.date(2024, 5, 10))
    editor.set_read_only(True)
    qtbot.keyClick(editor.edit, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(editor.edit, Qt.Key.Key_Up)
    assert editor.value() == dt.date(2024, 5, 10)
    assert not any(b.isVisible() for b in (editor.calendar_button, editor.start_button))


def test_a_stored_value_outside_the_limits_is_not_a_problem(qtbot):
    editor = _editor(qtbot, "date", min="2020-01-01")
    editor.set_value(dt.date(2015, 6, 1))
    assert editor.value() == dt.date(2015, 6, 1) and editor.problem() is None
