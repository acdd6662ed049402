"""The journal of Excel imports (``fw_imports``): how far each import got, and who
runs it.

An import writes its rows in batches, one transaction each, and advances
``rows_done`` (and its owner's ``heartbeat_at``) in the same transaction as the
batch, so a killed import leaves whole batches and a ``running`` entry. Each entry
names its owner (user, host, process id): the services tell an import running now
from one whose process died (:mod:`runtime.services.excel.journal`). An undo moves
the records an import created to the trash, batch by batch, advancing
``rows_undone`` in the same transaction (state ``undoing``, then ``undone``).

Starting or taking over an import is serialized per workspace (the write lock on
SQLite, an advisory lock on PostgreSQL), so two workstations cannot both start one
into the same form.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.schema import audit_table, imports_table

#: States of an import that did not end: writing rows, or moving them to the trash.
OPEN_STATES = ("running", "undoing")
#: Advisory lock key that serializes starting and taking over imports (PostgreSQL).
IMPORTS_LOCK_KEY = 0x466F7249  # "ForI"


@dataclass(frozen=True)
class ImportEntry:
    """One row of the journal."""

    import_id: str
    app_id: str
    form: str
    sha256: str
    rows_done: int
    rows_total: int
    state: str
    started_at: datetime
    file_name: str | None = None
    source_path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    started_by: int | None = None
    started_by_name: str | None = None
    host: str | None = None
    pid: int | None = None
    heartbeat_at: datetime | None = None
    finished_at: datetime | None = None
    rows_undone: int = 0


@dataclass(frozen=True)
class Owner:
    """Who writes an import now: the user and the process (host, pid)."""

    user_id: int | None
    username: str | None
    host: str
    pid: int


def _entry(row) -> ImportEntry:
    return ImportEntry(
        import_id=row.import_id,
        app_id=row.app_id,
        form=row.form,
        sha256=row.source_sha256,
        rows_done=row.rows_done,
        rows_total=row.rows_total,
        state=row.state,
        started_at=row.started_at,
        file_name=row.file_name,
        source_path=row.source_path,
        options=json.loads(row.options_json) if row.options_json else {},
        started_by=row.started_by,
        started_by_name=row.started_by_name,
        host=row.host,
        pid=row.pid,
        heartbeat_at=row.heartbeat_at,
        finished_at=row.finished_at,
        rows_undone=row.rows_undone or 0,
    )


def lock_imports(connection: Connection) -> None:
    """Serialize starting and taking over imports (call first in the transaction)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(IMPORTS_LOCK_KEY)))


def imports_of(
    connection: Connection, app_id: str, form: str | None = None, open_only: bool = False
) -> list[ImportEntry]:
    """The imports of an app (or one form), newest first."""
    query = sa.select(imports_table).where(imports_table.c.app_id == app_id)
    if form is not None:
        query = query.where(imports_table.c.form == form)
    if open_only:
        query = query.where(imports_table.c.state.in_(OPEN_STATES))
    query = query.order_by(imports_table.c.started_at.desc(), imports_table.c.import_id)
    return [_entry(row) for row in connection.execute(query)]


def get_import(connection: Connection, import_id: str) -> ImportEntry | None:
    row = connection.execute(
        sa.select(imports_table).where(imports_table.c.import_id == import_id)
    ).first()
    return None if row is None else _entry(row)


def imports_by_prefix(connection: Connection, app_id: str, prefix: str) -> list[ImportEntry]:
    """The imports of an app whose id starts with ``prefix`` (ids are UUIDs)."""
    query = sa.select(imports_table).where(
        imports_table.c.app_id == app_id,
        imports_table.c.import_id.startswith(prefix, autoescape=True),
    )
    return [_entry(row) for row in connection.execute(query.limit(2))]


def finished_with_sha(
    connection: Connection, app_id: str, form: str, sha: str
) -> ImportEntry | None:
    """The latest finished (and not undone) import of this very file into this form."""
    row = connection.execute(
        sa.select(imports_table)
        .where(
            imports_table.c.app_id == app_id,
            imports_table.c.form == form,
            imports_table.c.source_sha256 == sha,
            imports_table.c.state == "done",
        )
        .order_by(imports_table.c.started_at.desc())
        .limit(1)
    ).first()
    return None if row is None else _entry(row)


def start_import(
    connection: Connection,
    app_id: str,
    form: str,
    sha: str,
    total: int,
    now: datetime,
    *,
    owner: Owner,
    file_name: str | None = None,
    source_path: str | None = None,
    options: dict[str, Any] | None = None,
) -> str:
    """Note a new running import of ``total`` rows owned by ``owner``; returns its id."""
    import_id = str(uuid.uuid4())
    connection.execute(
        imports_table.insert().values(
            import_id=import_id,
            app_id=app_id,
            form=form,
            source_sha256=sha,
            rows_done=0,
            rows_total=total,
            state="running",
            started_at=now,
            file_name=(file_name or "")[:255] or None,
            source_path=source_path,
            options_json=json.dumps(options or {}, ensure_ascii=False),
            **_owner_values(owner, now),
        )
    )
    return import_id


def _owner_values(owner: Owner | None, now: datetime | None) -> dict[str, Any]:
    if owner is None:
        return {"host": None, "pid": None, "heartbeat_at": None}
    return {
        "host": owner.host[:200],
        "pid": owner.pid,
        "heartbeat_at": now,
        "started_by": owner.user_id,
        "started_by_name": owner.username,
    }


def take_over(
    connection: Connection, entry: ImportEntry, owner: Owner, now: datetime, state: str
) -> bool:
    """Make ``owner`` the process that continues ``entry`` (in ``state``): only if
    nobody took it over since ``entry`` was read (same heartbeat and state)."""
    values = _owner_values(owner, now)
    values.pop("started_by"), values.pop("started_by_name")  # who started it stays
    statement = (
        imports_table.update()
        .where(
            imports_table.c.import_id == entry.import_id,
            imports_table.c.state == entry.state,
            _same(imports_table.c.heartbeat_at, entry.heartbeat_at),
            _same(imports_table.c.pid, entry.pid),
        )
        .values(state=state, **values)
    )
    return connection.execute(statement).rowcount == 1


def _same(column: sa.Column, value: Any):
    return column.is_(None) if value is None else column == value


def release(connection: Connection, import_id: str, owner: Owner) -> None:
    """``owner`` stops without finishing (cancelled, failed): the import is
    unfinished at once instead of looking alive until its heartbeat is old. Nothing
    changes when another process owns it by now."""
    connection.execute(
        imports_table.update()
        .where(
            imports_table.c.import_id == import_id,
            imports_table.c.state.in_(OPEN_STATES),
            imports_table.c.host == owner.host[:200],
            imports_table.c.pid == owner.pid,
        )
        .values(pid=None, heartbeat_at=None)
    )


def heartbeat(connection: Connection, import_id: str, now: datetime) -> None:
    connection.execute(
        imports_table.update()
        .where(imports_table.c.import_id == import_id)
        .values(heartbeat_at=now)
    )


def record_progress(
    connection: Connection,
    import_id: str,
    rows_done: int,
    now: datetime | None = None,
    owner: Owner | None = None,
) -> bool:
    """Rows up to ``rows_done`` are written (call in the batch's transaction).
    With ``owner``: only while that process still owns the running import (another
    workstation may have taken over an owner silent for too long); whether it did."""
    values: dict[str, Any] = {"rows_done": rows_done}
    if now is not None:
        values["heartbeat_at"] = now
    statement = imports_table.update().where(imports_table.c.import_id == import_id)
    if owner is not None:
        statement = statement.where(
            imports_table.c.state == "running",
            imports_table.c.host == owner.host[:200],
            imports_table.c.pid == owner.pid,
        )
    return connection.execute(statement.values(**values)).rowcount == 1


def finish_import(
    connection: Connection, import_id: str, rows_total: int, now: datetime | None = None
) -> None:
    connection.execute(
        imports_table.update()
        .where(imports_table.c.import_id == import_id)
        .values(state="done", rows_done=rows_total, finished_at=now, heartbeat_at=now)
    )


def record_undo(
    connection: Connection, import_id: str, rows_undone: int, now: datetime, owner: Owner
) -> bool:
    """Created records of the file's rows up to ``rows_undone`` are in the trash
    (call in the transaction that moved them); only while ``owner`` owns the undo."""
    statement = (
        imports_table.update()
        .where(
            imports_table.c.import_id == import_id,
            imports_table.c.state == "undoing",
            imports_table.c.host == owner.host[:200],
            imports_table.c.pid == owner.pid,
        )
        .values(rows_undone=rows_undone, heartbeat_at=now)
    )
    return connection.execute(statement).rowcount == 1


def finish_undo(connection: Connection, import_id: str, now: datetime) -> None:
    connection.execute(
        imports_table.update()
        .where(imports_table.c.import_id == import_id)
        .values(state="undone", finished_at=now, heartbeat_at=now)
    )


@dataclass(frozen=True)
class ImportBatch:
    """What one batch of an import wrote, from its ``import_batch`` audit row."""

    first_row: int
    last_row: int
    created: list[int]
    updated: list[int]


def import_batches(
    connection: Connection, app_id: str, form: str, import_id: str
) -> Iterator[ImportBatch]:
    """The batches an import wrote, in order: the audit log lists each batch's
    created and updated record ids (see ``excel_write``)."""
    query = (
        sa.select(audit_table.c.details)
        .where(
            audit_table.c.action == "import_batch",
            audit_table.c.app_id == app_id,
            audit_table.c.form == form,
            audit_table.c.details.contains(import_id),
        )
        .order_by(audit_table.c.id)
    )
    for (text,) in connection.execute(query):
        details = json.loads(text)
        if details.get("import_id") != import_id:
            continue
        first, last = details.get("rows", [0, 0])
        yield ImportBatch(first, last, details.get("created", []), details.get("updated", []))
