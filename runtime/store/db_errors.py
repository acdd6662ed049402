"""Database errors as one plain sentence, without SQL, bound parameters or values.

The text of a driver's error (``str()`` of a SQLAlchemy or DBAPI exception) holds
the statement, its parameters (record values, password hashes) and a "Background on
this error" link, over several lines. Nothing of it may reach a user: every caller
that reports a database failure asks :func:`database_problem` for the sentence.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError, TimeoutError

from resources.messages import tr

#: SQLite result codes (``sqlite_errorname``) and PostgreSQL SQLSTATEs, by meaning.
_READ_ONLY = {"SQLITE_READONLY", "25006"}
_FULL = {"SQLITE_FULL", "53100"}
_BUSY = {"SQLITE_BUSY", "SQLITE_LOCKED", "55P03", "40P01", "40001"}
_CANNOT_OPEN = {"SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH", "3D000", "28000", "28P01"}
_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB", "XX001", "XX002"}
_DENIED = {"42501"}
_MISSING = {"42P01", "42703"}
#: The server ended the session (a shutdown, a restart, an administrator, a hung
#: transaction) or is starting up or shutting down.
_SERVER_GONE = {"57P01", "57P02", "57P03", "25P03"}
_SERVER_GONE_TEXTS = ("starting up", "shutting down", "in recovery mode")
_TOO_MANY = {"53300"}


def is_database_error(error: BaseException) -> bool:
    """A SQLAlchemy or driver error (whose text must never be shown)."""
    if isinstance(error, SQLAlchemyError | sqlite3.Error):
        return True
    module = type(error).__module__ or ""
    return module.split(".")[0] in ("psycopg", "psycopg2")


def database_problem_in(error: BaseException) -> str | None:
    """The plain sentence of the database error that is ``error`` or that raised it
    (its cause or context, a few levels up); ``None`` when there is none."""
    cause: BaseException | None = error
    for _ in range(10):
        if cause is None:
            return None
        if is_database_error(cause):
            return database_problem(cause)
        cause = cause.__cause__ or (None if cause.__suppress_context__ else cause.__context__)
    return None


def server_unreachable(error: BaseException) -> bool:
    """The database server could not be reached, or the connection to it broke
    (never a SQLite error: a file is always there)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    original = error.orig if isinstance(error, DBAPIError) else error
    if original is None or isinstance(original, sqlite3.Error) or not is_database_error(original):
        return False
    code = _code(original)
    if code in _SERVER_GONE or code.startswith("08"):
        return True
    if code or not isinstance(original, _driver_operational_errors()):
        return False
    # psycopg's failures to connect carry no SQLSTATE: the server did not answer,
    # or answered that it is starting or stopping (else it refused us: not this).
    text = str(original).lower()
    return "fatal:" not in text or any(phrase in text for phrase in _SERVER_GONE_TEXTS)


def database_problem(error: BaseException) -> str:
    """One sentence saying what went wrong with the database and what to do."""
    original = error.orig if isinstance(error, DBAPIError) else error
    code = _code(original)
    text = str(original).lower()
    if server_unreachable(error):
        return _unreachable_sentence()
    refusal = _refused_at_connect(original)
    if refusal is not None:
        return refusal
    if code == "55P03":  # lock_not_available: lock_timeout ran out
        return tr("another workstation's change held this one up for too long; try again")
    if isinstance(error, TimeoutError):  # the pool had no free connection in time
        return tr("all connections to the database are busy; try again in a moment")
    if code in _TOO_MANY or "too many clients" in text:
        return tr(
            "the database server has no free connection (too many workstations); try again "
            "in a moment, or ask your IT department to raise its limit or use PgBouncer"
        )
    if code in _READ_ONLY or "readonly" in text or "read-only" in text:
        return tr("the database is read-only: check that its file and folder may be written")
    if code in _FULL or "disk is full" in text or "no space left" in text:
        return tr("the disk of the database is full; nothing was saved")
    if code in _BUSY or "database is locked" in text:
        return tr("the database is busy (another program holds it); try again")
    if code in _DAMAGED or "malformed" in text or "not a database" in text:
        return tr("the database file is damaged; restore it from the last backup")
    if code in _CANNOT_OPEN or "unable to open" in text:
        return tr("cannot open the database: check its address, file and permissions")
    if code in _DENIED:
        return tr("the database account may not do this (permission denied)")
    if code in _MISSING or "no such table" in text or "no such column" in text:
        return tr("the database is missing tables of this version; run formwright upgrade")
    if isinstance(error, IntegrityError):
        return tr("the change conflicts with stored records; nothing was saved")
    if "connect" in text or "server closed" in text or "connection" in text:
        return _unreachable_sentence()
    text = tr("the database refused the operation ({kind}); nothing was saved")
    return text.format(kind=type(original).__name__)


def _unreachable_sentence() -> str:
    return tr(
        "the database server cannot be reached (it may be restarting, or the network is "
        "down); check that it runs and the address"
    )


def _refused_at_connect(error: BaseException | None) -> str | None:
    """The server's reason for refusing a connection (a missing database, a wrong
    password, a parameter PgBouncer does not take): a line about the connection,
    never SQL or values."""
    if not isinstance(error, _driver_operational_errors()) or _code(error):
        return None
    text = str(error)
    head, fatal, reason = text.partition("FATAL:")
    if not fatal or not head.startswith("connection failed"):
        return None
    reason = " ".join(reason.split())
    if "unsupported startup parameter" in reason:
        text = tr(
            "the database server refused the connection ({reason}); behind PgBouncer, "
            "add ?pgbouncer=true to the database address"
        )
    else:
        text = tr("the database server refused the connection: {reason}")
    return text.format(reason=reason)


def _driver_operational_errors() -> tuple[type[BaseException], ...]:
    """psycopg's OperationalError, when psycopg is loaded (SQLite-only runs need not)."""
    import sys

    psycopg = sys.modules.get("psycopg")
    return (psycopg.OperationalError,) if psycopg is not None else ()


def _code(error: BaseException | None) -> str:
    """The SQLite result code name or PostgreSQL SQLSTATE of a driver error, or ``""``."""
    return str(getattr(error, "sqlite_errorname", None) or getattr(error, "sqlstate", None) or "")
