"""Reading the audit log (``fw_audit``) as the audit viewer pages through it.

Pages are keyset pages (``id < the last id shown``), so paging stays fast on a
long log and rows added meanwhile do not shift a page. Who may read the log, and
how its days and details are shown, is the audit-log service's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.schema import audit_table


@dataclass(frozen=True)
class AuditSelection:
    """Which rows to read; ``None`` (or empty) means any. Times are naive UTC:
    ``since`` is inclusive, ``before`` exclusive."""

    username: str | None = None
    action: str | None = None
    app_id: str | None = None
    form: str | None = None
    since: datetime | None = None
    before: datetime | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        table, found = audit_table, []
        for column, value in (
            (table.c.username, self.username),
            (table.c.action, self.action),
            (table.c.app_id, self.app_id),
            (table.c.form, self.form),
        ):
            if value:
                found.append(column == value)
        if self.since is not None:
            found.append(table.c.at >= self.since)
        if self.before is not None:
            found.append(table.c.at < self.before)
        return found


@dataclass(frozen=True)
class AuditRow:
    """The readable columns of one audit row (not its hash, signature or seals)."""

    id: int
    at: datetime
    username: str | None
    workstation: str | None
    action: str
    app_id: str | None
    form: str | None
    record_id: int | None
    #: The details as stored: JSON text, or ``None``.
    details: str | None


_COLUMNS = [audit_table.c[name] for name in AuditRow.__dataclass_fields__]


def audit_page(
    connection: Connection, selection: AuditSelection, before_id: int | None, limit: int
) -> list[AuditRow]:
    """Up to ``limit`` selected rows, newest first, older than ``before_id`` when given."""
    query = sa.select(*_COLUMNS).where(*selection.conditions())
    if before_id is not None:
        query = query.where(audit_table.c.id < before_id)
    query = query.order_by(audit_table.c.id.desc()).limit(limit)
    return [AuditRow(**row) for row in connection.execute(query).mappings()]


def audit_count(connection: Connection, selection: AuditSelection) -> int:
    query = sa.select(sa.func.count()).select_from(audit_table).where(*selection.conditions())
    return int(connection.execute(query).scalar_one())


def audit_values(connection: Connection, column: str) -> list[str]:
    """The distinct values of one column (``action``, ``username`` …), sorted."""
    field = audit_table.c[column]
    query = sa.select(field).where(field.is_not(None)).distinct().order_by(field)
    return [value for (value,) in connection.execute(query)]
