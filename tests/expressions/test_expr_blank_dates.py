"""A blank date gives a blank result, not day zero (issue #11 §2: an age of 2,026).

A blank number still counts as 0 (Excel: ``qty * price`` with no qty is 0); but the
year of a blank date, the days since it, and a blank date in date arithmetic are
unknown, and anything computed from them is blank.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from runtime.expressions import evaluate, parse

TODAY = dt.date(2026, 3, 15)
TYPES = {"birth": "date", "seen": "datetime", "qty": "number", "at": "time"}


def run(text: str, **values):
    return evaluate(parse(text), values, today=TODAY, types=TYPES)


@pytest.mark.parametrize(
    "text",
    [
        "YEAR(TODAY()) - YEAR(birth)",
        "YEAR(birth) + 0",
        "-YEAR(birth)",
        "ROUND(DAYS(TODAY(), birth) / 365, 0)",
        "DAYS(TODAY(), birth) * 1",
        "MONTH(birth) * 2",
        "TODAY() - birth",
        "(TODAY() - birth) / 365",
        "birth + 30",
        "seen + 1",
        "IF(qty > 0, YEAR(TODAY()) - YEAR(birth), 0)",
    ],
)
def test_results_from_a_blank_date_are_blank(text):
    assert run(text, birth=None, seen=None, qty=1) is None


def test_the_same_formulas_with_dates_have_values():
    assert run("YEAR(TODAY()) - YEAR(birth)", birth=dt.date(1990, 6, 1)) == 36
    assert run("TODAY() - birth", birth=dt.date(2026, 3, 1)) == 14
    assert run("birth + 30", birth=dt.date(2026, 3, 1)) == dt.date(2026, 3, 31)


def test_blank_numbers_still_count_as_zero():
    assert run("qty * 2 + 1", qty=None) == 1
    assert run("TODAY() + qty", qty=None) == TODAY


def test_blank_date_results_read_as_blank_elsewhere():
    assert run("ISBLANK(YEAR(birth))", birth=None) is True
    assert run('"age " & (YEAR(TODAY()) - YEAR(birth))', birth=None) == "age "
    assert run("YEAR(birth) > 5", birth=None) is False
    assert run("SUM(YEAR(birth), 2)", birth=None) == Decimal(2)
    assert run("IF(ISBLANK(birth), 0, YEAR(birth))", birth=None) == 0


def test_without_types_a_blank_field_is_still_blank_in_date_functions():
    assert evaluate(parse("YEAR(TODAY()) - YEAR(b)"), {"b": None}, today=TODAY) is None
