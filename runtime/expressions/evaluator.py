"""Tree-walking evaluator with a step budget and a wall-clock deadline.

It interprets the tree node by node; nothing is ever handed to Python's
``eval``/``exec``. Only whitelisted functions exist, field values are looked
up by key in a plain mapping, and every step is counted so no formula (or
huge subtable) can hang the application.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

from runtime.expressions import values as v
from runtime.expressions.errors import ExpressionError
from runtime.expressions.functions import (
    AGGREGATE_FUNCTIONS,
    AGGREGATES,
    SCALAR_FUNCTIONS,
    check_arity,
)
from runtime.expressions.nodes import (
    Binary,
    Boolean,
    Call,
    Column,
    Name,
    Node,
    Number,
    String,
    Unary,
)

MAX_STEPS = 100_000
MAX_SECONDS = 0.1
DEADLINE_EVERY = 256  # read the clock only every so many steps; it is not free
COMPARISON_OPS: frozenset[str] = frozenset({"=", "<>", "<", "<=", ">", ">="})


class Evaluator:
    """Holds the record values, injected clock and the remaining budget."""

    def __init__(
        self,
        values: Mapping[str, Any],
        today: dt.date | None = None,
        now: dt.datetime | None = None,
        types: Mapping[str, Any] | None = None,
    ) -> None:
        self.values = values
        #: Names whose blank is unknown rather than zero (date, datetime, time fields).
        self.temporal = {name for name, kind in (types or {}).items() if kind in v.TEMPORAL_TYPES}
        self.now = now
        self.today = today if today is not None else (now.date() if now else None)
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def tick(self, pos: int | None) -> None:
        """Spend one step; refuse once the formula has used its budget."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise ExpressionError("formula takes too long to compute", pos)
        if self.steps % DEADLINE_EVERY == 0 and time.monotonic() > self.deadline:
            raise ExpressionError("formula takes too long to compute", pos)

    def run(self, node: Node) -> Any:
        """Evaluate any node (dispatch on its class)."""
        self.tick(node.pos)
        if isinstance(node, Number | String | Boolean):
            return node.value
        if isinstance(node, Name):
            return self.lookup(node)
        if isinstance(node, Column):
            raise ExpressionError(
                "{table}.{column} can only be used inside SUM, AVERAGE, MIN, MAX or COUNT",
                node.pos,
                table=node.table,
                column=node.column,
            )
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        raise ExpressionError("not a formula")

    def lookup(self, node: Name) -> Any:
        """A field's value; a field missing from ``values`` is blank."""
        value = self.values.get(node.name)
        if value is None and node.name in self.temporal:
            return v.UNKNOWN
        if _is_table(value):
            raise ExpressionError(
                "'{name}' is a table; use a column inside SUM, COUNT, ... like SUM({name}.column)",
                node.pos,
                name=node.name,
            )
        if isinstance(value, float):
            return v.check_number(value, node.pos)
        return value

    def unary(self, node: Unary) -> Any:
        operand = self.run(node.operand)
        if operand is v.UNKNOWN:
            return v.UNKNOWN
        operand = v.as_number(operand, f"'{node.op}'", node.pos)
        return -operand if node.op == "-" else operand

    def binary(self, node: Binary) -> Any:
        left = self.run(node.left)
        right = self.run(node.right)
        if node.op == "&":
            text = v.to_text(left, node.pos) + v.to_text(right, node.pos)
            return v.check_text(text, node.pos)
        if node.op in COMPARISON_OPS:
            return v.compare(node.op, v.known(left), v.known(right), node.pos)
        return v.arithmetic(node.op, left, right, node.pos)

    def call(self, node: Call) -> Any:
        check_arity(node.name, len(node.args), node.pos)
        if node.name == "IF":
            condition = v.as_boolean(self.run(node.args[0]), "IF", node.args[0].pos)
            return self.run(node.args[1] if condition else node.args[2])
        if node.name == "TODAY":
            return self.today if self.today is not None else dt.date.today()
        if node.name == "NOW":
            return self.now if self.now is not None else dt.datetime.now()
        if node.name in AGGREGATES:
            return AGGREGATE_FUNCTIONS[node.name](self.gather(node), node.pos)
        args = [self.run(arg) for arg in node.args]
        return SCALAR_FUNCTIONS[node.name](args, node.pos)

    def gather(self, node: Call) -> list[Any]:
        """Flatten aggregate arguments (scalars, lists, columns), dropping blanks."""
        items: list[Any] = []
        for arg in node.args:
            raw = self.column(arg) if isinstance(arg, Column) else self.run(arg)
            for item in raw if isinstance(raw, list | tuple) else [raw]:
                self.tick(arg.pos)
                if not v.is_blank(item):
                    items.append(v.check_number(item, arg.pos) if v.is_number(item) else item)
        return items

    def column(self, node: Column) -> list[Any]:
        """The values of one column over the subtable's rows."""
        self.tick(node.pos)
        rows = self.values.get(node.table)
        if rows is None:
            return []
        if not isinstance(rows, list | tuple):
            raise ExpressionError("'{table}' is not a table", node.pos, table=node.table)
        result: list[Any] = []
        for row in rows:
            self.tick(node.pos)
            if not isinstance(row, Mapping):
                raise ExpressionError("'{table}' is not a table", node.pos, table=node.table)
            result.append(row.get(node.column))
        return result


def _is_table(value: Any) -> bool:
    """Tables arrive as a list of row dicts (an empty list is just blank)."""
    return isinstance(value, list | tuple) and bool(value) and isinstance(value[0], Mapping)
