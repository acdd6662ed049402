"""The time type (to the minute) and its editor, including midnight."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from widgets.base import FieldValueError
from widgets.editors.time import TimeEditor
from widgets.types.time import FIELD_TYPE as TIME


@pytest.fixture
def spec():
    return TIME.new_spec("dose", "Dose time")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:30", dt.time(8, 30)),
        ("8:30", dt.time(8, 30)),
        ("8时30分", dt.time(8, 30)),
        ("8：30", dt.time(8, 30)),
        ("下午2点", dt.time(14, 0)),
        ("0:00", dt.time(0, 0)),
        ("23:59:30", dt.time(23, 59)),
    ],
)
def test_parses(spec, text, expected):
    assert TIME.parse(spec, text) == expected


@pytest.mark.parametrize("text", ["24:00", "8:60", "830", "noon"])
def test_rejects(spec, text):
    with pytest.raises(FieldValueError, match="like 08:30"):
        TIME.parse(spec, text)


@pytest.mark.parametrize(
    "cell",
    [
        dt.time(8, 30),  # openpyxl and calamine for an hh:mm cell
        dt.time(8, 30, 12),
        0.3541666666666667,  # a fraction of a day
        45366.354166666664,  # a full serial: the date part is dropped
        dt.datetime(1899, 12, 30, 8, 30),
        dt.timedelta(hours=8, minutes=30),  # calamine durations
        "8:30",
    ],
)
def test_from_excel(spec, cell):
    assert TIME.from_excel(spec, cell) == dt.time(8, 30)


def test_from_excel_refuses_long_durations(spec):
    with pytest.raises(FieldValueError):
        TIME.from_excel(spec, dt.timedelta(hours=30))


def test_limits():
    spec = TIME.new_spec("t", "T", min="07:00", max="19:00")
    TIME.validate(spec, dt.time(7, 0))
    with pytest.raises(FieldValueError, match="07:00 or later"):
        TIME.validate(spec, dt.time(6, 59))
    assert TIME.check_spec(TIME.new_spec("t", "T", min="19:00", max="07:00"))


def test_forms(spec):
    assert TIME.to_json(spec, dt.time(8, 5)) == "08:05"
    assert TIME.from_json(spec, "08:05") == dt.time(8, 5)
    assert TIME.display(spec, dt.time(8, 5)) == "08:05"
    assert TIME.excel_number_format(spec) == "hh:mm"
    assert TIME.expression_type(spec) == "time"


@pytest.fixture
def editor(qtbot, spec):
    widget = TimeEditor(spec)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_editor_midnight_is_a_value_not_empty(editor, qtbot):
    editor.set_value(dt.time(0, 0))
    assert editor.edit.text() == "00:00" and editor.value() == dt.time(0, 0)
    editor.set_value(None)
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClicks(editor.edit, "0000")
    assert editor.value() == dt.time(0, 0)


def test_editor_typing_and_backspace_on_all_text(editor, qtbot):
    qtbot.keyClicks(editor.edit, "1745")
    assert editor.value() == dt.time(17, 45)
    editor.edit.selectAll()
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(editor.edit, Qt.Key.Key_Backspace)
    assert editor.value() is None


def test_editor_arrow_starts_from_now(editor, qtbot):
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(editor.edit, Qt.Key.Key_Up)
    assert editor.value() is not None
