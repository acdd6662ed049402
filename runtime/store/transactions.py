"""Write transactions for the record services, and the database's refusals as
plain exceptions (no driver text, no SQLAlchemy types in the services).

:func:`run_transaction` runs one unit of work in one transaction and retries it
when PostgreSQL asks to (a serialization failure or a deadlock) or SQLite is
locked; any other database failure becomes :class:`DatabaseRefused` with one
plain sentence (:func:`~runtime.store.db_errors.database_problem`).
:func:`unique_guard` turns a unique index's refusal — two saves of one value at
once — into :class:`ValueInUse`, which the record writer reports as a message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from runtime.store.db_errors import database_problem

T = TypeVar("T")
#: PostgreSQL errors worth retrying: serialization failure and deadlock.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


class DatabaseRefused(Exception):
    """The database could not do the work (read-only, full, unreachable…);
    ``message`` is a plain sentence, never the driver's text (SQL and values)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValueInUse(Exception):
    """A unique index refused a value that another record holds (a race the
    checks before the write could not see).

    ``index``: what the database named, when it did — the index (PostgreSQL) or
    ``table.column`` (SQLite); ``RecordRepository.unique_field`` reads it.
    """

    def __init__(self, index: str | None = None) -> None:
        super().__init__(index)
        self.index = index


def run_transaction(engine: Engine, work: Callable[[Connection], T], attempts: int = 5) -> T:
    """Run ``work`` in one transaction, retrying serialization failures; nothing of
    a failed attempt is kept."""
    for attempt in range(attempts):
        try:
            with engine.begin() as connection:
                return work(connection)
        except DBAPIError as error:
            if attempt + 1 == attempts or not _retryable(error):
                raise DatabaseRefused(database_problem(error)) from error
            time.sleep(0.02 * (2**attempt))
    raise AssertionError("unreachable")


@contextmanager
def unique_guard() -> Iterator[None]:
    """Writes in this block that break a unique index raise :class:`ValueInUse`
    (the driver's text would show the value and the SQL)."""
    try:
        yield
    except IntegrityError as error:
        raise ValueInUse(_unique_index(error.orig)) from None


def _unique_index(error: BaseException | None) -> str | None:
    """The index a unique violation names: PostgreSQL's constraint name, or the one
    ``table.column`` of SQLite's "UNIQUE constraint failed: t.c"."""
    diagnostics = getattr(error, "diag", None)
    if diagnostics is not None:
        return diagnostics.constraint_name
    _, _, named = str(error).partition("UNIQUE constraint failed: ")
    return named if named and "," not in named else None


def _retryable(error: DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    if code in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)


__all__ = [
    "RETRYABLE_SQLSTATES",
    "DatabaseRefused",
    "ValueInUse",
    "run_transaction",
    "unique_guard",
]
