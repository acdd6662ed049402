"""Thousands separators: only where they help reading (issue #11 §2: "2,021").

Rule: whole numbers (``decimals`` 0: years, counts, codes, ages) are shown without a
separator; numbers with decimals (amounts, doses) are grouped. Typing either form back
gives the same value.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from widgets.registry import default_registry

NUMBER = default_registry.get("number")
FORMULA = default_registry.get("formula")


@pytest.mark.parametrize(
    ("attributes", "value", "shown"),
    [
        ({"decimals": 0}, 2021, "2021"),
        ({"decimals": 0}, 1234567, "1234567"),
        ({"decimals": 0}, -3, "-3"),
        ({"decimals": 0, "unit": "元"}, 12000, "12000 元"),
        ({"decimals": 2}, Decimal("1234.50"), "1,234.50"),
        ({"decimals": 2, "unit": "元"}, Decimal("120.50"), "120.50 元"),
    ],
)
def test_number_display(attributes, value, shown):
    spec = NUMBER.new_spec("n", "N", **attributes)
    assert NUMBER.display(spec, value) == shown
    assert NUMBER.parse(spec, shown) == value


@pytest.mark.parametrize(
    ("decimals", "value", "shown"),
    [(0, 2021, "2021"), (0, 10000, "10000"), (2, Decimal("2021.00"), "2,021.00")],
)
def test_formula_display(decimals, value, shown):
    spec = FORMULA.new_spec("f", "F", expression="YEAR(TODAY())", decimals=decimals)
    assert FORMULA.display(spec, value) == shown
    assert FORMULA.parse(spec, shown) == value
