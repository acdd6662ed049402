"""Out-of-range and non-finite numbers are a field message, never a decimal exception."""

from __future__ import annotations

from decimal import Decimal

import pytest

from widgets.base import FieldValueError
from widgets.types.formula import FIELD_TYPE as FORMULA
from widgets.types.number import FIELD_TYPE as NUMBER

HOSTILE = [
    "1e308",
    "-1e308",
    "NaN",
    "-nan",
    "sNaN",
    "inf",
    "-Infinity",
    "1" * 40,
    "-" + "9" * 40,
    "1e999999999",
    "-1e999999999",
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    10**40,
    Decimal("1e308"),
    Decimal("NaN"),
]


@pytest.mark.parametrize("decimals", [0, 2, 6])
@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_hostile_numbers_are_field_messages(decimals, value):
    spec = NUMBER.new_spec("price", "Price", decimals=decimals)
    with pytest.raises(FieldValueError):
        NUMBER.validate(spec, NUMBER.coerce(spec, value))
    with pytest.raises(FieldValueError):
        NUMBER.cell_checker(spec)(value)


@pytest.mark.parametrize("decimals", [0, 2, 6])
@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_hostile_formula_results_are_field_messages(decimals, value):
    spec = FORMULA.new_spec("total", "Total", expression="1", decimals=decimals)
    with pytest.raises(FieldValueError):
        FORMULA.coerce(spec, value)


@pytest.mark.parametrize(("decimals", "stored"), [(2, Decimal("0.00")), (6, Decimal("0E-6"))])
def test_tiny_numbers_round_to_zero(decimals, stored):
    spec = NUMBER.new_spec("price", "Price", decimals=decimals)
    assert NUMBER.coerce(spec, "1e-400") == stored
    assert NUMBER.cell_checker(spec)("1e-400") == stored


def test_tiny_number_in_a_whole_number_field_is_refused():
    spec = NUMBER.new_spec("count", "Count", decimals=0)
    with pytest.raises(FieldValueError, match="whole number"):
        NUMBER.coerce(spec, "1e-400")


def test_largest_allowed_number_still_fits():
    spec = NUMBER.new_spec("price", "Price", decimals=6)
    value = NUMBER.coerce(spec, "999999999999999.999999")
    NUMBER.validate(spec, value)
    assert value == Decimal("999999999999999.999999")
