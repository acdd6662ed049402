"""The bulk path's fast SQLite encoders write exactly what SQLAlchemy's processors write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from runtime.store.bulk_encoding import _encoder
from widgets.types._shared import ScaledDecimal

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
