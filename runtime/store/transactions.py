"""Write transactions for the record services, and the database's refusals as
plain exceptions (no driver text, no SQLAlchemy types in the services).

:func:`run_transaction` runs one unit of work in one transaction and retries it
when PostgreSQL asks to (a serialization failure or a deadlock) or SQLite is
locked; any other database failure becomes :class:`DatabaseRefused` with one
plain sentence (:func:`~runtime.store.db_errors.database_problem`).

A server that cannot be reached, or a connection that broke, is
:class:`ServerUnreachable`. The unit of work is tried once more only when that is
safe: its connection failed before the server had answered any of its statements
(a connection that died in the pool, e.g. after a server restart; see
``runtime.store.postgres``), so nothing of it was done. A connection lost later
rolled the work back on the server; one lost during the commit leaves unknown
whether it was stored, and the message says so.

:func:`unique_guard` turns a unique index's refusal — two saves of one value at
once — into :class:`ValueInUse`, which the record writer reports as a message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from resources.messages import tr
from runtime.store.db_errors import database_problem, server_unreachable
from runtime.store.postgres import watch_answers

T = TypeVar("T")
#: PostgreSQL errors worth retrying: serialization failure and deadlock.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


class DatabaseRefused(Exception):
    """The database could not do the work (read-only, full, unreachable…);
    ``message`` is a plain sentence, never the driver's text (SQL and values)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ServerUnreachable(DatabaseRefused):
    """The database server cannot be reached, or the connection to it broke."""


class ValueInUse(Exception):
    """A unique index refused a value that another record holds (a race the
    checks before the write could not see).

    ``index``: what the database named, when it did — the index (PostgreSQL) or
    ``table.column`` (SQLite); ``RecordRepository.unique_field`` reads it.
    """

    def __init__(self, index: str | None = None) -> None:
        super().__init__(index)
        self.index = index


class _ConnectionLost(Exception):
    """One try lost its connection; ``stage`` says how far it had got."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


def run_transaction(engine: Engine, work: Callable[[Connection], T], attempts: int = 5) -> T:
    """Run ``work`` in one transaction, retrying serialization failures and, once,
    a connection that was dead before the work began; nothing of a failed try is kept."""
    tried_fresh_connection = False
    failures = 0
    while True:
        try:
            return _one_try(engine, work)
        except _ConnectionLost as lost:
            if lost.stage == "unanswered" and not tried_fresh_connection:
                tried_fresh_connection = True
                continue
            raise ServerUnreachable(_lost_message(lost.stage)) from lost.__cause__
        except DBAPIError as error:
            failures += 1
            if failures == attempts or not _retryable(error):
                raise DatabaseRefused(database_problem(error)) from error
            time.sleep(0.02 * (2 ** (failures - 1)))


def _one_try(engine: Engine, work: Callable[[Connection], T]) -> T:
    """``work`` in a transaction; _ConnectionLost when the server is out of reach."""
    stage, answered = "connecting", lambda: False
    try:
        with engine.begin() as connection:
            answered = watch_answers(connection)
            stage = "working"
            result = work(connection)
            stage = "committing"
        return result
    except DBAPIError as error:
        if not server_unreachable(error):
            raise
        # A connection that had been made (so SQLAlchemy invalidated it) broke
        # before the server answered anything of this work: it had died idle.
        if stage != "committing" and error.connection_invalidated and not answered():
            stage = "unanswered"
        raise _ConnectionLost(stage) from error


def _lost_message(stage: str) -> str:
    if stage == "committing":
        return tr(
            "the connection to the database server broke while saving: the change may or "
            "may not be stored; look before saving again"
        )
    return tr(
        "the database server cannot be reached (it may be restarting, or the network is "
        "down), so nothing was saved"
    )


@contextmanager
def unreachable_reported() -> Iterator[None]:
    """A server out of reach in this block is :class:`ServerUnreachable` (one plain
    sentence); other database errors pass unchanged."""
    try:
        yield
    except SQLAlchemyError as error:
        if not server_unreachable(error):
            raise
        raise ServerUnreachable(database_problem(error)) from error


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
    "ServerUnreachable",
    "ValueInUse",
    "run_transaction",
    "unique_guard",
    "unreachable_reported",
]
