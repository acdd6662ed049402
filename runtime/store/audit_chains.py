"""The audit log's chains on PostgreSQL: concurrent writers append without queueing.

One hash chain for the whole log would make every write transaction of every
workstation wait for the one before it to commit (its head is the next row's
link). So a PostgreSQL workspace keeps :data:`CHAINS` chains, each with its head
in a row of ``fw_audit_chains``. A writer locks one head row for the rest of its
transaction with ``FOR UPDATE SKIP LOCKED``: a head another transaction holds is
skipped, never waited for, so up to :data:`CHAINS` transactions append at once.
Within a chain, rows are appended under that row lock, so their ids rise in chain
order and each links to the one before it; the log check walks all rows in id
order keeping one link per chain (:mod:`runtime.store.audit`).

Each process prefers one chain (chosen at random when it starts) and remembers
the head it wrote last: when nobody appended to its chain since, the next row
goes in with one statement that checks the head, locks it, inserts the row and
moves the head (:func:`append_if_head`). Otherwise (another writer holds it or
moved it) it locks a free chain and reads its head first (:func:`lock_chain`),
then inserts (:func:`append_at`): two statements.

SQLite's ``BEGIN IMMEDIATE`` already serializes writers: there every row is on
chain 0 and the head is the newest row (no head rows are kept).
"""

from __future__ import annotations

import random
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Dialect, Engine

from runtime.store.driver_write import DriverWrite
from runtime.store.schema import audit_chains_table, audit_table

#: Chains of a PostgreSQL workspace: how many transactions may append at once
#: without waiting (a workspace of more concurrent writers queues a few of them).
CHAINS = 32

_ROW_COLUMNS = [column for column in audit_table.columns if column.name != "id"]
_COLUMN_LIST = ", ".join(column.name for column in _ROW_COLUMNS)
_VALUE_LIST = ", ".join(f":{column.name}" for column in _ROW_COLUMNS)
_HEAD_TYPES = {"last_id": sa.BigInteger()}


def _typed(sql: str) -> sa.TextClause:
    """``sql`` with its parameters typed as the audit columns (so PostgreSQL is told
    the type of a NULL as well)."""
    binds = [sa.bindparam(column.name, type_=column.type) for column in _ROW_COLUMNS]
    binds += [sa.bindparam(name, type_=kind) for name, kind in _HEAD_TYPES.items()]
    used = [bind for bind in binds if f":{bind.key}" in sql]
    return sa.text(sql).bindparams(*used)


#: The row goes in when the chain's head is still ``last_id`` and no other
#: transaction holds it; the head moves to it. No row returned: try another way.
_APPEND_IF_HEAD = _typed(
    f"""
WITH lane AS (
    SELECT chain FROM fw_audit_chains
    WHERE chain = :chain AND last_id = :last_id
    FOR UPDATE SKIP LOCKED
), new_row AS (
    INSERT INTO fw_audit ({_COLUMN_LIST}) SELECT {_VALUE_LIST} FROM lane RETURNING id
)
UPDATE fw_audit_chains SET last_id = new_row.id, hash = :hash, key_id = :key_id
FROM new_row WHERE fw_audit_chains.chain = :chain
RETURNING new_row.id
"""
)

#: The row goes in on a chain this transaction holds; the head moves to it.
_APPEND_AT = _typed(
    f"""
WITH new_row AS (
    INSERT INTO fw_audit ({_COLUMN_LIST}) VALUES ({_VALUE_LIST}) RETURNING id
)
UPDATE fw_audit_chains SET last_id = new_row.id, hash = :hash, key_id = :key_id
FROM new_row WHERE fw_audit_chains.chain = :chain
RETURNING new_row.id
"""
)


def _lock_query(skip_locked: bool) -> sa.Select:
    """The head row to take: this process's preferred chain first, then the next ones.

    A chain whose head is an unsigned row (chain 0 of a log written before schema 3)
    comes before all: the first signed row must follow it, so that its signature
    covers the unsigned rows before it (see runtime.store.audit)."""
    heads = audit_chains_table
    unsigned_head = sa.and_(heads.c.hash.is_not(None), heads.c.key_id.is_(None))
    order = (heads.c.chain + CHAINS - sa.bindparam("preferred", type_=sa.Integer)) % CHAINS
    query = sa.select(heads.c.chain, heads.c.last_id, heads.c.hash, heads.c.key_id)
    query = query.order_by(unsigned_head.desc(), order).limit(1)
    return query.with_for_update(skip_locked=skip_locked)


_LOCK_FREE_CHAIN = _lock_query(skip_locked=True)
_LOCK_ANY_CHAIN = _lock_query(skip_locked=False)


def _chain_ends_query() -> sa.Select:
    """Chain, row count, newest id and its hash and key id, of every chain that has
    rows (rows written before chains existed are chain 0), in one query (so in one
    snapshot)."""
    chain = sa.func.coalesce(audit_table.c.chain, 0)
    ends = (
        sa.select(
            chain.label("chain"),
            sa.func.count().label("rows"),
            sa.func.max(audit_table.c.id).label("last_id"),
        )
        .group_by(chain)
        .subquery()
    )
    newest = audit_table.c.hash, audit_table.c.key_id
    return (
        sa.select(ends.c.chain, ends.c.rows, ends.c.last_id, *newest)
        .join_from(ends, audit_table, audit_table.c.id == ends.c.last_id)
        .order_by(ends.c.chain)
    )


CHAIN_ENDS = _chain_ends_query()


@dataclass(frozen=True)
class ChainHead:
    """A chain and its newest row (``last_id``/``hash`` None: no row yet)."""

    chain: int
    last_id: int | None
    hash: str | None
    key_id: str | None


#: Engine → the head this process wrote last (its chain is the one it prefers).
_written: weakref.WeakKeyDictionary[Engine, ChainHead] = weakref.WeakKeyDictionary()
_preferred = random.randrange(CHAINS)


def preferred_chain() -> int:
    return _preferred


@contextmanager
def prefer_chain(chain: int) -> Iterator[None]:
    """Append on ``chain`` (when free) while inside; for tests that build a log
    spread over several chains."""
    global _preferred
    before, _preferred = _preferred, chain
    _written.clear()
    try:
        yield
    finally:
        _preferred = before
        _written.clear()


def remembered_head(connection: Connection) -> ChainHead | None:
    """The head this process wrote last in this workspace, if any."""
    return _written.get(connection.engine)


def remember(connection: Connection, head: ChainHead) -> None:
    """Note the head just written. Kept even if the transaction then rolls back: the
    next :func:`append_if_head` then finds another head and takes the long way."""
    _written[connection.engine] = head


#: Dialect → the two append statements compiled for it (every save runs one).
_compiled: weakref.WeakKeyDictionary[Dialect, dict[str, DriverWrite]] = weakref.WeakKeyDictionary()


def _statement(connection: Connection, name: str) -> DriverWrite:
    statements = _compiled.get(connection.dialect)
    if statements is None:
        statements = _compiled[connection.dialect] = {
            "if_head": DriverWrite(_APPEND_IF_HEAD, connection.dialect),
            "at": DriverWrite(_APPEND_AT, connection.dialect),
        }
    return statements[name]


def append_if_head(connection: Connection, head: ChainHead, row: Mapping[str, Any]) -> int | None:
    """Insert ``row`` (linked to ``head``) in one statement if ``head`` is still its
    chain's head and free; its id, or None (nothing written)."""
    params = {**row, "chain": head.chain, "last_id": head.last_id}
    found = _statement(connection, "if_head").rows(connection, params)
    return found[0][0] if found else None


def lock_chain(connection: Connection) -> ChainHead:
    """Take a chain for the rest of the transaction and read its head: a free one
    (the preferred first), else wait for the preferred one."""
    params = {"preferred": _preferred}
    found = connection.execute(_LOCK_FREE_CHAIN, params).first()
    if found is None:
        if not connection.execute(
            sa.select(sa.func.count()).select_from(audit_chains_table)
        ).scalar():
            prepare_chains(connection)  # head rows deleted: start them again
        found = connection.execute(_LOCK_ANY_CHAIN, params).one()
    return ChainHead(found.chain, found.last_id, found.hash, found.key_id)


def append_at(connection: Connection, chain: int, row: Mapping[str, Any]) -> int:
    """Insert ``row`` on ``chain``, which this transaction holds; its id."""
    return _statement(connection, "at").rows(connection, {**row, "chain": chain})[0][0]


def prepare_chains(connection: Connection) -> None:
    """PostgreSQL: the head rows of every chain, made when missing, each naming its
    chain's newest row (chain 0 holds every row written before chains existed), and
    a check that refuses rows without a chain, which only a Formwright older than
    schema 4 would write (its link to the newest row overall would fork a chain)."""
    if connection.dialect.name != "postgresql":
        return
    found = {end.chain: end for end in connection.execute(CHAIN_ENDS)}
    rows = []
    for number in range(CHAINS):
        row = found.get(number)
        rows.append(
            {
                "chain": number,
                "last_id": row.last_id if row else None,
                "hash": row.hash if row else None,
                "key_id": row.key_id if row else None,
            }
        )
    insert = postgresql.insert(audit_chains_table).on_conflict_do_nothing()
    connection.execute(insert, rows)
    connection.exec_driver_sql(
        "DO $$ BEGIN "
        "ALTER TABLE fw_audit ADD CONSTRAINT fw_audit_chain_given CHECK (chain IS NOT NULL) "
        "NOT VALID; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )


def chain_heads(connection: Connection) -> dict[int, ChainHead]:
    """The head rows as stored (PostgreSQL; empty on SQLite), for the log check."""
    heads = audit_chains_table
    rows = connection.execute(sa.select(heads).where(heads.c.last_id.is_not(None)))
    return {row.chain: ChainHead(row.chain, row.last_id, row.hash, row.key_id) for row in rows}
