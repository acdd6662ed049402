"""Checker: result types, unknown names/functions, arity, type clashes, tables."""

from __future__ import annotations

from typing import Any

import pytest

from runtime.expressions import ExpressionError, TableType, check, parse
from runtime.expressions.functions import FUNCTIONS
from runtime.expressions.nodes import Binary, Call, Name, Number, Unary

NAMES: dict[str, Any] = {
    "qty": "number",
    "price": "number",
    "name": "text",
    "born": "date",
    "seen": "datetime",
    "at": "time",
    "flag": "boolean",
    "tags": "list",
    "anything": "any",
    "items": TableType({"cost": "number", "label": "text", "when": "date", "x": "any"}),
}


def type_of(text: str) -> str:
    return check(parse(text), NAMES)


def error(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        type_of(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", "number"),
        ('"a"', "text"),
        ("TRUE", "boolean"),
        ("qty * price", "number"),
        ("name & qty & flag & born & tags", "text"),
        ("qty > 1", "boolean"),
        ("born + 1", "date"),
        ("1 + born", "date"),
        ("seen - 0.5", "datetime"),
        ("born - born", "number"),
        ("seen - born", "number"),
        ("born < seen", "boolean"),
        ("at < at", "boolean"),
        ("tags = tags", "boolean"),
        ("anything", "any"),
        ("anything * 2", "number"),
        ("anything + 1", "any"),
        ("anything - born", "number"),
        ("born - anything", "any"),
        ("qty - anything", "number"),
        ('anything = "x"', "boolean"),
        ("IF(flag, 1, 2)", "number"),
        ('IF(flag, 1, "")', "any"),
        ("IF(anything, born, born)", "date"),
        ("AND(flag, TRUE)", "boolean"),
        ("OR(flag)", "boolean"),
        ("NOT(anything)", "boolean"),
        ("ROUND(price, 2)", "number"),
        ("SUM(items.cost, qty)", "number"),
        ("AVERAGE(items.x)", "number"),
        ("MIN(items.cost, 1)", "number"),
        ("MAX(items.when, born)", "date"),
        ("MAX(born, seen)", "datetime"),
        ("MIN(anything)", "any"),
        ("MIN(at)", "time"),
        ("COUNT(items.label, tags, name)", "number"),
        ("LEN(name)", "number"),
        ("CONCAT(name, qty, born, tags)", "text"),
        ("TODAY()", "date"),
        ("NOW()", "datetime"),
        ("DAYS(TODAY(), born)", "number"),
        ("YEAR(seen)", "number"),
        ("MONTH(born)", "number"),
        ("ISBLANK(tags)", "boolean"),
    ],
)
def test_result_types(text: str, expected: str) -> None:
    assert type_of(text) == expected


def test_unknown_field() -> None:
    err = error("qty + qyt")
    assert err.message == "unknown field 'qyt'"
    assert err.position == 6
    assert error("SUM(nope.cost)").message == "unknown field 'nope'"


def test_unknown_function() -> None:
    err = error("1 + foo(1)")
    assert err.message == "unknown function 'FOO'"
    assert err.position == 4
    assert error("REPT(name, 3)").message == "unknown function 'REPT'"


ARITY_CASES = [
    ("AND()", "AND takes at least 1 argument, got 0"),
    ("OR()", "OR takes at least 1 argument, got 0"),
    ("NOT()", "NOT takes 1 argument, got 0"),
    ("NOT(flag, flag)", "NOT takes 1 argument, got 2"),
    ("IF(flag, 1)", "IF takes 3 arguments, got 2"),
    ("IF(flag, 1, 2, 3)", "IF takes 3 arguments, got 4"),
    ("ROUND(1)", "ROUND takes 2 arguments, got 1"),
    ("ROUND(1, 2, 3)", "ROUND takes 2 arguments, got 3"),
    ("SUM()", "SUM takes at least 1 argument, got 0"),
    ("AVERAGE()", "AVERAGE takes at least 1 argument, got 0"),
    ("MIN()", "MIN takes at least 1 argument, got 0"),
    ("MAX()", "MAX takes at least 1 argument, got 0"),
    ("COUNT()", "COUNT takes at least 1 argument, got 0"),
    ("LEN()", "LEN takes 1 argument, got 0"),
    ("LEN(name, name)", "LEN takes 1 argument, got 2"),
    ("CONCAT()", "CONCAT takes at least 1 argument, got 0"),
    ("TODAY(1)", "TODAY takes no arguments, got 1"),
    ("NOW(1, 2)", "NOW takes no arguments, got 2"),
    ("DAYS(born)", "DAYS takes 2 arguments, got 1"),
    ("YEAR()", "YEAR takes 1 argument, got 0"),
    ("MONTH(born, born)", "MONTH takes 1 argument, got 2"),
    ("ISBLANK()", "ISBLANK takes 1 argument, got 0"),
]


@pytest.mark.parametrize(("text", "message"), ARITY_CASES)
def test_wrong_argument_counts(text: str, message: str) -> None:
    err = error(text)
    assert err.message == message
    assert err.position == 0


def test_arity_cases_cover_every_function() -> None:
    covered = {text.split("(")[0] for text, _ in ARITY_CASES}
    assert covered == set(FUNCTIONS)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('"a" * 2', "needs numbers, not text"),
        ("qty / flag", "needs numbers, not TRUE/FALSE"),
        ('-"a"', "needs a number, not text"),
        ("NOT(3)", "NOT needs TRUE/FALSE, not a number"),
        ("AND(qty)", "AND needs TRUE/FALSE"),
        ("IF(qty, 1, 2)", "IF needs TRUE/FALSE"),
        ("name + 1", "cannot add text and a number; use & to join text"),
        ("1 + name", "cannot add"),
        ("born + born", "cannot add"),
        ("at + 1", "cannot add"),
        ("1 - born", "cannot subtract"),
        ('born - "x"', "cannot subtract"),
        ('qty = "1"', "cannot compare a number with text"),
        ("flag > 1", "cannot compare"),
        ("born = at", "cannot compare"),
        ("tags < tags", "lists can only be compared"),
        ("ROUND(name, 1)", "ROUND needs a number"),
        ("LEN(qty)", "LEN needs text"),
        ("DAYS(qty, born)", "DAYS needs a date"),
        ("YEAR(name)", "YEAR needs a date"),
        ("MONTH(at)", "MONTH needs a date"),
        ("SUM(name)", "SUM needs numbers, not text"),
        ("AVERAGE(items.label)", "AVERAGE needs numbers, not text"),
        ("MIN(flag)", "MIN needs numbers or dates"),
        ("MAX(qty, born)", "MAX cannot mix"),
    ],
)
def test_type_clashes(text: str, fragment: str) -> None:
    assert fragment in error(text).message


def test_type_clash_position_points_at_operand() -> None:
    assert error('2 * "a"').position == 4


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("items", "'items' is a table"),
        ("items + 1", "'items' is a table"),
        ("ISBLANK(items)", "'items' is a table"),
        ("COUNT(items)", "'items' is a table"),
        ("items.cost", "can only be used inside SUM"),
        ("items.cost * 2", "can only be used inside SUM"),
        ("LEN(items.label)", "can only be used inside SUM"),
        ("SUM(items.cost * 2)", "can only be used inside SUM"),
        ("SUM(qty.cost)", "'qty' is not a table"),
        ("SUM(items.price)", "table 'items' has no column 'price'"),
    ],
)
def test_table_misuse(text: str, fragment: str) -> None:
    assert fragment in error(text).message


def test_unknown_declared_types() -> None:
    with pytest.raises(ExpressionError, match="unknown type"):
        check(parse("a"), {"a": "integer"})
    with pytest.raises(ExpressionError, match="unknown type"):
        check(parse("SUM(t.c)"), {"t": TableType({"c": "money"})})


def test_hand_built_deep_tree_is_refused() -> None:
    node: Any = Number(1)
    for _ in range(5000):
        node = Unary("-", node)
    with pytest.raises(ExpressionError, match="too complex"):
        check(node, {})


def test_hand_built_nodes_work() -> None:
    node = Binary("+", Name("qty"), Call("ROUND", (Number(1), Number(0))))
    assert check(node, NAMES) == "number"
