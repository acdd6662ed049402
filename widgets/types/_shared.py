"""Building blocks shared by several field types (not a type of its own)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, Numeric, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldType, FieldValueError, SpecT

NUL = "\x00"


def refuse_nul(text: str) -> str:
    """``text`` unless it holds a NUL character (PostgreSQL cannot store one)."""
    if NUL in text:
        raise FieldValueError(tr("contains an invisible NUL character, which cannot be stored"))
    return text


class StringFieldType(FieldType[SpecT]):
    """Base for types whose value is a string: text, textarea, phone, email, id_card."""

    searchable = True
    #: Column length when the spec sets no ``max_length``.
    default_length: int | None = 200

    def coerce(self, spec: SpecT, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool):
            raise FieldValueError(tr("please enter text"))
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a number typed into a text cell of a workbook
        if isinstance(value, (int, float, str)):
            text = refuse_nul(str(value))
            return text if text.strip() else None
        raise FieldValueError(tr("please enter text"))

    def length_limit(self, spec: SpecT) -> int | None:
        """The most characters a value may have: the spec's, else the column's."""
        return getattr(spec, "max_length", None) or self.default_length

    def validate(self, spec: SpecT, value: Any) -> None:
        if value is None:
            return
        refuse_nul(value)
        max_length = self.length_limit(spec)
        if max_length is not None and len(value) > max_length:
            raise FieldValueError(
                tr("at most {limit} characters (now {count})").format(
                    limit=max_length, count=len(value)
                )
            )

    def sql_type(self, spec: SpecT) -> TypeEngine:
        length = self.length_limit(spec)
        return String(length) if length and length <= 4000 else Text()

    def parse(self, spec: SpecT, text: str, context: Any = None) -> Any:
        return self.coerce(spec, text.strip()) if text.strip() else None

    def to_excel(self, spec: SpecT, value: Any, context: Any = None) -> Any:
        return value

    def expression_type(self, spec: SpecT) -> ExprType:
        return "text"


class ScaledDecimal(TypeDecorator):
    """An exact decimal with a fixed number of places, never through float.

    PostgreSQL stores ``NUMERIC(18, places)``. SQLite has no exact decimal type
    (its NUMERIC affinity is a float), so there the value is an integer scaled by
    ``10**places``: exact, and it sorts and compares correctly in SQL.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places
        #: One unit of the last place (0.01 for 2 places).
        self.quantum = Decimal(1).scaleb(-places)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, self.places, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = Decimal(value).quantize(self.quantum, rounding=ROUND_HALF_UP)
        if dialect.name == "sqlite":
            return int(exact.scaleb(self.places))
        return exact

    def sqlite_bulk_encoder(self) -> Callable[[Any], Any]:
        """:meth:`process_bind_param` on SQLite for the bulk write path
        (``runtime.store.bulk_encoding``), without the type-decorator layers around
        it: half the time, for every decimal of an import."""
        quantum, places = self.quantum, self.places

        def encode(value: Any) -> Any:
            if value is None:
                return None
            return int(Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP).scaleb(places))

        return encode

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.places).quantize(self.quantum)
        return Decimal(value).quantize(self.quantum)


def to_decimal(value: Any) -> Decimal:
    """A Decimal from a user, JSON or Excel value; floats via their shortest repr."""
    if isinstance(value, bool):
        raise FieldValueError(tr("please enter a number"))
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("，", "").replace(" ", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise FieldValueError(tr("please enter a number")) from None
    else:
        raise FieldValueError(tr("please enter a number"))
    if not result.is_finite():
        raise FieldValueError(tr("please enter a number"))
    return result
