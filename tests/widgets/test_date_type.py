"""The date type: parse formats, limits, Excel cells; and its editor."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from widgets.base import FieldValueError
from widgets.editors.date import DateEditor
from widgets.registry import default_registry
from widgets.types.date import FIELD_TYPE as DATE
from widgets.types.date import parse_time_text


@pytest.fixture
def spec():
    return DATE.new_spec("seen", "Seen on", min="2020-01-01", max="2030-12-31")


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-15",
        "2024/3/15",
        "2024.3.15",
        "2024年3月15日",
        "20240315",
        " 2024-3-15 ",
        "２０２４年３月１５日",
        "2024年03月15号",
    ],
)
def test_parses_common_forms(spec, text):
    assert DATE.parse(spec, text) == dt.date(2024, 3, 15)


@pytest.mark.parametrize("text", ["2024-02-30", "15/3/24", "yesterday", "2024-13-01", "2024"])
def test_rejects_unreadable_dates_with_a_hint(spec, text):
    with pytest.raises(FieldValueError, match="like 2024-03-15"):
        DATE.parse(spec, text)


def test_limits(spec):
    DATE.validate(spec, dt.date(2020, 1, 1))
    with pytest.raises(FieldValueError, match="2020-01-01 or later"):
        DATE.validate(spec, dt.date(2019, 12, 31))
    with pytest.raises(FieldValueError, match="2030-12-31 or earlier"):
        DATE.validate(spec, dt.date(2031, 1, 1))


def test_check_spec_wants_iso_limits_in_order():
    bad = DATE.new_spec("d", "D", min="2024/1/1")
    assert [p.attribute for p in DATE.check_spec(bad)] == ["min"]
    reversed_ = DATE.new_spec("d", "D", min="2025-01-01", max="2024-01-01")
    assert "later than the maximum" in DATE.check_spec(reversed_)[0].message
    outside = DATE.new_spec("d", "D", min="2025-01-01", default="2024-06-01")
    assert [p.attribute for p in DATE.check_spec(outside)] == ["default"]
    assert DATE.check_spec(DATE.new_spec("d", "D", default="2024年6月1日")) == []


@pytest.mark.parametrize(
    "cell",
    [
        dt.datetime(2024, 3, 15),  # openpyxl reads a date cell as a datetime
        dt.date(2024, 3, 15),  # calamine
        45366.0,  # a serial number (calamine, or a cell without a date format)
        45366,
        "2024/3/15",
    ],
)
def test_from_excel_accepts_reader_values(spec, cell):
    assert DATE.from_excel(spec, cell) == dt.date(2024, 3, 15)


def test_excel_serials_of_the_1900_system(spec):
    assert DATE.from_excel(spec, 1.0) == dt.date(1900, 1, 1)
    assert DATE.from_excel(spec, 59.0) == dt.date(1900, 2, 28)
    assert DATE.from_excel(spec, 61.0) == dt.date(1900, 3, 1)
    with pytest.raises(FieldValueError):
        DATE.from_excel(spec, -5.0)


def test_excel_cell_is_a_date_with_format(spec):
    assert DATE.to_excel(spec, dt.date(2024, 3, 15)) == dt.date(2024, 3, 15)
    assert DATE.excel_number_format(spec) == "yyyy-mm-dd"


def test_other_values_are_refused(spec):
    with pytest.raises(FieldValueError):
        DATE.coerce(spec, True)
    with pytest.raises(FieldValueError):
        DATE.coerce(spec, dt.time(8, 0))
    assert DATE.coerce(spec, "") is None


def test_json_and_expression_type(spec):
    assert DATE.to_json(spec, dt.date(2024, 3, 5)) == "2024-03-05"
    assert DATE.expression_type(spec) == "date"
    assert "2024-03-15" in DATE.describe(spec) and "2020-01-01" in DATE.describe(spec)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8:30", dt.time(8, 30)),
        ("8时30分", dt.time(8, 30)),
        ("下午3点半", dt.time(15, 30)),
        ("12:05 AM", dt.time(0, 5)),
        ("8点", dt.time(8, 0)),
    ],
)
def test_shared_time_parser(text, expected):
    assert parse_time_text(text) == expected


# -- editor ----------------------------------------------------------------------


@pytest.fixture
def editor(qtbot, spec):
    widget = DateEditor(spec)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_editor_starts_empty_and_shows_a_placeholder(editor):
    assert editor.value() is None and editor.problem() is None
    assert editor.edit.text() == "" and editor.edit.placeholderText() == "yyyy-mm-dd"


def test_editor_typing_from_empty(editor, qtbot):
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClicks(editor.edit, "20240315")
    assert editor.value() == dt.date(2024, 3, 15)


def test_editor_value_at_the_minimum_is_shown_not_blank(editor):
    editor.set_value(dt.date(2020, 1, 1))
    assert editor.edit.text() == "2020-01-01"
    assert editor.value() == dt.date(2020, 1, 1)


def test_editor_clear_button_and_keys(editor, qtbot):
    editor.set_value(dt.date(2024, 3, 15))
    with qtbot.waitSignal(editor.value_changed):
        editor.clear_button.click()
    assert editor.value() is None
    editor.set_value(dt.date(2024, 3, 15))
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(editor.edit, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    assert editor.value() is None


def test_editor_today_button(editor, qtbot):
    with qtbot.waitSignal(editor.value_changed):
        editor.start_button.click()
    assert editor.value() == min(dt.date.today(), dt.date(2030, 12, 31))


def test_editor_set_value_is_silent(editor, qtbot):
    with qtbot.assertNotEmitted(editor.value_changed):
        editor.set_value(dt.date(2024, 3, 15))
        editor.set_value(None)


def test_editor_read_only_refuses_edits(editor, qtbot):
    editor.set_read_only(True)
    qtbot.keyClicks(editor.edit, "2024")
    editor.clear()
    assert editor.value() is None
    assert not editor.clear_button.isVisible()


def test_editor_keeps_a_stored_value_outside_the_limits(editor):
    editor.set_value(dt.date(2015, 6, 1))  # the limits were tightened after it was saved
    assert editor.value() == dt.date(2015, 6, 1)


@pytest.mark.parametrize(
    ("type_name", "value", "shown"),
    [
        ("date", dt.date(2024, 3, 5), "2024-03-05"),
        ("datetime", dt.datetime(2024, 3, 5, 8, 30), "2024-03-05 08:30"),
        ("time", dt.time(8, 5), "08:05"),
        ("date", dt.datetime(2024, 3, 5, 8, 30), "2024-03-05"),  # not canonical: strftime
        ("datetime", dt.datetime(2024, 3, 5, 8, 30, tzinfo=dt.UTC), "2024-03-05 08:30"),
    ],
)
def test_display_is_the_display_format_by_the_fast_path_or_not(type_name, value, shown):
    field_type = default_registry.get(type_name)
    spec = field_type.spec_model(key="when", type=type_name, label="When")
    assert field_type.display(spec, value) == shown == value.strftime(field_type.display_format)
