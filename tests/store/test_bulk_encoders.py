"""The bulk path's fast SQLite encoders write exactly what SQLAlchemy's processors write,
and a cell checked and encoded in one step is stored as in two."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from runtime.services.records.checks import CellCheck
from runtime.store.bulk_encoding import _encoder
from widgets.base import FieldValueError
from widgets.types._shared import ScaledDecimal
from widgets.types.number import NumberSpec, NumberType

DIALECT = sqlite.dialect()
VALUES = {
    sa.Date: [dt.date(2024, 3, 5), dt.date(999, 1, 31), dt.date(9999, 12, 31), None],
    sa.DateTime: [
        dt.datetime(2024, 3, 5, 8, 30),
        dt.datetime(2024, 3, 5, 8, 30, 15, 123456),
        dt.datetime(12, 1, 1),
        dt.datetime(2024, 3, 5, 8, 30, tzinfo=dt.UTC),
        None,
    ],
}


@pytest.mark.parametrize("column_type", list(VALUES), ids=lambda t: t.__name__)
def test_fast_encoders_match_sqlalchemy(column_type):
    column = sa.Column("value", column_type())
    reference = column.type.dialect_impl(DIALECT).bind_processor(DIALECT)
    fast = _encoder(column, DIALECT)
    for value in VALUES[column_type]:
        assert fast(value) == reference(value), value


@pytest.mark.parametrize("places", [1, 2, 4])
def test_the_scaled_decimal_fast_encoder_matches_its_type(places):
    column = sa.Column("value", ScaledDecimal(places))
    reference = column.type.dialect_impl(DIALECT).bind_processor(DIALECT)
    fast = _encoder(column, DIALECT)
    assert fast is not reference
    values = [Decimal("1.25"), Decimal("-0.005"), Decimal("12345.6789"), Decimal("2.5E+3"), 3]
    for value in [*values, "7.125", 0.1, None]:
        assert fast(value) == reference(value), value


NUMBER_CELLS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.decimals(min_value=-(10**16), max_value=10**16, places=3),
    st.integers(min_value=-(10**17), max_value=10**17),
    st.sampled_from([Decimal("-0.00"), Decimal("1.500"), Decimal("1E+3"), "12.5", "", None]),
)


def _outcome(function, value):
    try:
        return "stored", function(value)
    except FieldValueError as error:
        return "refused", error.message


@pytest.mark.parametrize(
    "places, low, high", [(2, None, None), (2, "0.05", "99.99"), (3, "-5", "5")]
)
@settings(max_examples=400, deadline=None)
@given(value=NUMBER_CELLS)
def test_a_number_cell_checked_and_stored_in_one_step_is_stored_as_in_two(places, low, high, value):
    """The bulk path fuses a number cell's check and SQLite encoding
    (``NumberType.stored_cell_checker``): what it stores or refuses must be what
    the check followed by the column's encoder store or refuse."""
    spec = NumberSpec(
        key="amount", type="number", label="Amount", decimals=places, min=low, max=high
    )
    number = NumberType()
    check = CellCheck(spec, number).fast
    encode = _encoder(sa.Column("amount", number.sql_type(spec)), DIALECT)
    fused = number.stored_cell_checker(spec, check, encode, "sqlite")
    assert _outcome(fused, value) == _outcome(lambda v: encode(check(v)), value)
