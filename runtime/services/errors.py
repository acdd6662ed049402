"""Errors the services report to users: each has a plain-language ``message``.

The store's :class:`WorkspaceError` (a database that cannot be used) and
:func:`database_problem_in` (a database error's plain sentence) are re-exported
here, so a screen catches and words every error without importing the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from runtime.services.accounts.errors import AccountError
from runtime.store.db_errors import database_problem_in
from runtime.store.engine import WorkspaceError
from runtime.store.transactions import ServerUnreachable, unreachable_reported

__all__ = [
    "DatabaseUnavailable",
    "PermissionDenied",
    "ServiceError",
    "SessionEnded",
    "WorkspaceError",
    "database_problem_in",
    "server_required",
]


class ServiceError(Exception):
    """Base of the errors a screen or the CLI shows as one sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(ServiceError):
    """The acting user may not do this."""


class SessionEnded(ServiceError, AccountError):
    """The session's user was disabled or locked since logging in: every call of
    the session is refused until the user logs in again (which they cannot while
    disabled or locked)."""


class DatabaseUnavailable(ServiceError):
    """The database server cannot be reached, or the connection to it broke (a
    restart, the network): nothing was changed. Screens keep what the user typed;
    the next call after the server is back connects anew."""


@contextmanager
def server_required() -> Iterator[None]:
    """A database server out of reach in this block is :class:`DatabaseUnavailable`."""
    try:
        with unreachable_reported():
            yield
    except ServerUnreachable as error:
        raise DatabaseUnavailable(error.message) from error.__cause__
