"""The audit log's chains on PostgreSQL: writers append at once, tampering is still named.

Every tamper of tests/store/test_audit_tamper.py (edit, delete a middle row, delete
the newest rows, reorder, rehash) is tried on each of three chains of one log.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from runtime.store.audit import (
    CHANGED,
    HEAD_MISSING,
    MOVED,
    AuditEntry,
    append,
    row_hash,
)
from runtime.store.audit_chains import CHAINS, prefer_chain
from runtime.store.audit_verify import TAIL_MISSING, make_checkpoint, verify_workspace
from runtime.store.schema import audit_chains_table, audit_table
from runtime.store.workspace import Workspace

USED_CHAINS = (0, 7, CHAINS - 1)


@pytest.fixture
def workspace(postgres_url):
    opened = Workspace.open(postgres_url)
    yield opened
    opened.dispose()


def login(connection, number: int) -> int:
    return append(connection, AuditEntry("login", number, f"user{number}"))


@pytest.fixture
def spread(workspace) -> dict[int, list[int]]:
    """Twelve rows, four on each of three chains, interleaved: chain → its row ids."""
    ids: dict[int, list[int]] = {chain: [] for chain in USED_CHAINS}
    for number in range(12):
        chain = USED_CHAINS[number % 3]
        with prefer_chain(chain), workspace.engine.begin() as connection:
            ids[chain].append(login(connection, number))
    return ids


def verify(workspace, against=None):
    with workspace.snapshot_reader() as connection:
        return verify_workspace(connection, workspace.registry, against=against)


def stored_chains(workspace) -> dict[int, int]:
    """Row id → the chain it is stored on."""
    with workspace.reader() as connection:
        rows = connection.execute(sa.select(audit_table.c.id, audit_table.c.chain))
        return {row.id: row.chain for row in rows}


def test_rows_go_on_the_chain_asked_for_and_the_log_verifies(workspace, spread):
    chains = stored_chains(workspace)
    for chain, ids in spread.items():
        assert {chains[ident] for ident in ids} == {chain}
    report = verify(workspace)
    assert report.ok, report
    assert report.rows == len(chains)


@pytest.mark.parametrize("chain", USED_CHAINS)
def test_an_edited_row_is_named_on_every_chain(workspace, spread, chain):
    target = spread[chain][1]
    with workspace.engine.begin() as connection:
        connection.execute(
            audit_table.update().where(audit_table.c.id == target).values(username="mallory")
        )
    assert (verify(workspace).broken_id, verify(workspace).reason) == (target, CHANGED)


@pytest.mark.parametrize("chain", USED_CHAINS)
def test_a_deleted_middle_row_is_named_on_every_chain(workspace, spread, chain):
    with workspace.engine.begin() as connection:
        connection.execute(audit_table.delete().where(audit_table.c.id == spread[chain][1]))
    report = verify(workspace)
    assert (report.ok, report.broken_id, report.reason) == (False, spread[chain][2], MOVED)


@pytest.mark.parametrize("chain", USED_CHAINS)
def test_a_deleted_newest_row_is_named_by_its_head_on_every_chain(workspace, spread, chain):
    newest = spread[chain][-1]
    with workspace.engine.begin() as connection:
        connection.execute(audit_table.delete().where(audit_table.c.id == newest))
    report = verify(workspace)
    assert (report.ok, report.broken_id, report.reason) == (False, newest, HEAD_MISSING)


@pytest.mark.parametrize("chain", USED_CHAINS)
def test_a_deleted_newest_row_with_its_head_moved_back_is_caught_by_a_checkpoint(
    workspace, spread, chain
):
    newest, before = spread[chain][-1], spread[chain][-2]
    point = checkpoint(workspace)
    with workspace.engine.begin() as connection:
        connection.execute(audit_table.delete().where(audit_table.c.id == newest))
        previous = connection.execute(
            sa.select(audit_table.c.hash).where(audit_table.c.id == before)
        ).scalar_one()
        heads = audit_chains_table
        connection.execute(
            heads.update().where(heads.c.chain == chain).values(last_id=before, hash=previous)
        )
    assert verify(workspace).ok  # the log alone cannot tell
    report = verify(workspace, against=point)
    assert (report.ok, report.broken_id, report.reason) == (False, newest, TAIL_MISSING)


def checkpoint(workspace):
    with workspace.snapshot_reader() as connection:
        return make_checkpoint(connection)


@pytest.mark.parametrize("chain", USED_CHAINS)
def test_reordered_rows_are_named_on_every_chain(workspace, spread, chain):
    first, second = spread[chain][1], spread[chain][2]
    with workspace.engine.begin() as connection:
        for old, new in ((first, -1), (second, first), (-1, second)):
            connection.execute(audit_table.update().where(audit_table.c.id == old).values(id=new))
    report = verify(workspace)
    assert (report.ok, report.broken_id) == (False, first)


@pytest.mark.parametrize("chain", USED_CHAINS)
def test_a_rehashed_row_is_named_on_every_chain(workspace, spread, chain):
    """Content changed and every later link of its chain recomputed without the key."""
    ids = spread[chain][1:]
    with workspace.engine.begin() as connection:
        rows = [
            dict(row)
            for row in connection.execute(
                sa.select(audit_table).where(audit_table.c.id.in_(ids)).order_by(audit_table.c.id)
            ).mappings()
        ]
        rows[0]["username"] = "mallory"
        prev = rows[0]["prev_hash"]
        for row in rows:
            row["prev_hash"], row["hash"] = prev, row_hash(prev, row)
            prev = row["hash"]
            connection.execute(
                audit_table.update().where(audit_table.c.id == row["id"]).values(**row)
            )
    report = verify(workspace)
    assert (report.ok, report.broken_id, report.reason) == (False, ids[0], CHANGED)


def test_concurrent_writers_take_different_chains_without_waiting(workspace):
    """A transaction that appended and has not committed holds its chain; another
    writer does not wait for it (a lock wait would hit the 2 s lock timeout)."""
    holder = workspace.engine.connect()
    held = holder.begin()
    login(holder, 1)
    other = Workspace.open(workspace.engine.url.render_as_string(hide_password=False))
    try:
        with other.engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            started = time.monotonic()
            login(connection, 2)
            assert time.monotonic() - started < 1.5
        held.commit()
    finally:
        holder.close()
        other.dispose()
    assert len(set(stored_chains(workspace).values())) == 2
    assert verify(workspace).ok


def test_many_threads_append_at_once_and_the_log_verifies(workspace):
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def write(number: int) -> None:
        try:
            start.wait()
            for n in range(15):
                with workspace.engine.begin() as connection:
                    login(connection, number * 100 + n)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify(workspace)
    assert (report.ok, report.rows) == (True, 90), report


def test_a_writer_whose_chain_moved_on_links_to_the_new_head(workspace):
    """Two workstations preferring one chain: each one's remembered head goes stale
    when the other appends; the next append links to the real head."""
    other = Workspace.open(workspace.engine.url.render_as_string(hide_password=False))
    try:
        with prefer_chain(5):
            for engine in (workspace.engine, other.engine, workspace.engine, other.engine):
                with engine.begin() as connection:
                    login(connection, 1)
    finally:
        other.dispose()
    assert set(stored_chains(workspace).values()) == {5}
    assert verify(workspace).ok


def test_rolled_back_appends_leave_the_chain_intact(workspace):
    with workspace.engine.begin() as connection:
        login(connection, 1)
    connection = workspace.engine.connect()
    transaction = connection.begin()
    login(connection, 2)
    transaction.rollback()  # the remembered head is now a row that never was
    with connection.begin():
        login(connection, 3)
        savepoint = connection.begin_nested()
        login(connection, 4)
        savepoint.rollback()
        login(connection, 5)
    connection.close()
    report = verify(workspace)
    assert (report.ok, report.rows) == (True, 3), report


def test_an_append_on_a_remembered_head_is_one_statement(workspace):
    with workspace.engine.begin() as connection:
        login(connection, 1)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(workspace.engine, "before_cursor_execute", count)
    try:
        with workspace.engine.begin() as connection:
            login(connection, 2)
    finally:
        sa.event.remove(workspace.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    assert verify(workspace).ok


def test_a_checkpoint_holds_when_an_older_id_commits_after_it(workspace):
    """Chains commit out of id order: a row with a lower id that commits after the
    checkpoint is no rewrite (a whole-log row count would say it is)."""
    late = workspace.engine.connect()
    transaction = late.begin()
    with prefer_chain(3):
        login(late, 1)  # the lower id, not committed yet
    with prefer_chain(4), workspace.engine.begin() as connection:
        login(connection, 2)
    point = checkpoint(workspace)
    transaction.commit()
    late.close()
    report = verify(workspace, against=point)
    assert report.ok, report


def test_a_formwright_older_than_chains_cannot_fork_one(workspace, spread):
    """A row without a chain (what a runtime of schema 3 would write, linked to the
    newest row overall) is refused by the database."""
    row = {
        "at": sa.func.now(),
        "action": "login",
        "prev_hash": "0" * 64,
        "hash": "0" * 64,
    }
    with pytest.raises(sa.exc.IntegrityError), workspace.engine.begin() as connection:
        connection.execute(audit_table.insert().values(**row))


def test_head_rows_deleted_are_made_again_from_the_log(workspace, spread):
    with workspace.engine.begin() as connection:
        connection.execute(audit_chains_table.delete())
    for chain in USED_CHAINS:
        with prefer_chain(chain), workspace.engine.begin() as connection:
            login(connection, 99)
    report = verify(workspace)
    assert (report.ok, report.rows) == (True, 15), report
