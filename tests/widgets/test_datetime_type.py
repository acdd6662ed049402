"""The datetime type (naive local time to the minute) and its editor."""

from __future__ import annotations

import datetime as dt

import pytest

from widgets.base import FieldValueError
from widgets.editors.datetime import DateTimeEditor
from widgets.types.datetime import FIELD_TYPE as DATETIME

MOMENT = dt.datetime(2024, 3, 15, 8, 30)


@pytest.fixture
def spec():
    return DATETIME.new_spec("given", "Given at")


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-15 08:30",
        "2024-03-15T08:30",
        "2024/3/15 8:30",
        "2024年3月15日 8时30分",
        "2024年3月15日8点30分",
        "2024.3.15 08:30:59",
        "20240315 08:30",
        "2024-03-15 上午8:30",
    ],
)
def test_parses_common_forms_to_the_minute(spec, text):
    assert DATETIME.parse(spec, text) == MOMENT


def test_a_date_alone_is_midnight(spec):
    assert DATETIME.parse(spec, "2024-03-15") == dt.datetime(2024, 3, 15)
    assert DATETIME.coerce(spec, dt.date(2024, 3, 15)) == dt.datetime(2024, 3, 15)


def test_aware_values_become_naive_local_time(spec):
    aware = dt.datetime(2024, 3, 15, 0, 30, tzinfo=dt.UTC)
    expected = aware.astimezone().replace(tzinfo=None)
    assert DATETIME.coerce(spec, aware) == expected
    assert DATETIME.parse(spec, "2024-03-15T00:30:00+00:00") == expected


def test_seconds_are_dropped(spec):
    assert DATETIME.coerce(spec, dt.datetime(2024, 3, 15, 8, 30, 59, 5)) == MOMENT


@pytest.mark.parametrize("text", ["2024-03-15 25:00", "08:30", "soon", "2024-03-15 8"])
def test_rejects_with_a_hint(spec, text):
    with pytest.raises(FieldValueError, match="like 2024-03-15 08:30"):
        DATETIME.parse(spec, text)


@pytest.mark.parametrize(
    "cell", [MOMENT, 45366.354166666664, 45366.35416, "2024/3/15 08:30", "2024-03-15 08:30:00"]
)
def test_from_excel(spec, cell):
    assert DATETIME.from_excel(spec, cell) == MOMENT


def test_limits_and_spec_checks():
    spec = DATETIME.new_spec("t", "T", min="2024-01-01T00:00", max="2024-12-31T23:59")
    assert DATETIME.check_spec(spec) == []
    DATETIME.validate(spec, MOMENT)
    with pytest.raises(FieldValueError, match="2024-01-01 00:00 or later"):
        DATETIME.validate(spec, dt.datetime(2023, 12, 31, 23, 59))
    bad = DATETIME.new_spec("t", "T", max="tomorrow")
    assert [p.attribute for p in DATETIME.check_spec(bad)] == ["max"]


def test_json_excel_and_text_forms(spec):
    assert DATETIME.to_json(spec, MOMENT) == "2024-03-15T08:30"
    assert DATETIME.display(spec, MOMENT) == "2024-03-15 08:30"
    assert DATETIME.to_excel(spec, MOMENT) == MOMENT
    assert DATETIME.excel_number_format(spec) == "yyyy-mm-dd hh:mm"
    assert DATETIME.expression_type(spec) == "datetime"


def test_editor_types_a_moment_and_clears(qtbot, spec):
    editor = DateTimeEditor(spec)
    qtbot.addWidget(editor)
    editor.show()
    assert editor.value() is None
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClicks(editor.edit, "202403150830")
    assert editor.value() == MOMENT
    with qtbot.waitSignal(editor.value_changed):
        editor.clear_button.click()
    assert editor.value() is None and editor.edit.text() == ""
    assert editor.edit.placeholderText() == "yyyy-mm-dd hh:mm"


def test_editor_now_button(qtbot, spec):
    editor = DateTimeEditor(spec)
    qtbot.addWidget(editor)
    before = dt.datetime.now().replace(second=0, microsecond=0)
    with qtbot.waitSignal(editor.value_changed):
        editor.start_button.click()
    assert before <= editor.value() <= dt.datetime.now()
