"""A write statement compiled once and run on the driver's own cursor.

A save on PostgreSQL sends two statements (the record, then its audit row) between
BEGIN and COMMIT. Through ``Connection.execute`` each costs SQLAlchemy ~0.15–0.4 ms
of Python (cache key, parameter processing, result set-up), as much as the round
trip itself: a third of a save. A :class:`DriverWrite` is compiled by SQLAlchemy
once (the same SQL, the same bind casts and bind processors) and then runs on the
driver's cursor in the connection's transaction. What ``execute`` adds that matters
is kept: listeners of ``before_cursor_execute`` hear the SQL (tests count
statements) and those of ``after_execute`` the Core statement (the name caches learn
that a table was updated, runtime.store.names.NameChanges), and a driver error is raised as SQLAlchemy's exception (so callers and
:func:`runtime.store.transactions.run_transaction` see what they always see), the
connection invalidated when the server went away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler

from runtime.store.connection import driver_connection


class DriverWrite:
    """One INSERT/UPDATE (with RETURNING) for one dialect; :meth:`rows` runs it."""

    def __init__(self, statement: sa.ClauseElement, dialect: Dialect) -> None:
        self.statement = statement
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = compiled.string
        #: The parameters' names in the order of a positional driver (None: named).
        self.order = compiled.positiontup if compiled.positional else None
        escaped: dict[str, str] = compiled.escaped_bind_names or {}
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for bind, name in compiled.bind_names.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.processors[escaped.get(name, name)] = process

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple]:
        """Run with ``params`` (by parameter name) in the connection's transaction;
        the rows it returns."""
        values = dict(params)
        for name, process in self.processors.items():
            values[name] = process(values[name])
        driver_params: Any = values if self.order is None else [values[n] for n in self.order]
        pooled = connection.connection
        cursor = driver_connection(pooled).cursor()
        try:
            if connection.dispatch.before_cursor_execute:
                connection.dispatch.before_cursor_execute(
                    connection, cursor, self.sql, driver_params, None, False
                )
            cursor.execute(self.sql, driver_params)
            rows = cursor.fetchall() if cursor.description else []
            if connection.dispatch.after_execute:  # e.g. runtime.store.names.NameChanges
                connection.dispatch.after_execute(connection, self.statement, (), params, {}, None)
            return rows
        except connection.dialect.loaded_dbapi.Error as error:
            gone = connection.dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
            if gone:
                connection.invalidate(error)
            raise sa.exc.DBAPIError.instance(
                self.sql,
                driver_params,
                error,
                connection.dialect.loaded_dbapi.Error,
                connection_invalidated=gone,
                dialect=connection.dialect,
            ) from error
        finally:
            cursor.close()
