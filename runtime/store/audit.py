"""The audit log: one hash-chained row per change, login, export and import.

Each row's ``hash`` is SHA-256 over the previous row's hash and this row's
content, so editing, deleting or reordering any row breaks the chain from there
on and :func:`verify_chain` names the first broken row; :func:`verify_chain_steps`
does the same walk step by step, so a screen can show progress and cancel it.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from runtime.store.schema import audit_table, users_table

GENESIS_HASH = "0" * 64
#: Advisory lock key that serializes appends on PostgreSQL (SQLite's BEGIN
#: IMMEDIATE already serializes writers).
AUDIT_LOCK_KEY = 0x466F726D  # "Form"

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
    return hashlib.sha256((prev_hash + _content(row)).encode("utf-8")).hexdigest()


def append(connection: Connection, entry: AuditEntry, at: datetime | None = None) -> int:
    """Add one row in the caller's transaction; returns its id."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))
    last = connection.execute(
        sa.select(audit_table.c.hash).order_by(audit_table.c.id.desc()).limit(1)
    ).scalar()
    row = {
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
    }
    prev_hash = last or GENESIS_HASH
    row["prev_hash"] = prev_hash
    row["hash"] = row_hash(prev_hash, row)
    return connection.execute(audit_table.insert(), row).inserted_primary_key[0]


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
    ok: bool
    rows: int
    broken_id: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class ChainProgress:
    """How far a chain check got: ``checked`` of ``total`` rows."""

    checked: int
    total: int


ChainSteps = Generator[ChainProgress, None, ChainReport]


def verify_chain(connection: Connection, batch: int = 5000) -> ChainReport:
    """Walk the log in id order; the first row whose link or hash fails is named."""
    steps = verify_chain_steps(connection, batch)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def verify_chain_steps(connection: Connection, batch: int = 5000) -> ChainSteps:
    """:func:`verify_chain` one batch at a time, for a progress bar.

    Yields the row count first, then progress after every batch, and returns the
    report. It only reads, so closing it early needs no clean-up. ``total`` is one
    ``COUNT(*)`` taken first: a fraction of the hashing, and exact in a snapshot.
    """
    total = connection.execute(sa.select(sa.func.count()).select_from(audit_table)).scalar_one()
    yield ChainProgress(0, total)
    prev_hash, checked = GENESIS_HASH, 0
    for rows in _batches(connection, batch):
        for row in rows:
            if reason := _broken(prev_hash, row):
                return ChainReport(False, checked, row["id"], reason)
            prev_hash, checked = row["hash"], checked + 1
        # Outside a snapshot, rows appended meanwhile may outrun the first count.
        yield ChainProgress(checked, max(total, checked))
    return ChainReport(True, checked)


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


def _broken(prev_hash: str, row: RowMapping) -> str:
    """Why ``row`` breaks the chain after ``prev_hash``; empty when it holds."""
    if row["prev_hash"] != prev_hash:
        return "a row before it is missing or moved"
    if row_hash(prev_hash, dict(row)) != row["hash"]:
        return "its content was changed"
    return ""
