"""Formulas: values by result kind and the read-only editor."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from widgets.base import FieldValueError
from widgets.editors.base import create_editor
from widgets.registry import default_registry

FORMULA = default_registry.get("formula")


def spec(result="number", **attributes):
    attributes = {"expression": "qty * price"} | attributes
    return FORMULA.new_spec("total", "Total", result=result, **attributes)


def test_spec_checks_and_expressions():
    assert FORMULA.computed
    assert {p.attribute: p.message for p in FORMULA.check_spec(FORMULA.new_spec("t", "T"))} == {
        "expression": "enter the formula"
    }
    assert FORMULA.expressions(spec("date")) == {"expression": "date"}
    assert FORMULA.expression_type(spec("boolean")) == "boolean"
    with pytest.raises(Exception, match="decimals"):
        spec(decimals=7)
    with pytest.raises(Exception, match="result"):
        spec("list")


def test_number_results():
    assert FORMULA.coerce(spec(), 2.675) == Decimal("2.68")  # via repr, then half up
    assert FORMULA.coerce(spec(decimals=0), 12.0) == 12
    assert FORMULA.display(spec(), Decimal("1234.5")) == "1,234.50"
    assert FORMULA.parse(spec(), "1,234.50") == Decimal("1234.50")
    assert FORMULA.from_excel(spec(), 1234.5) == Decimal("1234.50")
    assert FORMULA.excel_number_format(spec()) == "0.00"
    assert FORMULA.to_json(spec(), Decimal("1.50")) == "1.50"
    assert type(FORMULA.sql_type(spec(decimals=0))).__name__ == "BigInteger"
    assert type(FORMULA.sql_type(spec())).__name__ == "ScaledDecimal"
    with pytest.raises(FieldValueError):
        FORMULA.coerce(spec(), "abc")


def test_date_results_from_both_excel_readers():
    day = date(2024, 3, 15)
    assert FORMULA.from_excel(spec("date"), day) == day  # openpyxl
    assert FORMULA.from_excel(spec("date"), datetime(2024, 3, 15, 0, 0)) == day
    assert FORMULA.from_excel(spec("date"), 45366.0) == day  # calamine serial number
    assert FORMULA.parse(spec("date"), "2024/3/15") == day
    assert FORMULA.parse(spec("date"), "2024年3月15日") == day
    assert FORMULA.to_json(spec("date"), day) == "2024-03-15"
    assert FORMULA.excel_number_format(spec("date")) == "yyyy-mm-dd"
    with pytest.raises(FieldValueError, match="not a date"):
        FORMULA.parse(spec("date"), "2024-02-30")


def test_boolean_and_text_results():
    assert FORMULA.from_excel(spec("boolean"), True) is True
    assert FORMULA.from_excel(spec("boolean"), 0.0) is False
    assert FORMULA.parse(spec("boolean"), "是") is True
    assert FORMULA.display(spec("boolean"), False) == "No"
    assert FORMULA.coerce(spec("text"), 12.0) == "12"
    assert FORMULA.coerce(spec("text"), "  ") is None
    assert FORMULA.to_excel(spec("text"), "急") == "急"


def test_editor_shows_the_formatted_value(qtbot):
    editor = create_editor(spec())
    qtbot.addWidget(editor)
    assert editor.line.isReadOnly()
    assert "qty * price" in editor.line.toolTip()
    with qtbot.assertNotEmitted(editor.value_changed):
        editor.set_value(Decimal("1234.50"))
        qtbot.keyClicks(editor.line, "9")
    assert editor.line.text() == "1,234.50"
    assert editor.value() == Decimal("1234.50")
    editor.set_value(None)
    assert editor.line.text() == "" and editor.line.placeholderText() == "(computed)"
