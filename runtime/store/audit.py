"""The audit log: one hash-chained row per change, login, export and import.

Each row's ``hash`` covers the previous row's hash and this row's content, so
editing, deleting or reordering any row breaks the chain from there on and
:func:`verify_chain` names the first broken row; :func:`verify_chain_steps` does
the same walk step by step, so a screen can show progress and cancel it.

Since schema 3 every new row is *signed*: its hash is an HMAC under a key kept
outside the database (:mod:`runtime.store.audit_keys`), and ``key_id`` names the
key. Rows written before are plain SHA-256 and stay checkable; the signed part
begins with an ``audit_signing`` row, and an unsigned row after a signed one
breaks the chain (so the signed tail cannot be rewritten as unsigned rows). A row
that writes records also holds their *seals* (``seals``, see
:mod:`runtime.store.audit_seals`), which the check compares with the records.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import uuid
import weakref
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping

from runtime.store import audit_chains
from runtime.store.audit_chains import ChainHead
from runtime.store.audit_keys import AuditKey, available_keys, signing_key
from runtime.store.audit_seals import Seals
from runtime.store.connection import inserted_id
from runtime.store.schema import audit_table, meta_table, users_table

GENESIS_HASH = "0" * 64

_WORKSTATION = socket.gethostname()[:200]


def utc_now() -> datetime:
    """Naive UTC timestamp, the form every system column stores."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class AuditEntry:
    action: str
    user_id: int | None = None
    username: str | None = None
    app_id: str | None = None
    form: str | None = None
    record_id: int | None = None
    details: dict[str, Any] | None = None
    #: Record id → its seal after this change (None: the record is gone).
    seals: Seals | Mapping[int, str | None] | None = None


#: The action of the row that begins the signed part of a log.
SIGNING_ACTION = "audit_signing"
#: The action of a row that only holds seals: the rest of a long write's, or new
#: seals of every record of a form (after an upgrade, when signing began).
SEALS_ACTION = "records_sealed"
#: Seals per audit row; a bulk write of more records continues in further rows.
SEALS_PER_ROW = 20000


def ensure_workspace_id(connection: Connection) -> str:
    """The workspace's id (``fw_meta``), created when missing; names its audit keys."""
    query = sa.select(meta_table.c.value).where(meta_table.c.key == "workspace_id")
    found = connection.execute(query).scalar()
    if found:
        return found
    new = uuid.uuid4().hex
    connection.execute(meta_table.insert().values(key="workspace_id", value=new))
    return new


def workspace_id(connection: Connection) -> str | None:
    query = sa.select(meta_table.c.value).where(meta_table.c.key == "workspace_id")
    return connection.execute(query).scalar()


def _content(row: dict[str, Any]) -> str:
    """The canonical text a row's hash covers (everything but the hashes and id)."""
    at = row["at"].isoformat() if isinstance(row["at"], datetime) else str(row["at"])
    fields = [
        at,
        row["user_id"],
        row["username"],
        row["workstation"],
        row["action"],
        row["app_id"],
        row["form"],
        row["record_id"],
        row["details"],
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=str)


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The unsigned (pre-schema-3) hash of a row: what anyone can recompute."""
    return hashlib.sha256((prev_hash + _content(row)).encode("utf-8")).hexdigest()


def signed_hash(key: AuditKey, prev_hash: str, row: Mapping[str, Any] | RowMapping) -> str:
    """The signed hash of a row: an HMAC over the link, the content, the key id
    and the seals, which only the holder of the key can compute."""
    text = "\x1f".join((prev_hash, _content(dict(row)), row["key_id"], row["seals"] or ""))
    return key.sign(text)


def _last(column: sa.Column) -> sa.ScalarSelect:
    return sa.select(column).order_by(audit_table.c.id.desc()).limit(1).scalar_subquery()


#: SQLite: what an append needs to know, in one query (it runs with every save): the
#: workspace id (names the key) and the hash and key id of the newest row.
_HEAD = sa.select(
    sa.select(meta_table.c.value).where(meta_table.c.key == "workspace_id").scalar_subquery(),
    _last(audit_table.c.hash),
    _last(audit_table.c.key_id),
)

#: Engine → its workspace id (PostgreSQL appends do not read it with every row).
_workspace_ids: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def append(connection: Connection, entry: AuditEntry, at: datetime | None = None) -> int:
    """Add one signed row in the caller's transaction; returns its id.

    In a log of unsigned rows (written before schema 3), the first signed row is
    preceded by an ``audit_signing`` row that marks where signing began. On
    PostgreSQL the row goes on one of several chains (:mod:`runtime.store.audit_chains`).
    """
    if connection.dialect.name == "postgresql":
        return _append_postgresql(connection, entry, at)
    ident, last_hash, last_key_id = connection.execute(_HEAD).one()
    key = signing_key(ident or ensure_workspace_id(connection))
    head = ChainHead(0, None, last_hash, last_key_id)
    return _append_rows(connection, key, head, entry, at, _insert_sqlite)


def _insert_sqlite(connection: Connection, chain: int, row: dict[str, Any]) -> int:
    return inserted_id(connection.execute(audit_table.insert(), row))


def _append_postgresql(connection: Connection, entry: AuditEntry, at: datetime | None) -> int:
    """One statement when this process's chain head is as it left it, else two."""
    key = signing_key(_workspace_id_of(connection))
    seals = _seals(entry)
    remembered = audit_chains.remembered_head(connection)
    if remembered is not None and remembered.key_id == key.key_id and len(seals) <= 1:
        one = replace(entry, seals=seals[0] if seals else None)
        row = _signed_row(key, remembered.hash or GENESIS_HASH, remembered.chain, one, at)
        ident = audit_chains.append_if_head(connection, remembered, row)
        if ident is not None:
            audit_chains.remember(connection, _head_after(remembered.chain, ident, row))
            return ident
    head = audit_chains.lock_chain(connection)
    return _append_rows(connection, key, head, entry, at, audit_chains.append_at)


def _workspace_id_of(connection: Connection) -> str:
    known = _workspace_ids.get(connection.engine)
    if known is None:
        known = _workspace_ids[connection.engine] = ensure_workspace_id(connection)
    return known


def _seals(entry: AuditEntry) -> list[Seals]:
    seals = entry.seals if isinstance(entry.seals, Seals) else Seals.of(entry.seals or {})
    return seals.split(SEALS_PER_ROW)


def _append_rows(
    connection: Connection,
    key: AuditKey,
    head: ChainHead,
    entry: AuditEntry,
    at: datetime | None,
    insert: Callable[[Connection, int, dict[str, Any]], int],
) -> int:
    """Write ``entry`` (a signing marker first, seals past the first piece in further
    rows) on the chain of ``head``, which the transaction holds; the entry's row id."""
    prev_hash = head.hash or GENESIS_HASH
    if head.hash is not None and head.key_id is None:  # an older log: signing begins here
        marker = AuditEntry(SIGNING_ACTION, details={"key": key.key_id})
        row = _signed_row(key, prev_hash, head.chain, marker, at)
        insert(connection, head.chain, row)
        prev_hash = row["hash"]
    pieces = _seals(entry)
    first = replace(entry, seals=pieces[0] if pieces else None)
    row = _signed_row(key, prev_hash, head.chain, first, at)
    ident = last_id = insert(connection, head.chain, row)
    for piece in pieces[1:]:
        more = AuditEntry(
            SEALS_ACTION,
            entry.user_id,
            entry.username,
            entry.app_id,
            entry.form,
            details={"of": ident},
            seals=piece,
        )
        row = _signed_row(key, row["hash"], head.chain, more, at)
        last_id = insert(connection, head.chain, row)
    if connection.dialect.name == "postgresql":
        audit_chains.remember(connection, _head_after(head.chain, last_id, row))
    return ident


def _head_after(chain: int, last_id: int, row: Mapping[str, Any]) -> ChainHead:
    return ChainHead(chain, last_id, row["hash"], row["key_id"])


def _signed_row(
    key: AuditKey, prev_hash: str, chain: int, entry: AuditEntry, at: datetime | None
) -> dict[str, Any]:
    """The audit row of ``entry`` on ``chain``, linked to ``prev_hash`` and signed."""
    row: dict[str, Any] = {
        "at": at or utc_now(),
        "user_id": entry.user_id,
        "username": entry.username,
        "workstation": _WORKSTATION,
        "action": entry.action,
        "app_id": entry.app_id,
        "form": entry.form,
        "record_id": entry.record_id,
        "details": json.dumps(entry.details, ensure_ascii=False, default=str)
        if entry.details is not None
        else None,
        "key_id": key.key_id,
        "seals": entry.seals.text() if isinstance(entry.seals, Seals) and entry.seals else None,
        "chain": chain,
    }
    row["prev_hash"] = prev_hash
    row["hash"] = signed_hash(key, prev_hash, row)
    return row


@dataclass(frozen=True)
class AuditRow:
    """One audit entry of a record: who did what when; ``details`` as logged."""

    at: datetime
    user_id: int | None
    username: str | None
    action: str
    details: dict[str, Any] | None
    display_name: str | None = None


def record_history(
    connection: Connection, app_id: str, form: str, record_id: int
) -> list[AuditRow]:
    """The audit rows of one record, oldest first, with the users' display names."""
    table = audit_table
    query = (
        sa.select(
            table.c.at,
            table.c.user_id,
            table.c.username,
            table.c.action,
            table.c.details,
            users_table.c.display_name,
        )
        .select_from(table.outerjoin(users_table, users_table.c.id == table.c.user_id))
        .where(table.c.app_id == app_id, table.c.form == form, table.c.record_id == record_id)
        .order_by(table.c.id)
    )
    return [
        AuditRow(
            row.at, row.user_id, row.username, row.action, _details(row.details), row.display_name
        )
        for row in connection.execute(query)
    ]


def _details(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class ChainReport:
    """The result of a chain check: intact, or the first broken row and why.

    ``signed_from`` is the id of the row where signing began (None: no signed
    row); the ``unsigned`` rows before it are only as good as a plain hash chain.
    ``head``/``last_id`` are the hash and id of the last row checked (for a
    checkpoint). ``drifted`` lists records that differ from their last audited
    state (filled by :func:`runtime.store.audit_verify.verify_workspace`).
    """

    ok: bool
    rows: int
    broken_id: int | None = None
    reason: str = ""
    signed_from: int | None = None
    unsigned: int = 0
    head: str = GENESIS_HASH
    last_id: int | None = None
    drifted: tuple = ()


@dataclass(frozen=True)
class ChainProgress:
    """How far a chain check got: ``checked`` of ``total`` rows."""

    checked: int
    total: int


ChainSteps = Generator[ChainProgress, None, ChainReport]

#: Reasons a row breaks the chain (English; the services translate them).
MOVED = "a row before it is missing or moved"
CHANGED = "its content was changed"
UNSIGNED = "an unsigned row follows signed ones"
UNKNOWN_KEY = "it is signed with a key this computer does not have: not provable"
SIGNING_GONE = "the signed rows of the log are missing"
HEAD_MISSING = "the newest rows of its chain were deleted (the chain's head names it)"


def verify_chain(
    connection: Connection,
    batch: int = 5000,
    keys: Mapping[str, AuditKey] | None = None,
) -> ChainReport:
    """Walk the log in id order; the first row whose link or hash fails is named."""
    steps = verify_chain_steps(connection, batch, keys)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def verify_chain_steps(
    connection: Connection,
    batch: int = 5000,
    keys: Mapping[str, AuditKey] | None = None,
    on_row: Callable[[RowMapping], None] | None = None,
) -> ChainSteps:
    """:func:`verify_chain` one batch at a time, for a progress bar.

    Yields the row count first, then progress after every batch, and returns the
    report. It only reads, so closing it early needs no clean-up. ``total`` is one
    ``COUNT(*)`` taken first: a fraction of the hashing, and exact in a snapshot.
    ``keys`` (key id → key) default to the keys of this workspace at hand
    (:func:`runtime.store.audit_keys.available_keys`); ``on_row`` sees every row
    that holds, in order.
    """
    if keys is None:
        ident = workspace_id(connection)
        keys = available_keys(ident) if ident else {}
    total = connection.execute(sa.select(sa.func.count()).select_from(audit_table)).scalar_one()
    yield ChainProgress(0, total)
    walk = _Walk(keys)
    for rows in _batches(connection, batch):
        for row in rows:
            if reason := walk.broken(row):
                return walk.report(False, row["id"], reason)
            if on_row is not None:
                on_row(row)
        # Outside a snapshot, rows appended meanwhile may outrun the first count.
        yield ChainProgress(walk.checked, max(total, walk.checked))
    if walk.signed_from is None and keys:
        # A key of this workspace exists only once a row was signed with it.
        return walk.report(False, None, SIGNING_GONE)
    missing = walk.missing_head(audit_chains.chain_heads(connection))
    if missing is not None:
        return walk.report(False, *missing)
    return walk.report(True)


class _Walk:
    """The state of one walk along the log: the link each chain expects next."""

    def __init__(self, keys: Mapping[str, AuditKey]) -> None:
        self.keys = keys
        self.prev_hash = GENESIS_HASH
        #: chain → the hash its next row must link to (absent: its first row).
        self.links: dict[int, str] = {}
        #: chain → (id, hash) of its newest row checked.
        self.heads: dict[int, tuple[int, str]] = {}
        self.checked = 0
        self.signed_from: int | None = None
        self.unsigned = 0
        self.last_id: int | None = None

    def broken(self, row: RowMapping) -> str:
        """Why ``row`` breaks its chain; empty when it holds (and then it is taken)."""
        chain = row["chain"] or 0
        prev_hash = self.links.get(chain, GENESIS_HASH)
        if row["prev_hash"] != prev_hash:
            return MOVED
        if row["key_id"] is None:
            if self.signed_from is not None:
                return UNSIGNED
            if row_hash(prev_hash, dict(row)) != row["hash"]:
                return CHANGED
        else:
            key = self.keys.get(row["key_id"])
            if key is None:
                return UNKNOWN_KEY
            if not hmac.compare_digest(signed_hash(key, prev_hash, row), row["hash"]):
                return CHANGED
            if self.signed_from is None:
                self.signed_from, self.unsigned = row["id"], self.checked
        self.links[chain] = self.prev_hash = row["hash"]
        self.heads[chain] = (row["id"], row["hash"])
        self.last_id = row["id"]
        self.checked += 1
        return ""

    def missing_head(self, stored: Mapping[int, ChainHead]) -> tuple[int, str] | None:
        """(row id, reason) when a chain's stored head is not the newest row the walk
        found on it: that row was deleted (or the head row was changed). The head
        rows and the log must be read in one snapshot (a write moves both at once)."""
        for chain, head in sorted(stored.items()):
            if self.heads.get(chain) != (head.last_id, head.hash):
                return head.last_id or 0, HEAD_MISSING
        return None

    def report(self, ok: bool, broken_id: int | None = None, reason: str = "") -> ChainReport:
        unsigned = self.checked if self.signed_from is None else self.unsigned
        return ChainReport(
            ok,
            self.checked,
            broken_id,
            reason,
            self.signed_from,
            unsigned,
            self.prev_hash,
            self.last_id,
        )


def _batches(connection: Connection, batch: int) -> Iterator[Sequence[RowMapping]]:
    """The log in id order, ``batch`` rows per query (keyset: ``id >`` the last one)."""
    query = sa.select(audit_table).order_by(audit_table.c.id).limit(batch)
    last_id = None
    while True:
        page = query if last_id is None else query.where(audit_table.c.id > last_id)
        rows = connection.execute(page).mappings().all()
        if not rows:
            return
        yield rows
        last_id = rows[-1]["id"]
