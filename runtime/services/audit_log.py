"""Reading the audit log (administrators only): filters, newest-first pages, chain check.

The chain check of a long log is also offered as :class:`Progress` steps, so a
screen can run it off the GUI thread with a bar and a Cancel button.

Times are stored as naive UTC; a filter's dates are local calendar days and are
turned into UTC bounds here. The queries (keyset pages, counts, a column's
values) are :mod:`runtime.store.audit_reads`. Every read uses the workspace's
read-only connection and never writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from resources.messages import tr
from runtime.services.accounts.session_guard import require_session
from runtime.services.actor import Actor
from runtime.services.errors import PermissionDenied
from runtime.services.progress import Progress, Steps, run_steps
from runtime.store.audit import ChainReport
from runtime.store.audit_reads import (
    AuditRow,
    AuditSelection,
    audit_count,
    audit_page,
    audit_values,
)
from runtime.store.audit_verify import verify_workspace_steps
from runtime.store.connection import Connection
from runtime.store.integrity import damaged_error
from runtime.store.workspace import Workspace

PAGE_SIZE = 100
#: Rows hashed per query by the chain check (one progress step each).
VERIFY_BATCH = 5000
#: The columns whose values a filter offers (``distinct_values``).
CHOICE_COLUMNS = frozenset({"username", "workstation", "action", "app_id", "form"})


@dataclass(frozen=True)
class AuditFilter:
    """Which rows to show; ``None`` means any. ``start``/``end`` are inclusive days."""

    username: str | None = None
    action: str | None = None
    app_id: str | None = None
    form: str | None = None
    start: date | None = None
    end: date | None = None

    def selection(self) -> AuditSelection:
        """The rows the store reads: the days become UTC bounds (``end`` inclusive)."""
        return AuditSelection(
            username=self.username,
            action=self.action,
            app_id=self.app_id,
            form=self.form,
            since=None if self.start is None else _utc(self.start),
            before=None if self.end is None else _utc(self.end + timedelta(days=1)),
        )


@dataclass(frozen=True)
class AuditLine:
    """One audit row as the viewer shows it."""

    id: int
    at: datetime
    username: str
    workstation: str
    action: str
    app_id: str
    form: str
    record_id: int | None
    details: str

    def local_time(self) -> str:
        return f"{self.at.replace(tzinfo=UTC).astimezone():%Y-%m-%d %H:%M:%S}"


class AuditLog:
    """The workspace's audit log as an administrator reads it."""

    def __init__(self, workspace: Workspace, actor: Actor) -> None:
        self.workspace = workspace
        self.actor = actor

    def page(
        self, where: AuditFilter, before_id: int | None = None, limit: int = PAGE_SIZE
    ) -> list[AuditLine]:
        """Up to ``limit`` rows, newest first, older than ``before_id`` when given."""
        with self._reader() as connection:
            rows = audit_page(connection, where.selection(), before_id, limit)
        return [_line(row) for row in rows]

    def count(self, where: AuditFilter) -> int:
        with self._reader() as connection:
            return audit_count(connection, where.selection())

    def distinct_values(self, column: str) -> list[str]:
        """The values a filter combo offers (actions, user names), sorted."""
        self._require_admin()
        if column not in CHOICE_COLUMNS:
            raise ValueError(f"the audit log offers no choices of '{column}'")
        with self._reader() as connection:
            return audit_values(connection, column)

    def verify(self) -> ChainReport:
        """Walk the hash chain: intact, or the first row that was changed or removed."""
        return run_steps(self.verify_steps())

    def verify_steps(self, batch: int = VERIFY_BATCH) -> Steps[ChainReport]:
        """:meth:`verify` as :class:`Progress` steps (rows checked of all rows) that
        return the report; closing the generator stops the walk and frees the connection.

        Refuses a non-administrator here, when called, not at the first step.
        """
        self._require_admin()
        return self._verify_steps(batch)

    def _verify_steps(self, batch: int) -> Steps[ChainReport]:
        problem = self.workspace.damage()
        if problem:
            return ChainReport(
                False, 0, None, damaged_error(self.workspace.engine, problem).message
            )
        with self._snapshot_reader() as connection:
            steps = verify_workspace_steps(connection, self.workspace.registry, batch)
            while True:
                try:
                    step = next(steps)
                except StopIteration as stop:
                    return _translated(stop.value)
                yield Progress(step.checked, step.total, "checking")

    def _reader(self) -> Connection:
        """A read-only connection, for administrators only."""
        self._require_admin()
        return self.workspace.reader()

    def _snapshot_reader(self) -> Connection:
        """One snapshot for the whole chain check (see Workspace.snapshot_reader)."""
        self._require_admin()
        return self.workspace.snapshot_reader()

    def _require_admin(self) -> None:
        require_session(self.workspace, self.actor)
        if not self.actor.is_admin:
            raise PermissionDenied(tr("only an administrator may read the audit log"))


def _translated(report: ChainReport) -> ChainReport:
    """The report with its reason (English, from the store) in the user's language;
    a reason it does not know stays as it is."""
    translated = _reasons().get(report.reason)
    return report if translated is None else replace(report, reason=translated)


def _reasons() -> dict[str, str]:
    """The store's reasons (English) → the user's language."""
    return {
        "a row before it is missing or moved": tr("a row before it is missing or moved"),
        "its content was changed": tr("its content was changed"),
        "an unsigned row follows signed ones": tr("an unsigned row follows signed ones"),
        "it is signed with a key this computer does not have: not provable": tr(
            "it is signed with a key this computer does not have: not provable"
        ),
        "the signed rows of the log are missing": tr("the signed rows of the log are missing"),
        "records differ from their last audited state": tr(
            "records differ from their last audited state"
        ),
        "rows the checkpoint holds are missing: the newest rows were deleted": tr(
            "rows the checkpoint holds are missing: the newest rows were deleted"
        ),
        "a row the checkpoint holds was changed: the log was rewritten": tr(
            "a row the checkpoint holds was changed: the log was rewritten"
        ),
        "the checkpoint is of another workspace": tr("the checkpoint is of another workspace"),
    }


def _utc(day: date) -> datetime:
    """Local midnight of ``day`` as naive UTC."""
    local = datetime.combine(day, time()).astimezone()
    return local.astimezone(UTC).replace(tzinfo=None)


def _line(row: AuditRow) -> AuditLine:
    return AuditLine(
        id=row.id,
        at=row.at,
        username=row.username or "",
        workstation=row.workstation or "",
        action=row.action,
        app_id=row.app_id or "",
        form=row.form or "",
        record_id=row.record_id,
        details=_details(row.details),
    )


def _details(text: str | None) -> str:
    """``{"user": "li"}`` → ``user: li`` (raw text when it is not a JSON object)."""
    if not text:
        return ""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    return ", ".join(f"{key}: {value}" for key, value in data.items())
