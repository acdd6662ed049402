"""The bulk write path's encoding: canonical rows as driver parameters.

``RecordRepository.bulk_insert`` bypasses SQLAlchemy's per-row statement
execution: the INSERT is compiled once (the system values, the same for every
row, written into it as SQL literals), each row's values go through their
column's driver encoder, and the tuples go to the driver's ``executemany`` in
batches. That is the fast path measured in ENVIRONMENT.md; it lives here, apart
from the repository's plain statements, because its per-row code is hot and has
dialect-specific shortcuts (``tests/store/test_bulk_encoders.py`` checks them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

Encoder = Callable[[Any], Any]


@dataclass(frozen=True)
class BulkInsert:
    """A compiled bulk INSERT: its SQL and how rows become its driver parameters."""

    sql: str
    #: One row of canonical values (in key order) -> its driver parameters.
    arrange: Callable[[Sequence[Any]], tuple | dict]
    #: Per key, its column's driver encoder (None: the value is sent as it is), when
    #: the driver parameters of a row are its encoded values as a tuple in key order
    #: (SQLite). A caller may then encode each cell as it checks it and send the
    #: tuples as they are, skipping :attr:`arrange`. None where the statement needs
    #: another order or named parameters.
    cell_encoders: list[Encoder | None] | None
    #: The database's dialect name ("sqlite", "postgresql"): what the encoders write for.
    dialect: str


def compile_bulk_insert(
    table: sa.Table, keys: Sequence[str], system: dict[str, Any], dialect
) -> BulkInsert:
    """The INSERT for the fields ``keys``, and how one row of their canonical values
    becomes its driver parameters.

    The system values are our own timestamps and ids, never user text, so they go
    into the SQL as literals and each row sends only its field values.
    """
    constants: dict[str, Any] = {
        name: sa.literal_column(_literal_sql(table.c[name], value, dialect))
        for name, value in system.items()
    }
    statement = (
        sa.insert(table)
        .values({key: sa.bindparam(key) for key in keys} | constants)
        .compile(dialect=dialect)
    )
    per_key = [_encoder(table.c[key], dialect) for key in keys]
    encoders = [(i, e) for i, e in enumerate(per_key) if e]
    if statement.positional:
        order = [list(keys).index(name) for name in statement.positiontup or ()]
        in_order = order == list(range(len(keys)))
    else:
        order, in_order = [], False

    def arrange(row: Sequence[Any]) -> tuple | dict:
        """Driver parameters: a tuple in the statement's order, or a dict by name.

        A list row is encoded in place (callers hand over their rows)."""
        values = row if row.__class__ is list else list(row)
        for index, encode in encoders:
            values[index] = encode(values[index])
        if in_order:
            return tuple(values)
        if statement.positional:
            return tuple(values[i] for i in order)
        return dict(zip(keys, values, strict=True))

    return BulkInsert(str(statement), arrange, per_key if in_order else None, dialect.name)


def send_batches(
    connection: Connection, sql: str, params: Iterable, sent: Callable[[list], None] | None = None
) -> int:
    """``executemany`` in batches of 10,000 rows; returns the count. ``sent`` sees
    each batch after it went (the seals of a bulk insert are hashed from it).
    ``islice`` gathers a batch without Python code per row."""
    count = 0
    params = iter(params)
    while batch := list(islice(params, 10_000)):
        connection.exec_driver_sql(sql, batch)
        if sent is not None:
            sent(batch)
        count += len(batch)
    return count


def _literal_sql(column: sa.Column, value: Any, dialect) -> str:
    """A system value (timestamp, id, version) as SQL text, rendered by SQLAlchemy."""
    literal = sa.literal(value, column.type) if value is not None else sa.null()
    return str(literal.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _encoder(column: sa.Column, dialect) -> Callable[[Any], Any] | None:
    """How one column's values become driver values in the bulk path.

    The column type's own bind processor, except SQLite dates and timestamps: there
    SQLAlchemy formats through a dict per value, while ``isoformat`` writes the same
    text (``tests/store/test_bulk_encoders.py`` holds them equal) several times faster.
    """
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    if dialect.name == "sqlite" and type(column.type) in _SQLITE_ISO:
        return _SQLITE_ISO[type(column.type)](processor)
    own = getattr(column.type, "sqlite_bulk_encoder", None)  # a type's own fast path
    if dialect.name == "sqlite" and own is not None:
        return own()
    return processor


def _iso_date(fallback):
    def encode(value: Any) -> Any:
        return value.isoformat() if value.__class__ is date else fallback(value)

    return encode


def _iso_datetime(fallback):
    def encode(value: Any) -> Any:
        if value.__class__ is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return fallback(value)

    return encode


_SQLITE_ISO = {sa.Date: _iso_date, sa.DateTime: _iso_datetime}
