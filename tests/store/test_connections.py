"""PostgreSQL connections for many workstations: a small pool, timeouts set on the
server, no ping per checkout, and one more try only when nothing had been done."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from runtime.store.engine import WorkspaceError, create_engine
from runtime.store.postgres import CONNECT_TIMEOUT_S, MAX_OVERFLOW, POOL_SIZE, SERVER_SETTINGS
from runtime.store.transactions import DatabaseRefused, ServerUnreachable, run_transaction
from runtime.store.workspace import Workspace

pytestmark = pytest.mark.postgres

NOTES = sa.table("notes", sa.column("id"), sa.column("text"))


@pytest.fixture
def engine(postgres_url):
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (id serial PRIMARY KEY, text text)")
    yield engine
    engine.dispose()


def setting(connection, name: str) -> str:
    return connection.exec_driver_sql(f"SELECT current_setting('{name}')").scalar()


def notes(engine) -> list[str]:
    with engine.connect() as connection:
        return connection.execute(sa.select(NOTES.c.text).order_by(NOTES.c.id)).scalars().all()


def backend_pid(connection) -> int:
    return connection.connection.driver_connection.info.backend_pid  # known locally


def end_session(connection, pid: int | None = None) -> None:
    """End ``connection``'s server session (or session ``pid``) from another one, as
    a server restart does, and wait until the server has let it go."""
    pid = pid or backend_pid(connection)
    admin = sa.create_engine(connection.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        gone = sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        while other.execute(gone, {"pid": pid}).scalar():
            time.sleep(0.01)
    admin.dispose()


def test_a_small_pool_without_a_ping_per_checkout(engine):
    pool = engine.pool
    assert (pool.size(), pool._max_overflow) == (POOL_SIZE, MAX_OVERFLOW) == (3, 2)
    assert pool._timeout == 30 and pool._recycle == 1800
    assert pool._pre_ping is False
    with engine.connect() as connection:
        used = connection.connection.driver_connection.info.get_parameters()
    assert used["connect_timeout"] == str(CONNECT_TIMEOUT_S) == "5"
    assert used["keepalives_idle"] == "60" and used["tcp_user_timeout"] == "30000"


def test_every_session_has_the_timeouts_that_protect_a_shared_server(engine):
    with engine.connect() as connection:
        assert setting(connection, "lock_timeout") == SERVER_SETTINGS["lock_timeout"] == "15s"
        assert setting(connection, "idle_in_transaction_session_timeout") == "1min"
        assert setting(connection, "application_name") == "formwright"


def test_behind_pgbouncer_writes_set_their_timeouts_and_nothing_is_prepared(postgres_url):
    """``?pgbouncer=true``: no startup options (PgBouncer refuses them), the settings
    for each transaction that may write instead, and no server-side prepared
    statements; a server reached directly accepts all that too."""
    engine = create_engine(f"{postgres_url}?pgbouncer=true")
    try:
        with engine.begin() as connection:
            assert setting(connection, "lock_timeout") == "15s"
            assert connection.connection.driver_connection.prepare_threshold is None
        with Workspace(engine).reader() as connection:
            assert setting(connection, "lock_timeout") == "0"  # reads take no such locks
    finally:
        engine.dispose()


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_pgbouncer_option_that_is_neither_true_nor_false_is_refused(value):
    with pytest.raises(WorkspaceError) as refused:
        create_engine(f"postgresql+psycopg://u@localhost/db?pgbouncer={value}")
    assert "pgbouncer" in refused.value.message and "true or false" in refused.value.message


def test_a_connection_the_server_ended_in_the_pool_is_replaced_unnoticed(engine):
    """The server said goodbye (a restart, pg_terminate_backend): the pool's local
    check sees it when the connection leaves the pool, no statement fails."""
    with engine.connect() as connection:
        pid = backend_pid(connection)
    end_session(connection, pid)  # while it waits in the pool
    assert notes(engine) == []  # a read: no second try would hide a failure
    with engine.connect() as connection:
        assert backend_pid(connection) != pid


def test_a_connection_dead_before_the_first_statement_is_tried_once_more(engine):
    """A connection that died without a word (here: ended after it left the pool)
    fails on the unit of work's first statement; nothing had reached the server,
    so the work runs once more on a new connection and is stored once."""
    tries: list[int] = []

    def work(connection):
        tries.append(backend_pid(connection))
        if len(tries) == 1:
            end_session(connection)
        connection.execute(NOTES.insert().values(text="saved once"))

    run_transaction(engine, work)
    assert len(tries) == 2 and tries[0] != tries[1]
    assert notes(engine) == ["saved once"]


def test_a_connection_lost_in_the_middle_of_the_work_is_not_tried_again(engine):
    tries = []

    def work(connection):
        tries.append(1)
        connection.execute(NOTES.insert().values(text="first"))
        end_session(connection)
        connection.execute(NOTES.insert().values(text="second"))

    with pytest.raises(ServerUnreachable) as lost:
        run_transaction(engine, work)
    assert lost.value.message == (
        "the database server cannot be reached (it may be restarting, or the network is "
        "down), so nothing was saved"
    )
    assert tries == [1] and notes(engine) == []


def test_a_connection_lost_at_the_commit_says_the_change_may_be_stored(engine):
    def work(connection):
        connection.execute(NOTES.insert().values(text="unknown"))
        end_session(connection)

    with pytest.raises(ServerUnreachable) as lost:
        run_transaction(engine, work)
    assert "may or may not be stored" in lost.value.message
    assert notes(engine) == []  # here it was not: the server ended the session first


def test_a_server_out_of_reach_is_one_plain_sentence():
    engine = create_engine("postgresql+psycopg://nurse:s3cret@127.0.0.1:1/ward")
    with pytest.raises(ServerUnreachable) as away:
        run_transaction(engine, lambda c: c.execute(NOTES.insert().values(text="x")))
    assert away.value.message.startswith("the database server cannot be reached")
    assert "s3cret" not in away.value.message and "[SQL" not in away.value.message


def test_a_lock_wait_that_runs_out_is_a_plain_sentence(engine):
    """lock_timeout turns a long wait behind another workstation into a message."""
    run_transaction(engine, lambda c: c.execute(NOTES.insert().values(text="held")))
    with engine.begin() as holder:
        holder.execute(NOTES.update().values(text="being changed"))

        def work(connection):
            connection.exec_driver_sql("SET LOCAL lock_timeout = '50ms'")
            connection.execute(NOTES.update().values(text="mine"))

        with pytest.raises(DatabaseRefused) as refused:
            run_transaction(engine, work)
    assert not isinstance(refused.value, ServerUnreachable)
    assert refused.value.message == (
        "another workstation's change held this one up for too long; try again"
    )
