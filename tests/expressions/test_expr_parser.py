"""Parsing: literals, names, precedence, positions and syntax errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from runtime.expressions import ExpressionError, evaluate, names_used, parse
from runtime.expressions.nodes import Binary, Boolean, Call, Column, Name, Number, String, Unary


def value(text: str, **values: object) -> object:
    return evaluate(parse(text), values)


def test_number_literals_are_decimals() -> None:
    assert parse("12") == Number(Decimal("12"), 0)
    assert parse("3.5") == Number(Decimal("3.5"), 0)
    assert parse(".5") == Number(Decimal("0.5"), 0)
    assert isinstance(value("3.5"), Decimal)


def test_string_literal_with_escaped_quote() -> None:
    assert parse('"abc"') == String("abc", 0)
    assert parse('"say ""hi"""') == String('say "hi"', 0)
    assert parse('""') == String("", 0)


@pytest.mark.parametrize("text", ["TRUE", "true", "True", "FALSE", "false"])
def test_booleans_case_insensitive(text: str) -> None:
    assert parse(text) == Boolean(text.upper() == "TRUE", 0)


def test_names_and_columns() -> None:
    assert parse("qty") == Name("qty", 0)
    assert parse("items.cost") == Column("items", "cost", 0)
    assert parse("  a_1") == Name("a_1", 2)


def test_function_names_are_case_insensitive() -> None:
    assert parse("sum(1)") == Call("SUM", (Number(Decimal(1), 4),), 0)
    assert value("round(2.45, 1)") == Decimal("2.5")


def test_nodes_are_immutable() -> None:
    node = parse("1 + 2")
    with pytest.raises(AttributeError):
        node.op = "-"  # type: ignore[misc, union-attr]
    assert hash(node) == hash(parse("1 + 2"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", Decimal(7)),
        ("(1 + 2) * 3", Decimal(9)),
        ("10 - 4 - 3", Decimal(3)),
        ("24 / 4 / 2", Decimal(3)),
        ("-2 * 3", Decimal(-6)),
        ("--2", Decimal(2)),
        ("+2", Decimal(2)),
        ("2 - -2", Decimal(4)),
        ('1 + 2 & "x"', "3x"),
        ('"a" & 1 = "a1"', True),
        ("1 + 1 = 2", True),
        ("1 < 2 = TRUE", True),
        ("3 * 2 > 5", True),
    ],
)
def test_precedence(text: str, expected: object) -> None:
    assert value(text) == expected


def test_precedence_tree_shape() -> None:
    tree = parse("a = b & c + d * -e")
    assert isinstance(tree, Binary) and tree.op == "="
    assert isinstance(tree.right, Binary) and tree.right.op == "&"
    concat_right = tree.right.right
    assert isinstance(concat_right, Binary) and concat_right.op == "+"
    assert isinstance(concat_right.right, Binary) and concat_right.right.op == "*"
    assert isinstance(concat_right.right.right, Unary)


@pytest.mark.parametrize("op", ["=", "<>", "<", "<=", ">", ">="])
def test_all_comparison_operators_parse(op: str) -> None:
    tree = parse(f"a {op} b")
    assert isinstance(tree, Binary) and tree.op == op


def test_whitespace_and_newlines() -> None:
    assert value("\n 1 +\t2 ") == Decimal(3)


def test_names_used() -> None:
    assert names_used(parse("IF(a > 0, SUM(items.cost), b & c)")) == {"a", "b", "c", "items"}
    assert names_used(parse("1 + TODAY()")) == set()


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("1 +", 3),
        ("1 + * 2", 4),
        ("(1 + 2", 6),
        ("1 2", 2),
        ("SUM(1, 2", 8),
        ('"abc', 0),
        ("a $ b", 2),
        ("Qty", 0),
        ("items.Cost", 6),
        ("a.b.c", 3),
        ("1 == 1", 3),
        ("f(,)", 2),
        ("", 0),
        ("   ", 0),
        (")", 0),
    ],
)
def test_syntax_errors_have_positions(text: str, position: int) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert info.value.position == position
    assert info.value.message == str(info.value)


def test_messages_are_plain() -> None:
    with pytest.raises(ExpressionError, match="closing quote"):
        parse('"abc')
    with pytest.raises(ExpressionError, match=r"'\)' is missing"):
        parse("(1")
    with pytest.raises(ExpressionError, match="no power operator"):
        parse("2 ^ 3")
    with pytest.raises(ExpressionError, match="not a valid field name"):
        parse("__class__")


def test_number_literal_cap() -> None:
    with pytest.raises(ExpressionError, match="number too large") as info:
        parse("1 + 1000000000000000")
    assert info.value.position == 4
    assert parse("999999999999999") == Number(Decimal("999999999999999"), 0)


def test_field_name_length_limit() -> None:
    assert parse("a" * 40) == Name("a" * 40, 0)
    with pytest.raises(ExpressionError):
        parse("a" * 41)


def test_source_length_limit() -> None:
    parse("1" + " " * 1999)
    with pytest.raises(ExpressionError, match="too long") as info:
        parse("1" + " " * 2000)
    assert info.value.position is None


def test_nesting_limit() -> None:
    parse("(" * 49 + "1" + ")" * 49)
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("(" * 51 + "1" + ")" * 51)
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("-" * 60 + "1")


def test_long_operator_chain_limit() -> None:
    assert value(" + ".join(["1"] * 150)) == Decimal(150)
    with pytest.raises(ExpressionError, match="too complex"):
        parse(" + ".join(["1"] * 400))


def test_non_text_input_rejected() -> None:
    with pytest.raises(ExpressionError):
        parse(None)  # type: ignore[arg-type]
