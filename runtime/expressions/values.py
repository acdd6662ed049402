"""Runtime value rules: blanks, number and text caps, arithmetic and comparison.

Numbers are ``int`` or ``Decimal`` (never float) so money and doses add up
exactly; every result is checked against the caps so no formula can build a
gigantic number or string.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, DecimalException, localcontext
from typing import Any

from runtime.expressions.errors import ExpressionError, Word

MAX_NUMBER = Decimal(10) ** 15
MAX_TEXT_LENGTH = 10_000
DECIMAL_PRECISION = 28

Number = int | Decimal


# A value's kind in error messages (a Word: translated where the message is shown).
A_BLANK, A_NUMBER, TEXT_WORD = Word("a blank"), Word("a number"), Word("text")
A_DATE_AND_TIME, A_DATE, A_TIME = Word("a date and time"), Word("a date"), Word("a time")
A_LIST, UNSUPPORTED = Word("a list"), Word("an unsupported value")


class Unknown:
    """A blank that is not zero: the year of a blank date, the days since it, a blank
    date itself. Arithmetic with it gives it again (where a blank number counts as 0),
    so an age computed from no birth date is blank, not 2026. Elsewhere (comparisons,
    text, ISBLANK, aggregates) it reads as blank; :func:`evaluate` returns ``None``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()

#: Field types whose blank is :data:`UNKNOWN` (what the field holds has no zero).
TEMPORAL_TYPES = frozenset({"date", "datetime", "time"})


def known(value: Any) -> Any:
    """``None`` for :data:`UNKNOWN`, else the value (where unknown reads as blank)."""
    return None if value is UNKNOWN else value


def describe(value: Any) -> str:
    """Name a runtime value's kind in plain words for error messages."""
    if value is None or value is UNKNOWN:
        return A_BLANK
    if isinstance(value, bool):
        return "TRUE/FALSE"
    if isinstance(value, int | Decimal | float):
        return A_NUMBER
    if isinstance(value, str):
        return TEXT_WORD
    if isinstance(value, dt.datetime):
        return A_DATE_AND_TIME
    if isinstance(value, dt.date):
        return A_DATE
    if isinstance(value, dt.time):
        return A_TIME
    if isinstance(value, list | tuple):
        return A_LIST
    return UNSUPPORTED


def is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool)


def is_blank(value: Any) -> bool:
    """Blank as ISBLANK sees it: nothing, empty text or an empty list."""
    return (
        value is None
        or value is UNKNOWN
        or value == ""
        or (isinstance(value, list | tuple) and not value)
    )


def check_number(value: Number | float, pos: int | None) -> Number:
    """Normalise to int/Decimal and refuse non-finite or too-large numbers."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal) and not value.is_finite():
        raise ExpressionError("not a valid number", pos)
    if not -MAX_NUMBER < value < MAX_NUMBER:
        raise ExpressionError("number too large", pos)
    return value


def check_text(value: str, pos: int | None) -> str:
    if len(value) > MAX_TEXT_LENGTH:
        raise ExpressionError("text too long (over {limit} characters)", pos, limit=MAX_TEXT_LENGTH)
    return value


def as_number(value: Any, where: str, pos: int | None) -> Number:
    """A number operand; blank counts as 0 like Excel."""
    if value is None or value is UNKNOWN:
        return 0
    if not is_number(value):
        raise ExpressionError(
            "{what} needs a number, not {found}", pos, what=where, found=describe(value)
        )
    return check_number(value, pos)


def as_boolean(value: Any, where: str, pos: int | None) -> bool:
    """A TRUE/FALSE operand; blank counts as FALSE like Excel."""
    if value is None or value is UNKNOWN:
        return False
    if not isinstance(value, bool):
        raise ExpressionError(
            "{what} needs TRUE/FALSE, not {found}", pos, what=where, found=describe(value)
        )
    return value


def as_date(value: Any, where: str, pos: int | None) -> dt.date | None:
    """A date or date-time operand, or None for blank."""
    if value is None or value is UNKNOWN:
        return None
    if not isinstance(value, dt.date):
        raise ExpressionError(
            "{what} needs a date, not {found}", pos, what=where, found=describe(value)
        )
    return value


def to_text(value: Any, pos: int | None) -> str:
    """How a value reads when joined into text (``&`` and CONCAT)."""
    if value is None or value is UNKNOWN:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if is_number(value):
        return _number_text(check_number(value, pos))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="minutes")
    if isinstance(value, list | tuple):
        return check_text(", ".join(to_text(item, pos) for item in value), pos)
    raise ExpressionError("cannot turn {found} into text", pos, found=describe(value))


def _number_text(value: Number) -> str:
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


# -- arithmetic ----------------------------------------------------------------
def _decimal_op(op: str, a: Number, b: Number, pos: int | None) -> Number:
    """Apply ``op`` with a fixed Decimal context so results never depend on globals."""
    try:
        with localcontext() as ctx:
            ctx.prec = DECIMAL_PRECISION
            if op == "+":
                result = a + b
            elif op == "-":
                result = a - b
            elif op == "*":
                result = a * b
            else:
                result = Decimal(a) / Decimal(b)
            if isinstance(result, Decimal):
                result = +result  # round to the context precision
    except DecimalException:
        raise ExpressionError("calculation failed", pos) from None
    return check_number(result, pos)


def add_numbers(a: Number, b: Number, pos: int | None) -> Number:
    return _decimal_op("+", a, b, pos)


def divide(a: Number, b: Number, pos: int | None) -> Number:
    if b == 0:
        raise ExpressionError("division by zero", pos)
    return _decimal_op("/", a, b, pos)


# What an operand is for, said in a message about it ("adding needs a number, ...").
OPERATIONS: dict[str, Word] = {
    "+": Word("adding"),
    "-": Word("subtracting"),
    "*": Word("multiplying"),
    "/": Word("dividing"),
}
DATE_ARITHMETIC = Word("date arithmetic")


def arithmetic(op: str, a: Any, b: Any, pos: int | None) -> Any:
    """``+ - * /`` with Excel's blank-is-zero and day-based date maths; anything
    with an :data:`UNKNOWN` operand is unknown."""
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if op in "+-" and (_is_temporal(a) or _is_temporal(b)):
        return _date_arithmetic(op, a, b, pos)
    word = OPERATIONS[op]
    left = as_number(a, word, pos)
    right = as_number(b, word, pos)
    if op == "/":
        return divide(left, right, pos)
    return _decimal_op(op, left, right, pos)


def _is_temporal(value: Any) -> bool:
    return isinstance(value, dt.date | dt.time)


def _date_arithmetic(op: str, a: Any, b: Any, pos: int | None) -> Any:
    """date ± days -> date; days + date -> date; date - date -> days."""
    if isinstance(a, dt.time) or isinstance(b, dt.time):
        raise ExpressionError("cannot do arithmetic with times", pos)
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        if op == "+":
            raise ExpressionError("cannot add two dates", pos)
        return days_between(a, b, pos)
    if isinstance(b, dt.date):
        if op == "-":
            raise ExpressionError("cannot subtract a date from a number", pos)
        a, b = b, a
    days = as_number(b, DATE_ARITHMETIC, pos)
    return shift_date(a, -days if op == "-" else days, pos)


def shift_date(value: dt.date, days: Number, pos: int | None) -> dt.date:
    """Move a date by whole days (a date-time by fractional days too)."""
    try:
        if isinstance(value, dt.datetime):
            seconds = Decimal(days) * 86400
            return value + dt.timedelta(seconds=int(seconds))
        return value + dt.timedelta(days=int(days))
    except (OverflowError, ValueError):
        raise ExpressionError("date out of range", pos) from None


def days_between(end: dt.date, start: dt.date, pos: int | None) -> Number:
    """Whole days between dates; fractional days once a time of day is involved."""
    if not isinstance(end, dt.datetime) and not isinstance(start, dt.datetime):
        return (end - start).days
    end_dt, start_dt = _as_datetime(end, start), _as_datetime(start, end)
    try:
        delta = end_dt - start_dt
    except TypeError:
        raise ExpressionError("cannot mix time zones", pos) from None
    seconds = delta.days * 86400 + delta.seconds
    return _decimal_op("/", Decimal(seconds), Decimal(86400), pos)


def _as_datetime(value: dt.date, other: dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    tz = other.tzinfo if isinstance(other, dt.datetime) else None
    return dt.datetime(value.year, value.month, value.day, tzinfo=tz)


# -- comparison ----------------------------------------------------------------
def compare(op: str, a: Any, b: Any, pos: int | None) -> bool:
    """Excel-style comparison: blank matches 0, "" or FALSE; text ignores case."""
    if a is None and b is None:
        return op in ("=", "<=", ">=")
    if a is None or b is None:
        return _compare_blank(op, a, b, pos)
    left, right = _comparable(a, b, pos)
    if isinstance(left, list) and op not in ("=", "<>"):
        raise ExpressionError("lists can only be compared with = or <>", pos)
    return _apply(op, left, right, pos)


def _compare_blank(op: str, a: Any, b: Any, pos: int | None) -> bool:
    other = a if a is not None else b
    zero = _zero_like(other)
    if zero is None:  # a blank date/time sorts before every real one
        if op in ("=", "<>"):
            return op == "<>"
        blank_first = a is None
        return op in ("<", "<=") if blank_first else op in (">", ">=")
    return compare(op, zero if a is None else a, zero if b is None else b, pos)


def _zero_like(value: Any) -> Any:
    if isinstance(value, bool):
        return False
    if is_number(value):
        return 0
    if isinstance(value, str):
        return ""
    if isinstance(value, list | tuple):
        return []
    return None


def _comparable(a: Any, b: Any, pos: int | None) -> tuple[Any, Any]:
    """Bring both sides to one kind, or explain why they cannot be compared."""
    if is_number(a) and is_number(b):
        return check_number(a, pos), check_number(b, pos)
    if isinstance(a, bool) and isinstance(b, bool):
        return a, b
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold(), b.casefold()
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        if isinstance(a, dt.datetime) or isinstance(b, dt.datetime):
            return _as_datetime(a, b), _as_datetime(b, a)
        return a, b
    if isinstance(a, dt.time) and isinstance(b, dt.time):
        return a, b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return list(a), list(b)
    raise ExpressionError(
        "cannot compare {left} with {right}", pos, left=describe(a), right=describe(b)
    )


def _apply(op: str, left: Any, right: Any, pos: int | None) -> bool:
    try:
        if op == "=":
            return bool(left == right)
        if op == "<>":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        if isinstance(left, dt.datetime) and isinstance(right, dt.datetime):
            raise ExpressionError("cannot mix time zones", pos) from None
        raise ExpressionError(
            "cannot compare {left} with {right}", pos, left=describe(left), right=describe(right)
        ) from None
