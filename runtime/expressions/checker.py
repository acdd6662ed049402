"""Static type checker: catches typos and type clashes while the builder types.

The designer runs this on every formula so a nurse sees "unknown field 'qyt'"
at design time rather than a broken form later. "any" is compatible with
everything, so loosely typed fields never block a formula.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from runtime.expressions.errors import ExpressionError
from runtime.expressions.functions import AGGREGATES, check_arity
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
from runtime.expressions.schema import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    LIST,
    NUMBER,
    SCALAR_TYPES,
    TEXT,
    TIME,
    TableType,
    describe,
)

TEMPORAL: frozenset[str] = frozenset({DATE, DATETIME})
ORDERED: frozenset[str] = frozenset({NUMBER, DATE, DATETIME, TIME})
COMPARISONS: frozenset[str] = frozenset({"=", "<>", "<", "<=", ">", ">="})
RESULT_TYPES: dict[str, str] = {
    "AND": BOOLEAN,
    "OR": BOOLEAN,
    "NOT": BOOLEAN,
    "ISBLANK": BOOLEAN,
    "ROUND": NUMBER,
    "LEN": NUMBER,
    "DAYS": NUMBER,
    "YEAR": NUMBER,
    "MONTH": NUMBER,
    "CONCAT": TEXT,
    "TODAY": DATE,
    "NOW": DATETIME,
}
# Argument types per plain function; None means "any scalar".
PARAMETERS: dict[str, frozenset[str] | None] = {
    "AND": frozenset({BOOLEAN}),
    "OR": frozenset({BOOLEAN}),
    "NOT": frozenset({BOOLEAN}),
    "ROUND": frozenset({NUMBER}),
    "LEN": frozenset({TEXT}),
    "DAYS": TEMPORAL,
    "YEAR": TEMPORAL,
    "MONTH": TEMPORAL,
    "CONCAT": None,
    "ISBLANK": None,
    "TODAY": None,
    "NOW": None,
}


class Checker:
    """Infers the type of each node against the known field types."""

    def __init__(self, names: Mapping[str, str | TableType]) -> None:
        self.names = names

    def type_of(self, node: Node) -> str:
        """The type a node evaluates to, or an ExpressionError explaining why not."""
        if isinstance(node, Number):
            return NUMBER
        if isinstance(node, String):
            return TEXT
        if isinstance(node, Boolean):
            return BOOLEAN
        if isinstance(node, Name):
            return self.field(node)
        if isinstance(node, Column):
            raise ExpressionError(
                "{table}.{column} can only be used inside SUM, AVERAGE, MIN, MAX or COUNT",
                node.pos,
                table=node.table,
                column=node.column,
            )
        if isinstance(node, Unary):
            self.need(node.operand, NUMBER_ONLY, f"'{node.op}'")
            return NUMBER
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        raise ExpressionError("not a formula")

    # -- names -----------------------------------------------------------
    def declared(self, name: str, pos: int) -> str | TableType:
        if name not in self.names:
            raise ExpressionError("unknown field '{name}'", pos, name=name)
        type_ = self.names[name]
        if not isinstance(type_, TableType) and type_ not in SCALAR_TYPES:
            raise ExpressionError(
                "field '{name}' has an unknown type '{type}'", pos, name=name, type=type_
            )
        return type_

    def field(self, node: Name) -> str:
        type_ = self.declared(node.name, node.pos)
        if isinstance(type_, TableType):
            raise ExpressionError(
                "'{name}' is a table; use a column inside SUM, COUNT, ... like SUM({name}.column)",
                node.pos,
                name=node.name,
            )
        return type_

    def column(self, node: Column) -> str:
        table = self.declared(node.table, node.pos)
        if not isinstance(table, TableType):
            raise ExpressionError("'{table}' is not a table", node.pos, table=node.table)
        if node.column not in table.columns:
            raise ExpressionError(
                "table '{table}' has no column '{column}'",
                node.pos,
                table=node.table,
                column=node.column,
            )
        type_ = table.columns[node.column]
        if type_ not in SCALAR_TYPES:
            raise ExpressionError(
                "column '{column}' has an unknown type '{type}'",
                node.pos,
                column=node.column,
                type=type_,
            )
        return type_

    def need(self, node: Node, allowed: Collection[str], what: str) -> str:
        """Check ``node`` has one of the ``allowed`` types and return its type."""
        type_ = self.type_of(node)
        if type_ != ANY and type_ not in allowed:
            raise _needs(what, allowed, describe(type_), node.pos)
        return type_

    # -- operators -------------------------------------------------------
    def binary(self, node: Binary) -> str:
        left, right = self.type_of(node.left), self.type_of(node.right)
        if node.op == "&":
            return TEXT
        if node.op in COMPARISONS:
            _check_comparable(node.op, left, right, node.pos)
            return BOOLEAN
        if node.op == "+":
            return _add_type(left, right, node.pos)
        if node.op == "-":
            return _subtract_type(left, right, node.pos)
        for side, type_ in ((node.left, left), (node.right, right)):
            if type_ not in (NUMBER, ANY):
                raise ExpressionError(
                    "'{op}' needs numbers, not {found}", side.pos, op=node.op, found=describe(type_)
                )
        return NUMBER

    # -- functions -------------------------------------------------------
    def call(self, node: Call) -> str:
        check_arity(node.name, len(node.args), node.pos)
        if node.name == "IF":
            self.need(node.args[0], {BOOLEAN}, "IF")
            yes, no = self.type_of(node.args[1]), self.type_of(node.args[2])
            return yes if yes == no else ANY
        if node.name in AGGREGATES:
            return self.aggregate(node)
        allowed = PARAMETERS[node.name]
        for arg in node.args:
            if allowed is None:
                self.type_of(arg)
            else:
                self.need(arg, allowed, node.name)
        return RESULT_TYPES[node.name]

    def aggregate(self, node: Call) -> str:
        types: list[str] = []
        for arg in node.args:
            type_ = self.column(arg) if isinstance(arg, Column) else self.type_of(arg)
            if node.name in ("SUM", "AVERAGE") and type_ not in (NUMBER, ANY):
                raise ExpressionError(
                    "{name} needs numbers, not {found}",
                    arg.pos,
                    name=node.name,
                    found=describe(type_),
                )
            if node.name in ("MIN", "MAX") and type_ not in ORDERED | {ANY}:
                raise ExpressionError(
                    "{name} needs numbers or dates, not {found}",
                    arg.pos,
                    name=node.name,
                    found=describe(type_),
                )
            types.append(type_)
        if node.name in ("MIN", "MAX"):
            return _common_ordered(node.name, types, node.pos)
        return NUMBER


NUMBER_ONLY: frozenset[str] = frozenset({NUMBER})


def _needs(what: str, allowed: Collection[str], found: str, pos: int) -> ExpressionError:
    """``what`` (an operator or function) got ``found`` where ``allowed`` types go."""
    kinds = set(allowed)
    if kinds == {BOOLEAN}:
        return ExpressionError("{what} needs TRUE/FALSE, not {found}", pos, what=what, found=found)
    if kinds == {NUMBER}:
        return ExpressionError("{what} needs a number, not {found}", pos, what=what, found=found)
    if kinds == {TEXT}:
        return ExpressionError("{what} needs text, not {found}", pos, what=what, found=found)
    if kinds == TEMPORAL:
        return ExpressionError(
            "{what} needs a date or a date and time, not {found}", pos, what=what, found=found
        )
    words = " or ".join(describe(t) for t in sorted(allowed))  # no such parameter today
    return ExpressionError(
        "{what} needs {allowed}, not {found}", pos, what=what, allowed=words, found=found
    )


def _check_comparable(op: str, left: str, right: str, pos: int) -> None:
    if LIST in (left, right) and op not in ("=", "<>"):
        raise ExpressionError("lists can only be compared with = or <>", pos)
    if ANY in (left, right) or left == right or {left, right} <= TEMPORAL:
        return
    raise ExpressionError(
        "cannot compare {left} with {right}", pos, left=describe(left), right=describe(right)
    )


def _add_type(left: str, right: str, pos: int) -> str:
    """number + number, date + days, days + date."""
    if left == right == NUMBER:
        return NUMBER
    if left in TEMPORAL and right in (NUMBER, ANY):
        return left
    if right in TEMPORAL and left in (NUMBER, ANY):
        return right
    if {left, right} <= {NUMBER, ANY}:
        return ANY
    if TEXT in (left, right):
        raise ExpressionError(
            "cannot add {left} and {right}; use & to join text",
            pos,
            left=describe(left),
            right=describe(right),
        )
    raise ExpressionError(
        "cannot add {left} and {right}", pos, left=describe(left), right=describe(right)
    )


def _subtract_type(left: str, right: str, pos: int) -> str:
    """number - number, date - days, date - date (a number of days)."""
    if left == right == NUMBER:
        return NUMBER
    if left in TEMPORAL and right == NUMBER:
        return left
    if left in TEMPORAL | {ANY} and right in TEMPORAL:
        return NUMBER
    if left in TEMPORAL and right == ANY:
        return ANY
    if left == ANY and right in (NUMBER, ANY):
        return ANY
    if left == NUMBER and right == ANY:
        return NUMBER
    raise ExpressionError(
        "cannot subtract {right} from {left}", pos, left=describe(left), right=describe(right)
    )


def _common_ordered(name: str, types: list[str], pos: int) -> str:
    """MIN/MAX of mixed kinds (number with date) makes no sense."""
    concrete = {t for t in types if t != ANY}
    if not concrete:
        return ANY
    if len(concrete) == 1:
        return concrete.pop()
    if concrete <= TEMPORAL:
        return DATETIME
    kinds = sorted(map(describe, concrete))
    if len(kinds) == 2:
        raise ExpressionError(
            "{name} cannot mix {first} and {second}",
            pos,
            name=name,
            first=kinds[0],
            second=kinds[1],
        )
    if len(kinds) == 3:
        raise ExpressionError(
            "{name} cannot mix {first} and {second} and {third}",
            pos,
            name=name,
            first=kinds[0],
            second=kinds[1],
            third=kinds[2],
        )
    raise ExpressionError(  # all of ORDERED: four kinds at most
        "{name} cannot mix {first} and {second} and {third} and {fourth}",
        pos,
        name=name,
        first=kinds[0],
        second=kinds[1],
        third=kinds[2],
        fourth=kinds[3],
    )
