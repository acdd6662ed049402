"""Hostile input: every escape attempt ends in a clean ExpressionError.

Also property tests: arbitrary text never makes ``parse`` raise anything but
ExpressionError, and random small numeric formulas never make ``evaluate``
raise anything else either.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.expressions import ExpressionError, TableType, check, evaluate, parse
from runtime.expressions.nodes import Node

NAMES: dict[str, Any] = {
    "x": "number",
    "y": "list",
    "a": "any",
    "s": "text",
    "items": TableType({"cost": "number"}),
}
VALUES: dict[str, Any] = {"x": 1, "y": ["q"], "a": None, "s": "z" * 4000, "items": [{"cost": 1}]}

DANGEROUS = ("eval", "exec", "compile", "__import__", "open")
ESCAPES = [
    "__class__",
    "x.__class__",
    "().__class__.__subclasses__()",
    "x.__class__.__bases__[0].__subclasses__()",
    '__import__("os")',
    '__import__("os").system("echo hacked")',
    "lambda: 1",
    "[x for x in y]",
    "{1: 2}",
    "9**9**9",
    "9^9^9",
    '"a" * 10**9',
    'REPT("a", 1e9)',
    "CONCAT(s, s, s)",
    "s & s & s",
    "CONCAT(" + ", ".join(["s"] * 100) + ")",
    "(" * 10_000 + "1" + ")" * 10_000,
    "(" * 900 + "1" + ")" * 900,
    "NOT(" * 10_000 + "TRUE" + ")" * 10_000,
    "NOT(" * 300 + "TRUE" + ")" * 300,
    "-" * 1500 + "1",
    "a.b.c",
    'open("x")',
    'eval("1")',
    'exec("1")',
    'compile("1", "", "eval")',
    'getattr(x, "__class__")',
    "globals()",
    "1 + " * 1250 + "1",
    "x;",
    "x; 1",
    "`x`",
    'f"{x}"',
    "f'{x}'",
    "'x'",
    "1 if 1 else 2",
    "x if x else 2",
    "x == 1",
    "x != 1",
    "not x",
    "x and x",
    "x[0]",
    "x @ x",
    "x % 2",
    "x // 2",
    "1e9",
    "0x10",
    "1_000",
    "\\x41",
    "items",
    "items.cost",
    "SUM(items.__class__)",
    "x\x00",
    "\u2028x",
    "ｘ",
    "99999999999999999999",
    "999999999999999 * 999999999999999 * 999999999999999",
]


def _run(text: str, *, checked: bool) -> None:
    node = parse(text)
    if checked:
        check(node, NAMES)
    evaluate(node, VALUES)


@contextmanager
def _dangerous_builtins_trapped() -> Iterator[list[str]]:
    """Swap eval/exec/open/... for traps only while the formula runs."""
    reached: list[str] = []
    saved = {name: getattr(builtins, name) for name in DANGEROUS}

    def trap(name: str) -> Callable[..., Any]:
        def forbidden(*args: Any, **kwargs: Any) -> Any:
            reached.append(name)
            raise AssertionError(f"formula code reached {name}")

        return forbidden

    for name in DANGEROUS:
        setattr(builtins, name, trap(name))
    try:
        yield reached
    finally:
        for name, original in saved.items():
            setattr(builtins, name, original)


@pytest.mark.parametrize("text", ESCAPES)
@pytest.mark.parametrize("checked", [True, False], ids=["checked", "unchecked"])
def test_escape_corpus_is_rejected(text: str, checked: bool) -> None:
    with pytest.raises(ExpressionError) as info, _dangerous_builtins_trapped() as reached:
        _run(text, checked=checked)
    assert reached == []
    assert info.value.message
    assert info.value.position is None or 0 <= info.value.position <= len(text)


def test_five_thousand_characters_rejected() -> None:
    text = "x + " * 1249 + "x   "
    assert len(text) == 5000
    with pytest.raises(ExpressionError, match="too long"):
        parse(text)


def test_package_never_uses_eval_or_exec() -> None:
    import ast
    from pathlib import Path

    import runtime.expressions as package

    banned = {"eval", "exec", "compile", "__import__", "getattr", "setattr", "open"}
    for path in Path(package.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in banned, f"{path.name} calls {node.func.id}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [alias.name for alias in node.names]
                assert "importlib" not in names and "builtins" not in names


def test_package_is_a_leaf() -> None:
    from pathlib import Path

    import runtime.expressions as package

    for path in Path(package.__file__).parent.glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(("import ", "from ")):
                module = line.split()[1]
                assert not module.startswith(("widgets", "designer", "PySide6"))
                if module.startswith("runtime"):
                    assert module.startswith("runtime.expressions"), line


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_parse_arbitrary_text(text: str) -> None:
    try:
        node = parse(text)
    except ExpressionError:
        return
    assert node is not None


TOKENS = st.sampled_from(
    ["1", "0", "2.5", "x", "(", ")", ",", "+", "-", "*", "/", "&", "=", "<", ">=", "<>",
     '"a"', "TRUE", "IF", "SUM", "NOT", "ROUND", "items.cost", ".", " "]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=40))
def test_parse_token_soup(tokens: list[str]) -> None:
    try:
        node = parse("".join(tokens))
    except ExpressionError:
        return
    for step in (lambda: check(node, NAMES), lambda: evaluate(node, VALUES)):
        with suppress(ExpressionError):
            step()


def _numeric_formulas() -> st.SearchStrategy[str]:
    leaves = st.one_of(
        st.decimals(min_value=-1000, max_value=1000, places=2).map(lambda d: f"({d})"),
        st.integers(min_value=0, max_value=10**14).map(str),
        st.sampled_from(["x", "a", "0"]),
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        )
        calls = st.one_of(
            st.tuples(inner, inner).map(lambda t: f"ROUND({t[0]}, {t[1]})"),
            st.lists(inner, min_size=1, max_size=4).map(
                lambda args: f"{st_choice(args)}({', '.join(args)})"
            ),
            st.tuples(inner, inner, inner).map(lambda t: f"IF({t[0]} > {t[1]}, {t[1]}, {t[2]})"),
            inner.map(lambda t: f"-{t}"),
        )
        return st.one_of(binary, calls)

    return st.recursive(leaves, extend, max_leaves=12)


def st_choice(args: list[str]) -> str:
    """Deterministic aggregate pick so the strategy stays reproducible."""
    return ["SUM", "AVERAGE", "MIN", "MAX", "COUNT"][len(args) % 5]


@settings(max_examples=300, deadline=None)
@given(_numeric_formulas(), st.decimals(min_value=-(10**6), max_value=10**6, places=3))
def test_numeric_formulas_only_raise_expression_error(text: str, x: Decimal) -> None:
    node: Node = parse(text)
    assert check(node, NAMES) in ("number", "any")
    try:
        result = evaluate(node, {"x": x, "a": None})
    except ExpressionError:
        return
    assert result is None or isinstance(result, int | Decimal)
    assert not isinstance(result, bool)


def test_deepest_allowed_formula_still_evaluates() -> None:
    """At the limits, parse, check and evaluate all finish without RecursionError."""
    chain = " + ".join(["x"] * 140)
    text = "SUM(" * 48 + chain + ")" * 48
    node = parse(text)
    assert check(node, NAMES) == "number"
    assert evaluate(node, {"x": 1}) == 140
    nots = "NOT(" * 49 + "TRUE" + ")" * 49
    assert evaluate(parse(nots), {}) is False
