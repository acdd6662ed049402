"""A Core SELECT run many times on the driver's own cursor, for tight loops.

``Connection.execute`` spends ~30 µs in Python per call. The walk for a list's
position marks runs a thousand one-row index queries back to back, each ~0.1 ms of
database work: through ``execute`` a fifth of the walk holds the GIL, and paints on
the GUI thread ran twice as slow while a walk was on. A :class:`DriverQuery` runs the
same statement for a few µs a call: SQLAlchemy compiles it once and says (in its
``ExpandedState``) the SQL text (with IN lists expanded) and the order of the
parameters; parameters go through their types' bind processors and rows through the
columns' result processors, as in ``execute``. It runs in the connection's
transaction (begun by SQLAlchemy beforehand); SQLAlchemy's events do not see it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.connection import driver_connection


class DriverQuery:
    """One SELECT on one connection; ``first(params)`` changes only ``params``."""

    def __init__(self, connection: Connection, statement: sa.Select, sample: Mapping) -> None:
        """``sample`` holds a value for each parameter ``first`` may be given (names
        the statement does not use are ignored, here and in ``first``)."""
        self.dialect = connection.dialect
        self.columns = list(statement.selected_columns)
        compiled = statement.compile(dialect=self.dialect)
        state = compiled.construct_expanded_state(dict(sample))
        self.sql = state.statement
        self.order = state.positiontup  # None: the driver takes named parameters
        self.processors = self._processors(compiled) | dict(state.processors)  # + IN lists
        self.values = {name: self._bound(name, value) for name, value in state.parameters.items()}
        self.cursor = driver_connection(connection.connection).cursor()
        self.decoders: list | None = None  # once the driver has described the columns

    def first(self, params: Mapping[str, Any]) -> tuple | None:
        """The first row with these parameters (the statement's own values kept)."""
        values = self.values.copy()
        for name, value in params.items():
            if name in values:
                values[name] = self._bound(name, value)
        self.cursor.execute(
            self.sql, values if self.order is None else [values[n] for n in self.order]
        )
        row = self.cursor.fetchone()
        if row is None:
            return None
        if self.decoders is None:
            self.decoders = self._decoders(self.cursor.description)
        return tuple(v if d is None else d(v) for d, v in zip(self.decoders, row, strict=True))

    def close(self) -> None:
        self.cursor.close()

    def _processors(self, compiled) -> dict[str, Callable[[Any], Any]]:
        """Each parameter's bind processor, by the name the driver sees."""
        escaped = compiled.escaped_bind_names or {}
        processors = {}
        for bind, name in compiled.bind_names.items():
            process = bind.type.dialect_impl(self.dialect).bind_processor(self.dialect)
            if process is not None:
                processors[escaped.get(name, name)] = process
        return processors

    def _bound(self, name: str, value: Any) -> Any:
        process = self.processors.get(name)
        return value if process is None else process(value)

    def _decoders(self, description) -> list:
        return [
            column.type.dialect_impl(self.dialect).result_processor(self.dialect, described[1])
            for column, described in zip(self.columns, description, strict=True)
        ]
