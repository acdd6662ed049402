"""The bulk path's fast SQLite encoders write exactly what SQLAlchemy's processors write."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from runtime.store.bulk_encoding import _encoder

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
