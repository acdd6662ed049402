"""Numbers: integers or exact decimals, with limits and a unit."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import BigInteger
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldSpecBase, FieldType, FieldValueError, SpecProblem
from widgets.types._shared import ScaledDecimal, to_decimal


class NumberSpec(FieldSpecBase):
    decimals: int = Field(default=0, ge=0, le=6)
    min: Decimal | None = None
    max: Decimal | None = None
    unit: str = Field(default="", max_length=20)


MAX_DIGITS = 15
MAX_ABS = Decimal(10) ** MAX_DIGITS  # fits NUMERIC(18, 6) with room for the decimals


def number_value(decimals: int, value: Any) -> int | Decimal | None:
    """The canonical number: ``int`` for whole numbers, Decimal rounded to places.

    The size is checked first: ``1e308`` would overflow the rounding (a decimal
    exception instead of a message) and ``1e999999999`` would take minutes as an int.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    exact = to_decimal(value)
    if exact and exact.adjusted() >= MAX_DIGITS:
        raise FieldValueError(tr("this number is too large"))
    if decimals == 0:
        if exact != exact.to_integral_value():
            raise FieldValueError(tr("please enter a whole number"))
        return int(exact)
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _scaled_bounds(spec: NumberSpec, places: int) -> tuple[int, int]:
    """The smallest and largest valid values of ``spec``, times ``10**places``, as
    integers: the fast paths compare plain ints instead of Decimals. Inside them a
    number is in the field's range and below :data:`MAX_ABS` (which is excluded)."""
    scale = Decimal(1).scaleb(places)
    limit = int(MAX_ABS * scale) - 1
    low = -limit if spec.min is None else max(-limit, _whole(spec.min * scale, ROUND_CEILING))
    high = limit if spec.max is None else min(limit, _whole(spec.max * scale, ROUND_FLOOR))
    return low, high


def _whole(value: Any, rounding: str) -> int:
    return int(Decimal(value).to_integral_value(rounding=rounding))


def number_text(value: int | Decimal, decimals: int) -> str:
    """A number as shown. Whole-number fields (years, counts, ages, codes) carry no
    thousands separator — "2021", not "2,021"; numbers with decimals (amounts,
    doses) are grouped: "1,234.50". Both forms are read back by :func:`to_decimal`."""
    if decimals == 0:
        return str(value) if isinstance(value, int) else f"{value:.0f}"
    return f"{value:,.{decimals}f}"


class NumberType(FieldType[NumberSpec]):
    name = "number"
    spec_model = NumberSpec
    title = "Number"
    title_zh = "数字"
    group = "basic"
    icon = "mdi6.numeric"
    editor = "widgets.editors.number:NumberEditor"
    description = "A whole number or an exact decimal (money is never rounded by float)."
    sample_attributes = {"decimals": 2, "unit": "元"}

    def check_spec(self, spec: NumberSpec) -> list[SpecProblem]:
        problems = super().check_spec(spec)
        if spec.min is not None and spec.max is not None and spec.min > spec.max:
            problems.append(SpecProblem("min", tr("the minimum is larger than the maximum")))
        return problems

    def sample_values(self, spec: NumberSpec) -> list[Any]:
        if spec.decimals == 0:
            return [0, 7, -3, 1200]
        return [
            Decimal("0.1").quantize(Decimal(1).scaleb(-spec.decimals)),
            Decimal(12345).quantize(Decimal(1).scaleb(-spec.decimals)),
        ]

    def coerce(self, spec: NumberSpec, value: Any) -> Any:
        return number_value(spec.decimals, value)

    def validate(self, spec: NumberSpec, value: Any) -> None:
        if value is None:
            return
        if abs(value) >= MAX_ABS:
            raise FieldValueError(tr("this number is too large"))
        if spec.min is not None and value < spec.min:
            raise FieldValueError(tr("must be at least {minimum}").format(minimum=spec.min))
        if spec.max is not None and value > spec.max:
            raise FieldValueError(tr("must be at most {maximum}").format(maximum=spec.max))

    def cell_checker(self, spec: NumberSpec):
        """Whole numbers already in range pass straight through."""
        slow = super().cell_checker(spec)
        if spec.decimals != 0:
            return self._decimal_checker(spec, slow)
        low, high = _scaled_bounds(spec, 0)

        def check(value: Any) -> Any:
            if value.__class__ is int and low <= value <= high:
                return value
            return slow(value)

        return check

    def _decimal_checker(self, spec: NumberSpec, slow):
        """Decimals already rounded to the field's places and in range pass through."""
        exponent = -spec.decimals
        low, high = (Decimal(b).scaleb(exponent) for b in _scaled_bounds(spec, spec.decimals))

        def check(value: Any) -> Any:
            if (
                value.__class__ is Decimal
                and value.as_tuple().exponent == exponent  # first: NaN's is "n"
                and low <= value <= high
            ):
                return value
            return slow(value)

        return check

    def stored_cell_checker(self, spec: NumberSpec, check, encode, dialect: str):
        """On SQLite a decimal is stored as an integer scaled by ``10**places``: a
        Decimal with at most that many places, in range, gives that integer
        directly, without building its rounded copy first (every imported amount)."""
        if dialect != "sqlite" or spec.decimals == 0 or encode is None:
            return super().stored_cell_checker(spec, check, encode, dialect)
        places = spec.decimals
        low, high = _scaled_bounds(spec, places)

        def check_and_store(value: Any) -> Any:
            if value.__class__ is Decimal and value.is_finite():
                scaled = value.scaleb(places)
                stored = int(scaled)
                if stored == scaled and low <= stored <= high:
                    return stored
            return encode(check(value))

        return check_and_store

    def sql_type(self, spec: NumberSpec) -> TypeEngine:
        return BigInteger() if spec.decimals == 0 else ScaledDecimal(spec.decimals)

    def to_json(self, spec: NumberSpec, value: Any) -> Any:
        return value if value is None or isinstance(value, int) else str(value)

    def display(self, spec: NumberSpec, value: Any, context: Any = None) -> str:
        if value is None:
            return ""
        text = number_text(value, spec.decimals)
        return f"{text} {spec.unit}" if spec.unit else text

    def parse(self, spec: NumberSpec, text: str, context: Any = None) -> Any:
        text = text.strip()
        if spec.unit and text.endswith(spec.unit):
            text = text[: -len(spec.unit)]
        return self.coerce(spec, text)

    def to_excel(self, spec: NumberSpec, value: Any, context: Any = None) -> Any:
        return value

    def excel_number_format(self, spec: NumberSpec) -> str | None:
        return "0" if spec.decimals == 0 else "0." + "0" * spec.decimals

    def expression_type(self, spec: NumberSpec) -> ExprType:
        return "number"

    def describe(self, spec: NumberSpec) -> str:
        if spec.decimals == 0:
            kind = tr("whole number")
        else:
            kind = tr("number with {decimals} decimals").format(decimals=spec.decimals)
        limits = []
        if spec.min is not None:
            limits.append(f"≥ {spec.min}")
        if spec.max is not None:
            limits.append(f"≤ {spec.max}")
        return ", ".join([kind, *limits])


FIELD_TYPE = NumberType()
