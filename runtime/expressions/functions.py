"""The function whitelist: arities shared by checker and evaluator, and the
plain (eagerly evaluated) function bodies.

Only names in ``FUNCTIONS`` can ever be called; there is no path from formula
text to arbitrary Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from runtime.expressions import values as v
from runtime.expressions.errors import ExpressionError

AGGREGATES: frozenset[str] = frozenset({"SUM", "AVERAGE", "MIN", "MAX", "COUNT"})
MAX_ROUND_DIGITS = 15


@dataclass(frozen=True)
class Arity:
    """How many arguments a function takes; ``most`` None means no upper bound."""

    least: int
    most: int | None

    def error(self, name: str, got: int, pos: int) -> ExpressionError | None:
        """The error if ``got`` arguments is wrong for function ``name``, else None."""
        least = self.least
        if self.most is None:
            if got >= least:
                return None
            if least == 1:
                return ExpressionError(
                    "{name} takes at least 1 argument, got {got}", pos, name=name, got=got
                )
            return ExpressionError(
                "{name} takes at least {least} arguments, got {got}",
                pos,
                name=name,
                least=least,
                got=got,
            )
        if least <= got <= self.most:
            return None
        if least == self.most == 0:
            return ExpressionError("{name} takes no arguments, got {got}", pos, name=name, got=got)
        if least == 1:
            return ExpressionError("{name} takes 1 argument, got {got}", pos, name=name, got=got)
        return ExpressionError(
            "{name} takes {least} arguments, got {got}", pos, name=name, least=least, got=got
        )


VARIADIC = Arity(1, None)
FUNCTIONS: dict[str, Arity] = {
    "AND": VARIADIC,
    "OR": VARIADIC,
    "NOT": Arity(1, 1),
    "IF": Arity(3, 3),
    "ROUND": Arity(2, 2),
    "SUM": VARIADIC,
    "AVERAGE": VARIADIC,
    "MIN": VARIADIC,
    "MAX": VARIADIC,
    "COUNT": VARIADIC,
    "LEN": Arity(1, 1),
    "CONCAT": VARIADIC,
    "TODAY": Arity(0, 0),
    "NOW": Arity(0, 0),
    "DAYS": Arity(2, 2),
    "YEAR": Arity(1, 1),
    "MONTH": Arity(1, 1),
    "ISBLANK": Arity(1, 1),
}


def check_arity(name: str, got: int, pos: int) -> None:
    """Raise for an unknown function or a wrong number of arguments."""
    arity = FUNCTIONS.get(name)
    if arity is None:
        raise ExpressionError("unknown function '{name}'", pos, name=name)
    error = arity.error(name, got, pos)
    if error is not None:
        raise error


# -- aggregates: receive the flattened, non-blank values ----------------------
def fn_sum(items: Sequence[Any], pos: int, name: str = "SUM") -> int | Decimal:
    total: int | Decimal = 0
    for item in items:
        total = v.add_numbers(total, v.as_number(item, name, pos), pos)
    return total


def fn_average(items: Sequence[Any], pos: int) -> v.Number | None:
    """Blank when there is nothing to average (an empty subtable is not an error)."""
    if not items:
        return None
    return v.divide(fn_sum(items, pos, "AVERAGE"), len(items), pos)


def fn_min(items: Sequence[Any], pos: int) -> Any:
    """Smallest value; blank when there are no values."""
    return _extreme(items, "MIN", pos, lambda a, b: v.compare("<", a, b, pos))


def fn_max(items: Sequence[Any], pos: int) -> Any:
    """Largest value; blank when there are no values."""
    return _extreme(items, "MAX", pos, lambda a, b: v.compare(">", a, b, pos))


def _extreme(items: Sequence[Any], name: str, pos: int, better: Callable[[Any, Any], bool]) -> Any:
    best: Any = None
    for item in items:
        if isinstance(item, bool | str | list):
            raise ExpressionError(
                "{name} needs numbers or dates, not {found}", pos, name=name, found=v.describe(item)
            )
        if best is None or better(item, best):
            best = item
    return best


def fn_count(items: Sequence[Any], pos: int) -> int:
    return len(items)


AGGREGATE_FUNCTIONS: dict[str, Callable[[Sequence[Any], int], Any]] = {
    "SUM": fn_sum,
    "AVERAGE": fn_average,
    "MIN": fn_min,
    "MAX": fn_max,
    "COUNT": fn_count,
}


# -- scalar functions: receive evaluated arguments ---------------------------
def fn_and(args: Sequence[Any], pos: int) -> bool:
    return all([v.as_boolean(a, "AND", pos) for a in args])


def fn_or(args: Sequence[Any], pos: int) -> bool:
    return any([v.as_boolean(a, "OR", pos) for a in args])


def fn_not(args: Sequence[Any], pos: int) -> bool:
    return not v.as_boolean(args[0], "NOT", pos)


def fn_round(args: Sequence[Any], pos: int) -> Any:
    """Half away from zero, like Excel: ROUND(2.5, 0) = 3, ROUND(-2.5, 0) = -3."""
    if args[0] is v.UNKNOWN:
        return v.UNKNOWN
    number = Decimal(v.as_number(args[0], "ROUND", pos))
    digits = int(v.as_number(args[1], "ROUND", pos))
    if abs(digits) > MAX_ROUND_DIGITS:
        raise ExpressionError(
            "ROUND digits must be between -15 and {maximum}", pos, maximum=MAX_ROUND_DIGITS
        )
    with localcontext() as ctx:
        ctx.prec = 60
        rounded = number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        if digits <= 0:
            rounded = rounded.quantize(Decimal(1))
    return v.check_number(rounded, pos)


def fn_len(args: Sequence[Any], pos: int) -> int:
    value = args[0]
    return len(value) if isinstance(value, str) else len(v.to_text(value, pos))


def fn_concat(args: Sequence[Any], pos: int) -> str:
    return v.check_text("".join(v.to_text(a, pos) for a in args), pos)


def fn_days(args: Sequence[Any], pos: int) -> Any:
    """Whole days from start to end, like Excel DAYS; unknown if either is blank."""
    end = v.as_date(args[0], "DAYS", pos)
    start = v.as_date(args[1], "DAYS", pos)
    if end is None or start is None:
        return v.UNKNOWN
    return (_day(end) - _day(start)).days


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def fn_year(args: Sequence[Any], pos: int) -> Any:
    """The year of a date; unknown (not 0) for a blank date."""
    value = v.as_date(args[0], "YEAR", pos)
    return v.UNKNOWN if value is None else value.year


def fn_month(args: Sequence[Any], pos: int) -> Any:
    value = v.as_date(args[0], "MONTH", pos)
    return v.UNKNOWN if value is None else value.month


def fn_isblank(args: Sequence[Any], pos: int) -> bool:
    return v.is_blank(args[0])


SCALAR_FUNCTIONS: dict[str, Callable[[Sequence[Any], int], Any]] = {
    "AND": fn_and,
    "OR": fn_or,
    "NOT": fn_not,
    "ROUND": fn_round,
    "LEN": fn_len,
    "CONCAT": fn_concat,
    "DAYS": fn_days,
    "YEAR": fn_year,
    "MONTH": fn_month,
    "ISBLANK": fn_isblank,
}
