"""The journal of Excel imports (``fw_imports``): how far each import got.

An import writes its rows in batches, one transaction each, and advances
``rows_done`` in the same transaction as the batch, so a killed import leaves whole
batches and a ``running`` entry; importing the same file (same SHA-256) into the
same form again continues after ``rows_done``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.schema import imports_table


def running_import(
    connection: Connection, app_id: str, form: str, sha: str
) -> tuple[str | None, int]:
    """The latest unfinished import of this file into this form: (its id, rows
    done), or (None, 0)."""
    row = connection.execute(
        sa.select(imports_table.c.import_id, imports_table.c.rows_done)
        .where(
            imports_table.c.app_id == app_id,
            imports_table.c.form == form,
            imports_table.c.source_sha256 == sha,
            imports_table.c.state == "running",
        )
        .order_by(imports_table.c.started_at.desc())
        .limit(1)
    ).first()
    return (row.import_id, row.rows_done) if row else (None, 0)


def start_import(
    connection: Connection, app_id: str, form: str, sha: str, total: int, now: datetime
) -> str:
    """Note a new running import of ``total`` rows; returns its id."""
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
        )
    )
    return import_id


def record_progress(connection: Connection, import_id: str, rows_done: int) -> None:
    """Rows up to ``rows_done`` are written (call in the batch's transaction)."""
    connection.execute(
        imports_table.update()
        .where(imports_table.c.import_id == import_id)
        .values(rows_done=rows_done)
    )


def finish_import(connection: Connection, import_id: str, rows_total: int) -> None:
    connection.execute(
        imports_table.update()
        .where(imports_table.c.import_id == import_id)
        .values(state="done", rows_done=rows_total)
    )
