"""Serial numbers: pattern checks, the data engine's helpers and the read-only editor."""

from __future__ import annotations

from datetime import date

import pytest

from widgets.base import FieldValueError
from widgets.editors.base import create_editor
from widgets.registry import default_registry
from widgets.types.serial import format_serial, period_key, serial_number, serial_regex

SERIAL = default_registry.get("serial")


def spec(pattern: str = "EQ-{YYYY}-{seq:4}"):
    return SERIAL.new_spec("no", "No.", pattern=pattern)


def problems(pattern: str) -> list[str]:
    return [p.message for p in SERIAL.check_spec(spec(pattern)) if p.attribute == "pattern"]


def test_default_pattern_is_valid_and_unique():
    palette = SERIAL.new_spec("no", "No.")
    assert SERIAL.check_spec(palette) == []
    assert palette.unique is True


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("EQ-{YYYY}", "exactly one {seq:N}"),
        ("{seq:2}-{seq:3}", "exactly one {seq:N}"),
        ("{seq:0}", "1 to 9"),
        ("{seq:12}", "1 to 9"),
        ("{YYYY}-{HH}-{seq:3}", "unknown token {HH}"),
        ("{YYYY-{seq:3}", "unmatched"),
        ("A}{seq:3}", "unmatched"),
    ],
)
def test_bad_patterns_are_explained(pattern, fragment):
    assert any(fragment in message for message in problems(pattern))


def test_a_default_value_is_refused():
    bad = SERIAL.new_spec("no", "No.", default="EQ-2024-0001")
    assert [p.attribute for p in SERIAL.check_spec(bad)] == ["default"]


def test_format_serial_pads_and_grows():
    when = date(2024, 3, 5)
    assert format_serial("EQ-{YYYY}-{seq:4}", when, 7) == "EQ-2024-0007"
    assert format_serial("{YY}{MM}{DD}/{seq:2}", when, 123) == "240305/123"
    assert format_serial("{seq:3}", when, 1) == "001"


def test_period_key_is_the_date_part_in_the_value():
    when = date(2024, 3, 5)
    assert period_key("EQ-{YYYY}-{seq:4}", when) == "2024"
    assert period_key("{YYYY}{MM}{DD}-{seq:4}", when) == "2024-03-05"
    assert period_key("{MM}-{seq:3}", when) == "03"  # continues across years: no duplicates
    assert period_key("R{seq:5}", when) == ""


def test_serial_regex_parses_the_sequence():
    assert serial_number("EQ-{YYYY}-{seq:4}", "EQ-2024-0137") == 137
    assert serial_number("EQ-{YYYY}-{seq:4}", "EQ-2024-12345") == 12345
    assert serial_number("EQ-{YYYY}-{seq:4}", "EQ-24-0137") is None
    assert serial_number("{YYYY}{MM}-{seq:2}", "202413-01") is None  # month 13
    assert serial_regex("a.b{seq:1}").fullmatch("a.b1")
    assert not serial_regex("a.b{seq:1}").fullmatch("axb1")  # literal dot, not "any"


def test_validate_checks_the_shape():
    SERIAL.validate(spec(), "EQ-2025-0001")
    with pytest.raises(FieldValueError, match="not a serial number like EQ-"):
        SERIAL.validate(spec(), "EQ-2025")


def test_coerce_and_excel():
    digits = spec("{YYYY}{seq:4}")
    assert SERIAL.coerce(digits, 20240001.0) == "20240001"  # calamine reads it as a float
    assert SERIAL.from_excel(digits, 20240001.0) == "20240001"
    assert SERIAL.from_excel(spec(), " EQ-2024-0001 ") == "EQ-2024-0001"
    assert SERIAL.to_excel(spec(), "EQ-2024-0001") == "EQ-2024-0001"
    with pytest.raises(FieldValueError):
        SERIAL.coerce(spec(), True)


def test_describe_shows_an_example():
    assert "EQ-" in SERIAL.describe(spec()) and "assigned on save" in SERIAL.describe(spec())
    assert SERIAL.searchable and SERIAL.sql_type(spec()).length == 64


def test_editor_is_read_only_with_a_placeholder(qtbot):
    editor = create_editor(spec())
    qtbot.addWidget(editor)
    assert editor.line.isReadOnly()
    assert editor.line.placeholderText() == "(assigned on save)"
    with qtbot.assertNotEmitted(editor.value_changed):
        qtbot.keyClicks(editor.line, "123")
        editor.set_value("EQ-2024-0009")
    assert editor.line.text() == "EQ-2024-0009"
    assert editor.value() == "EQ-2024-0009"
