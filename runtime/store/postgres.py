"""PostgreSQL engines for many workstations sharing one server.

Each runtime keeps a small pool (:data:`POOL_SIZE` connections: the window, a
list's page reader and its counter; :data:`MAX_OVERFLOW` more at a peak), so a
server's ``max_connections`` must allow about five per workstation, or PgBouncer
stands in front (below).

**Timeouts.** Connecting gives up after :data:`CONNECT_TIMEOUT_S`; TCP keepalives
and a TCP user timeout notice a server that vanished without closing the
connection (a pulled cable, a crashed machine). Two server settings protect the
shared server from one workstation: ``lock_timeout`` turns a long wait for another
workstation's change into a clear message, and
``idle_in_transaction_session_timeout`` ends the session of a workstation that
hung inside a transaction (it would hold its locks for everyone).

**No ping per checkout.** ``pool_pre_ping`` costs a round trip on every save and
every page. Instead a connection is checked locally when it leaves the pool
(:func:`_discard_if_closed_by_server`): a server that restarts or ends a session
says goodbye and closes the socket, so the socket of an idle connection has
something to read. A connection whose server vanished without a word fails on
its first statement; SQLAlchemy then drops the whole pool and
``runtime.store.transactions.run_transaction`` tries the unit of work once more
when nothing of it had reached the server.

**PgBouncer in transaction mode** (``?pgbouncer=true`` in the workspace URL): a
server connection serves another client after each transaction, so nothing may
live in the session. Formwright's locks are transaction locks and its settings
change nothing outside a transaction; what the URL switches off is psycopg's
server-side prepared statements (PgBouncer before 1.21 does not carry them over),
and the server settings, which PgBouncer refuses in the startup packet, are given
with ``SET LOCAL`` (``set_config``) at the start of each transaction that may write instead.
"""

from __future__ import annotations

import functools
import select
import weakref
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DisconnectionError

from resources.messages import tr
from runtime.store.connection import Connection, driver_connection

#: Connections each runtime keeps open, and how many more it may open at a peak
#: (closed again when returned).
POOL_SIZE = 3
MAX_OVERFLOW = 2
#: How long a caller waits for a free connection of the pool (seconds).
POOL_TIMEOUT_S = 30
#: Connections are replaced after this long (seconds): firewalls drop old ones.
POOL_RECYCLE_S = 1800
#: libpq's ``connect_timeout``: how long reaching the server may take (seconds).
CONNECT_TIMEOUT_S = 5
#: A dead server is noticed on an idle connection after about 60 + 6 × 10 s, and a
#: statement sent to it fails after TCP_USER_TIMEOUT_MS without an answer.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 60, "keepalives_interval": 10}
TCP_USER_TIMEOUT_MS = 30_000
#: Server settings of every session (PostgreSQL's units).
SERVER_SETTINGS = {
    "lock_timeout": "15s",
    "idle_in_transaction_session_timeout": "60s",
}
#: The URL option saying that the server is reached through PgBouncer.
PGBOUNCER_OPTION = "pgbouncer"
APPLICATION_NAME = "formwright"

_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


class UrlOptionError(ValueError):
    """A Formwright option of the URL with a value it cannot have."""


def behind_pgbouncer(url: URL) -> bool:
    """Whether the URL says ``pgbouncer=true`` (UrlOptionError for a value that is
    neither true nor false)."""
    value = url.query.get(PGBOUNCER_OPTION, "false")
    text = (value if isinstance(value, str) else value[-1]).strip().lower()
    if text not in _TRUE | _FALSE:
        message = tr("the database address option pgbouncer={value} must be true or false")
        raise UrlOptionError(message.format(value=text))
    return text in _TRUE


def postgres_engine(url: URL) -> Engine:
    """An engine with a small pool, timeouts and no ping per checkout (see module)."""
    pgbouncer = behind_pgbouncer(url)
    url = url.difference_update_query([PGBOUNCER_OPTION])
    engine = sa.create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT_S,
        pool_recycle=POOL_RECYCLE_S,
        connect_args=connect_arguments(url, pgbouncer),
    )
    sa.event.listen(engine, "checkout", _discard_if_closed_by_server)
    if pgbouncer:
        sa.event.listen(engine, "begin", _set_local_timeouts)
    return engine


def connect_arguments(url: URL, pgbouncer: bool) -> dict[str, Any]:
    """psycopg's connection arguments; what the URL sets itself is kept."""
    arguments: dict[str, Any] = {
        "cursor_factory": _answering_cursor(),
        "connect_timeout": CONNECT_TIMEOUT_S,
        "application_name": APPLICATION_NAME,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
        **KEEPALIVES,
    }
    if pgbouncer:
        arguments["prepare_threshold"] = None  # no server-side prepared statements
    else:
        own = " ".join(f"-c {name}={value}" for name, value in SERVER_SETTINGS.items())
        given = url.query.get("options")
        arguments["options"] = f"{given} {own}" if isinstance(given, str) else own
    given_here = {key: value for key, value in url.query.items() if key in arguments}
    return arguments | {key: value for key, value in given_here.items() if key != "options"}


#: ``set_config(…, true)`` is ``SET LOCAL``, and both settings are one statement.
_SET_LOCAL_SETTINGS = "SELECT " + ", ".join(
    f"set_config('{name}', '{value}', true)" for name, value in SERVER_SETTINGS.items()
)


def _set_local_timeouts(connection) -> None:
    """Behind PgBouncer: the server settings for this transaction only. Reads skip
    it (they take no locks that others wait for); PgBouncer's own
    ``idle_transaction_timeout`` ends a client idle inside any transaction."""
    if connection.get_execution_options().get("read_only", False):
        return
    connection.exec_driver_sql(_SET_LOCAL_SETTINGS)


def _discard_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """An idle connection has nothing to read unless its server said goodbye (a
    restart, an ended session) or closed it: then the pool connects anew.

    A local check (a zero-timeout ``select``, a few µs), not a round trip."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    socket = dbapi_connection.pgconn.socket
    readable, _, failed = select.select([socket], [], [socket], 0)
    if readable or failed:
        raise DisconnectionError("the server closed the connection")


#: psycopg connections whose server answered a statement since :func:`watch_answers`.
_ANSWERED: weakref.WeakSet = weakref.WeakSet()


def watch_answers(connection: Connection) -> Callable[[], bool]:
    """From now on: whether the server has answered a statement on ``connection``
    (``run_transaction`` tries a unit of work again only if it had not). Noted by
    the cursor of :func:`_answering_cursor`, which every statement uses (SQLAlchemy's
    and the driver-level ones), for a few µs less than an engine event."""
    if connection.dialect.name != "postgresql":
        return lambda: False
    driver = driver_connection(connection.connection)
    _ANSWERED.discard(driver)
    return lambda: driver in _ANSWERED


@functools.cache
def _answering_cursor() -> type:
    """psycopg's cursor, noting on each answered statement that its connection had
    an answer (made on first use: SQLite-only runs need not import psycopg)."""
    import psycopg

    class AnsweringCursor(psycopg.Cursor):
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            result = super().execute(*args, **kwargs)
            _ANSWERED.add(self.connection)
            return result

        def executemany(self, *args: Any, **kwargs: Any) -> None:
            super().executemany(*args, **kwargs)
            _ANSWERED.add(self.connection)

    return AnsweringCursor


__all__ = [
    "POOL_SIZE",
    "SERVER_SETTINGS",
    "UrlOptionError",
    "behind_pgbouncer",
    "postgres_engine",
    "watch_answers",
]
