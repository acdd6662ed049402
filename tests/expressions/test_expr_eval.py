"""Evaluation: every function, blanks, dates, Decimal exactness, subtables, limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from runtime.expressions import ExpressionError, evaluate, parse

TODAY = dt.date(2024, 3, 15)
NOW = dt.datetime(2024, 3, 15, 9, 30)
ITEMS = [
    {"cost": Decimal("1.10"), "qty": 2, "name": "gauze", "when": dt.date(2024, 1, 5)},
    {"cost": Decimal("2.20"), "qty": None, "name": "", "when": dt.date(2023, 12, 1)},
    {"cost": None, "qty": 3, "name": "tape"},
]
VALUES: dict[str, Any] = {
    "qty": 2,
    "price": Decimal("1.50"),
    "blank": None,
    "name": "Ann",
    "empty": "",
    "born": dt.date(1990, 6, 1),
    "admitted": dt.date(2024, 3, 1),
    "seen": dt.datetime(2024, 3, 14, 21, 30),
    "at": dt.time(8, 15),
    "tags": ["red", "blue"],
    "none_tags": [],
    "flag": True,
    "items": ITEMS,
    "no_rows": [],
}


def run(text: str, **extra: Any) -> Any:
    return evaluate(parse(text), {**VALUES, **extra}, today=TODAY, now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.1 + 0.2 = 0.3", True),
        ("0.1 + 0.2", Decimal("0.3")),
        ("qty * price", Decimal("3.00")),
        ("price * 3 - 0.5", Decimal("4.00")),
        ("10 / 4", Decimal("2.5")),
        ("1 / 3 * 3", Decimal("0.9999999999999999999999999999")),
        ("qty + qty", 4),
        ("qty - 5", Decimal(-3)),
        ("-qty", -2),
    ],
)
def test_arithmetic_is_exact(text: str, expected: Any) -> None:
    assert run(text) == expected


def test_ints_stay_ints() -> None:
    assert type(run("a + b", a=2, b=3)) is int
    assert type(run("a * b - a", a=2, b=3)) is int
    assert type(run("a / b", a=6, b=3)) is Decimal


def test_floats_from_values_become_decimals() -> None:
    assert run("x + 0.2", x=0.1) == Decimal("0.3")


def test_division_by_zero() -> None:
    with pytest.raises(ExpressionError, match="division by zero") as info:
        run("1 / (qty - 2)")
    assert info.value.position == 2
    with pytest.raises(ExpressionError, match="division by zero"):
        run("1 / blank")


def test_number_cap_on_results() -> None:
    with pytest.raises(ExpressionError, match="number too large"):
        run("999999999999999 * 999999999999999")
    with pytest.raises(ExpressionError, match="number too large"):
        run("x + 1", x=10**20)


def test_blanks_in_arithmetic_and_text() -> None:
    assert run("blank + 1") == 1
    assert run("blank * 5") == 0
    assert run("-blank") == 0
    assert run('"x" & blank & "y"') == "xy"
    assert run("missing + 1") == 1  # absent from values: blank


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("blank = 0", True),
        ('blank = ""', True),
        ("blank = FALSE", True),
        ("blank < 1", True),
        ("blank = blank", True),
        ("blank = admitted", False),
        ("blank <> admitted", True),
        ("blank < admitted", True),
        ("admitted > blank", True),
        ('name = "ANN"', True),
        ('name <> "bob"', True),
        ('"a" < "B"', True),
        ("admitted < TODAY()", True),
        ("seen < NOW()", True),
        ("admitted < seen", True),
        ("at < at", False),
        ("tags = tags", True),
        ("none_tags = blank", True),
        ("flag = TRUE", True),
        ("qty >= 2", True),
        ("qty <= 1.5", False),
    ],
)
def test_comparisons(text: str, expected: bool) -> None:
    assert run(text) is expected


@pytest.mark.parametrize(
    "text", ['1 = "1"', "TRUE = 1", "admitted = 1", 'at < "x"', "tags < tags", "flag > name"]
)
def test_incompatible_comparisons(text: str) -> None:
    with pytest.raises(ExpressionError, match=r"cannot compare|only be compared"):
        run(text)


def test_dates() -> None:
    assert run("admitted + 7") == dt.date(2024, 3, 8)
    assert run("7 + admitted") == dt.date(2024, 3, 8)
    assert run("admitted - 1") == dt.date(2024, 2, 29)
    assert run("TODAY() - admitted") == 14
    assert run("seen + 0.5") == dt.datetime(2024, 3, 15, 9, 30)
    assert run("NOW() - seen") == Decimal("0.5")
    assert run("admitted + blank") == dt.date(2024, 3, 1)
    with pytest.raises(ExpressionError, match="date out of range"):
        run("admitted + 999999999")
    with pytest.raises(ExpressionError, match="cannot add two dates"):
        run("admitted + admitted")
    with pytest.raises(ExpressionError, match="times"):
        run("at + 1")


def test_time_zone_mix_is_a_clear_error() -> None:
    aware = dt.datetime(2024, 3, 15, tzinfo=dt.UTC)
    with pytest.raises(ExpressionError, match="time zones"):
        run("seen < aware", aware=aware)
    with pytest.raises(ExpressionError, match="time zones"):
        run("seen - aware", aware=aware)
    assert run("aware - admitted", aware=aware) == 14


def test_today_and_now_injected_and_default() -> None:
    assert run("TODAY()") == TODAY
    assert run("NOW()") == NOW
    assert evaluate(parse("TODAY()"), {}, now=NOW) == NOW.date()
    assert isinstance(evaluate(parse("TODAY()"), {}), dt.date)
    assert isinstance(evaluate(parse("NOW()"), {}), dt.datetime)


def test_if_is_lazy() -> None:
    assert run("IF(qty > 0, 10 / qty, 1 / 0)") == Decimal(5)
    assert run("IF(FALSE, 1 / 0, 7)") == Decimal(7)
    assert run("IF(blank, 1, 2)") == Decimal(2)
    with pytest.raises(ExpressionError, match="IF needs TRUE/FALSE"):
        run("IF(1, 2, 3)")


def test_logic_functions() -> None:
    assert run("AND(TRUE, qty = 2, flag)") is True
    assert run("AND(TRUE, FALSE)") is False
    assert run("OR(FALSE, qty = 2)") is True
    assert run("OR(FALSE, blank)") is False
    assert run("NOT(flag)") is False
    with pytest.raises(ExpressionError, match="NOT needs TRUE/FALSE"):
        run("NOT(3)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ROUND(2.5, 0)", Decimal(3)),
        ("ROUND(-2.5, 0)", Decimal(-3)),
        ("ROUND(2.345, 2)", Decimal("2.35")),
        ("ROUND(1234.5, -2)", Decimal(1200)),
        ("ROUND(blank, 2)", Decimal(0)),
        ("ROUND(1 / 3, 3)", Decimal("0.333")),
    ],
)
def test_round_half_up(text: str, expected: Decimal) -> None:
    assert run(text) == expected


def test_round_digit_limit() -> None:
    with pytest.raises(ExpressionError, match="ROUND digits"):
        run("ROUND(1, 99)")


def test_aggregates_over_scalars_and_columns() -> None:
    assert run("SUM(items.cost)") == Decimal("3.30")
    assert run("SUM(items.cost, qty, blank, 1)") == Decimal("6.30")
    assert run("AVERAGE(items.cost)") == Decimal("1.65")
    assert run("AVERAGE(items.qty)") == Decimal("2.5")
    assert run("MIN(items.cost)") == Decimal("1.10")
    assert run("MAX(items.qty, 10)") == Decimal(10)
    assert run("MIN(items.when)") == dt.date(2023, 12, 1)
    assert run("MAX(items.when, admitted)") == dt.date(2024, 3, 1)
    assert run("COUNT(items.cost)") == 2
    assert run("COUNT(items.name)") == 2
    assert run("COUNT(items.name, blank, name, tags)") == 5


def test_aggregates_of_nothing() -> None:
    assert run("SUM(no_rows.cost)") == 0
    assert run("SUM(absent.cost)") == 0
    assert run("COUNT(no_rows.cost)") == 0
    assert run("AVERAGE(no_rows.cost)") is None
    assert run("MIN(no_rows.cost)") is None
    assert run("MAX(blank)") is None


def test_aggregate_type_errors() -> None:
    with pytest.raises(ExpressionError, match="SUM needs a number"):
        run("SUM(items.name)")
    with pytest.raises(ExpressionError, match="AVERAGE needs a number"):
        run("AVERAGE(items.name)")
    with pytest.raises(ExpressionError, match="MIN needs numbers or dates"):
        run("MIN(items.name)")
    with pytest.raises(ExpressionError, match="cannot compare"):
        run("MAX(items.when, 3)")


def test_table_misuse_at_runtime() -> None:
    with pytest.raises(ExpressionError, match="is a table"):
        run("items + 1")
    with pytest.raises(ExpressionError, match="only be used inside"):
        run("items.cost + 1")
    with pytest.raises(ExpressionError, match="not a table"):
        run("SUM(qty.cost)")
    with pytest.raises(ExpressionError, match="not a table"):
        run("SUM(bad.cost)", bad=[{"cost": 1}, 5])


def test_text_functions() -> None:
    assert run('LEN("héllo")') == 5
    assert run("LEN(blank)") == 0
    assert run("LEN(qty)") == 1
    assert run('CONCAT(name, " ", qty, " ", flag)') == "Ann 2 TRUE"
    assert run("CONCAT(price * 2)") == "3"
    assert run("CONCAT(0.5 * 3)") == "1.5"
    assert run("CONCAT(admitted, seen, at)") == "2024-03-012024-03-14 21:3008:15"
    assert run("CONCAT(tags)") == "red, blue"
    assert run("CONCAT(blank)") == ""


def test_date_functions() -> None:
    assert run("DAYS(TODAY(), admitted)") == 14
    assert run("DAYS(admitted, TODAY())") == -14
    assert run("DAYS(NOW(), seen)") == 1
    assert run("DAYS(blank, admitted)") is None
    assert run("YEAR(born)") == 1990
    assert run("MONTH(born)") == 6
    assert run("YEAR(seen)") == 2024
    assert run("YEAR(blank)") is None
    with pytest.raises(ExpressionError, match="YEAR needs a date"):
        run("YEAR(qty)")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("blank", True),
        ("empty", True),
        ("none_tags", True),
        ("no_rows", True),
        ("missing", True),
        ("qty", False),
        ("name", False),
        ("tags", False),
        ("flag", False),
    ],
)
def test_isblank(name: str, expected: bool) -> None:
    assert run(f"ISBLANK({name})") is expected


@pytest.mark.parametrize(
    "text",
    [
        '"a" * 2',
        '-"a"',
        "name + 1",
        "admitted * 2",
        "flag + 1",
        'AND("yes")',
    ],
)
def test_runtime_type_errors(text: str) -> None:
    with pytest.raises(ExpressionError):
        run(text)


def test_unknown_function_at_runtime() -> None:
    with pytest.raises(ExpressionError, match="unknown function 'FOO'") as info:
        run("1 + foo(1)")
    assert info.value.position == 4
    with pytest.raises(ExpressionError, match="IF takes 3 arguments, got 2"):
        run("IF(TRUE, 1)")


def test_text_cap() -> None:
    long = "x" * 6000
    with pytest.raises(ExpressionError, match="text too long"):
        run("s & s", s=long)
    with pytest.raises(ExpressionError, match="text too long"):
        run("CONCAT(s, s)", s=long)
    assert len(run("s & s", s="x" * 5000)) == 10_000


def test_step_budget() -> None:
    rows = [{"v": 1}] * 60_000
    with pytest.raises(ExpressionError, match="too long to compute"):
        run("SUM(t.v, t.v)", t=rows)
    assert run("COUNT(t.v)", t=[{"v": 1}] * 1000) == 1000
