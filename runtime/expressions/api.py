"""Public entry points of the formula language (re-exported by the package).

Each entry point guards the tree depth first and turns any stray recursion
failure into an ExpressionError, so callers only ever need to catch one
exception type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from runtime.expressions import nodes
from runtime.expressions.checker import Checker
from runtime.expressions.errors import ExpressionError
from runtime.expressions.evaluator import Evaluator
from runtime.expressions.nodes import Node
from runtime.expressions.parser import MAX_TREE_DEPTH
from runtime.expressions.parser import parse as _parse
from runtime.expressions.schema import TableType
from runtime.expressions.values import known

__all__ = ["ExpressionError", "Node", "TableType", "check", "evaluate", "names_used", "parse"]


def parse(text: str) -> Node:
    """Parse formula text into an immutable tree; ExpressionError on bad syntax."""
    try:
        return _parse(text)
    except RecursionError:  # pragma: no cover - the nesting limit fires first
        raise ExpressionError("formula is nested too deeply") from None


def check(node: Node, names: Mapping[str, str | TableType]) -> str:
    """Type-check ``node`` against field types; returns the formula's result type."""
    _guard_depth(node)
    try:
        return Checker(names).type_of(node)
    except RecursionError:  # pragma: no cover - depth is guarded above
        raise ExpressionError("formula is nested too deeply") from None


def evaluate(
    node: Node,
    values: Mapping[str, Any],
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    types: Mapping[str, Any] | None = None,
) -> Any:
    """Compute ``node`` over one record's ``values``.

    A name missing from ``values`` counts as blank. A subtable is given as a
    list of row dicts. ``today``/``now`` replace the clock (for tests). ``types``
    (as for :func:`check`) tells which names are dates, datetimes or times: their
    blank is unknown, not zero, so ``TODAY() - birth`` is blank without a birth date.
    Whatever is computed from an unknown (``YEAR`` of a blank date...) is blank.
    """
    _guard_depth(node)
    try:
        return known(Evaluator(values, today=today, now=now, types=types).run(node))
    except RecursionError:  # pragma: no cover - depth is guarded above
        raise ExpressionError("formula is nested too deeply") from None


def names_used(node: Node) -> set[str]:
    """Top-level field names a formula reads (``items.cost`` gives ``items``)."""
    return nodes.names_used(node)


def _guard_depth(node: Node) -> None:
    """Hand-built trees skip the parser's limits; re-check before recursing."""
    if nodes.tree_depth(node) > MAX_TREE_DEPTH:
        raise ExpressionError("formula is too complex; split it into smaller ones")
