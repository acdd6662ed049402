"""Imports that did not finish: which they are, whether their process still runs,
and undoing an import.

Every import notes its owner in ``fw_imports`` (:mod:`runtime.store.imports`): the
user, the host and process id, and a heartbeat written with every batch. An open
import (``running`` or ``undoing``) is

- **in progress** when its process is alive: on this host, the process id still
  runs and the heartbeat is recent; on another host, the heartbeat is recent
  (:data:`STALE_AFTER`) — nobody else may touch it;
- **unfinished** otherwise (killed, crashed, cancelled): it blocks new imports into
  its form until it is resumed with the same file (same SHA-256) or undone.

Undo moves the records the import created to the trash (restorable, and their
unique values free again), batch by batch in the order it wrote them: one
transaction per batch with one ``undo_import_batch`` audit row listing the ids
moved, and the progress (``rows_undone``) stored in that same transaction. An undo
killed mid-way is continued by running it again; records already in the trash are
skipped, so it is idempotent. Records the import updated (``upsert_by``) keep
their new values: their earlier values are in the audit log.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from resources.messages import tr
from runtime.services.actor import Actor
from runtime.services.excel.common import ExcelError
from runtime.services.permissions import Policy
from runtime.services.progress import Progress, Steps
from runtime.services.records.service import RecordService
from runtime.store.audit import utc_now
from runtime.store.imports import (
    OPEN_STATES,
    ImportEntry,
    Owner,
    finish_undo,
    finished_with_sha,
    get_import,
    import_batches,
    imports_by_prefix,
    imports_of,
    lock_imports,
    record_undo,
    release,
    take_over,
)

#: An open import whose owner wrote nothing for this long is taken as dead (another
#: host's process cannot be asked; a batch takes well under a second).
STALE_AFTER = timedelta(minutes=5)
HOST = socket.gethostname()[:200]


def this_process(actor: Actor) -> Owner:
    """The owner entry of an import run by ``actor`` in this process."""
    return Owner(actor.user_id, actor.username, HOST, os.getpid())


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    except OSError:
        return False
    return True


def in_progress(entry: ImportEntry, now: datetime | None = None) -> bool:
    """Whether an open import's process is alive (see the module's rules)."""
    if entry.state not in OPEN_STATES or entry.heartbeat_at is None or entry.pid is None:
        return False
    if (now or utc_now()) - entry.heartbeat_at > STALE_AFTER:
        return False
    return entry.host != HOST or process_alive(entry.pid)


def status(entry: ImportEntry, now: datetime | None = None) -> str:
    """``in progress``, ``unfinished``, ``done``, ``undoing`` or ``undone`` (an
    undo that stopped half-way is ``unfinished`` too: run it again)."""
    if entry.state in OPEN_STATES:
        return "in progress" if in_progress(entry, now) else "unfinished"
    return entry.state


class UnfinishedImport(ExcelError):
    """A new import into a form where another has not finished (``entry``)."""

    def __init__(self, message: str, entry: ImportEntry) -> None:
        super().__init__(message)
        self.entry = entry


class ImportInProgress(UnfinishedImport):
    """The open import's process is alive: neither resume nor undo may touch it."""


class DuplicateImport(ExcelError):
    """The file, or some of its rows, were imported into the form before."""

    def __init__(self, message: str, entry: ImportEntry | None, rows: int) -> None:
        super().__init__(message)
        self.entry = entry
        self.rows = rows


def describe(entry: ImportEntry) -> str:
    """One sentence naming an import: file, when, who, where, how far."""
    text = tr(
        "'{file}' (import {id}), started {when} by {user} on {host}, "
        "{done} of {total} rows committed"
    )
    local = entry.started_at.replace(tzinfo=UTC).astimezone()  # stored as naive UTC
    return text.format(
        file=entry.file_name or "?",
        id=entry.import_id[:8],
        when=f"{local:%Y-%m-%d %H:%M}",
        user=entry.started_by_name or tr("the system"),
        host=entry.host or "?",
        done=f"{entry.rows_done:,}",
        total=f"{entry.rows_total:,}",
    )


def blocked_message(entry: ImportEntry, form: str, now: datetime | None = None) -> str:
    """Why a new import into ``form`` is refused while ``entry`` is open."""
    if in_progress(entry, now):
        text = tr("an import into '{form}' is in progress: {import_}; wait for it to finish")
    elif entry.state == "undoing":
        text = tr(
            "an undo of an import into '{form}' stopped half-way: {import_}; "
            "undo it again to finish"
        )
    else:
        text = tr(
            "an unfinished import blocks new imports into '{form}': {import_}; resume it "
            "with the same file, or undo it to remove the records it created"
        )
    return text.format(form=form, import_=describe(entry))


def check_owner(entry: ImportEntry, form: str) -> None:
    """Refuse to touch an import whose process is alive."""
    if in_progress(entry):
        raise ImportInProgress(blocked_message(entry, form), entry)


@dataclass
class UndoResult:
    """What an undo did: the records moved to the trash (this run and before)."""

    entry: ImportEntry
    trashed: int = 0
    #: Records the import updated (``upsert_by``): they keep their new values.
    updated_kept: int = 0
    already_undone: bool = False


class ImportJournal:
    """The imports of one app: list them, find one, undo one."""

    def __init__(self, service: RecordService) -> None:
        self.service = service
        self.app_id = service.spec.id

    def imports(self, form: str | None = None) -> list[ImportEntry]:
        """Every import of the app (or of one form), newest first."""
        with self.service.workspace.reader() as connection:
            return imports_of(connection, self.app_id, form)

    def open_import(self, form: str) -> ImportEntry | None:
        """The import of ``form`` that did not finish (the newest, if several)."""
        with self.service.workspace.reader() as connection:
            found = imports_of(connection, self.app_id, form, open_only=True)
        return found[0] if found else None

    def find(self, import_id: str) -> ImportEntry:
        """An import by its id or the id's first characters (at least 4)."""
        prefix = import_id.strip().lower()
        with self.service.workspace.reader() as connection:
            found = imports_by_prefix(connection, self.app_id, prefix) if len(prefix) >= 4 else []
        if len(found) != 1:
            text = (
                tr("no import '{id}' in this app")
                if not found
                else tr("'{id}' names more than one import: give more of its id")
            )
            raise ExcelError(text.format(id=import_id))
        return found[0]

    def undo(self, import_id: str, actor: Actor) -> Steps[UndoResult]:
        """Move the records the import created to the trash; a generator of
        Progress → result. Runs again where a killed undo stopped."""
        entry = self.find(import_id)
        form = entry.form
        policy = self.service.policy(actor, form)
        policy.require(form, "delete")
        if not policy.full_access and actor.user_id != entry.started_by:
            text = tr("only an administrator or the user who started import {id} may undo it")
            raise ExcelError(text.format(id=entry.import_id[:8]))
        if entry.state == "undone":
            return UndoResult(entry, already_undone=True)
        entry = self._take_over(entry, actor)
        with self.service.workspace.reader() as connection:
            batches = list(import_batches(connection, self.app_id, form, entry.import_id))
        result = UndoResult(entry)
        try:
            for number, batch in enumerate(batches, 1):
                if batch.last_row > entry.rows_undone:
                    result.trashed += self._undo_batch(entry, batch, policy)
                result.updated_kept += len(batch.updated)
                yield Progress(number, len(batches), "undoing the import")
            self.service.transaction(lambda connection: self._finish(connection, entry, actor))
        except BaseException:
            owner = this_process(actor)
            self.service.transaction(lambda connection: release(connection, entry.import_id, owner))
            raise
        with self.service.workspace.reader() as connection:
            result.entry = get_import(connection, entry.import_id) or entry
        return result

    def _take_over(self, entry: ImportEntry, actor: Actor) -> ImportEntry:
        """Become the owner of the undo (state ``undoing``), unless another live
        process owns the import."""

        def work(connection) -> ImportEntry:
            lock_imports(connection)
            current = get_import(connection, entry.import_id) or entry
            check_owner(current, current.form)
            if not take_over(connection, current, this_process(actor), utc_now(), "undoing"):
                raise ImportInProgress(blocked_message(current, current.form), current)
            return get_import(connection, entry.import_id) or current

        return self.service.transaction(work)

    def _undo_batch(self, entry: ImportEntry, batch, policy: Policy) -> int:
        """One batch's created records to the trash through the record writer (with
        its audit row), and the progress, in one transaction; how many were moved."""
        owner = this_process(policy.actor)
        details = {"import_id": entry.import_id, "rows": [batch.first_row, batch.last_row]}

        def work(connection) -> int:
            moved = self.service.writer.trash_import_batch(
                connection, policy, entry.form, batch.created, details
            )
            if not record_undo(connection, entry.import_id, batch.last_row, utc_now(), owner):
                raise ExcelError(tr("another workstation took this import over; it stopped here"))
            return len(moved)

        return self.service.transaction(work)

    def _finish(self, connection, entry: ImportEntry, actor: Actor) -> None:
        now = utc_now()
        finish_undo(connection, entry.import_id, now)
        details = {
            "import_id": entry.import_id,
            "file": entry.file_name,
            "sha256": entry.sha256,
            "rows_done": entry.rows_done,
        }
        self.service.writer.audit(connection, actor, "undo_import", entry.form, None, details)


@dataclass(frozen=True)
class BeforeImport:
    """What the journal says before an import reads its file."""

    #: The form's open import, if any (a dry run reports it).
    open_import: ImportEntry | None
    #: The import to continue (``resume``).
    resumed: ImportEntry | None
    #: A finished import of this very file into the form.
    same_file: ImportEntry | None


def check_before_import(
    service: RecordService,
    form: str,
    file_name: str,
    sha: str,
    *,
    actor: Actor,
    resume: bool,
    dry_run: bool,
    allow: bool,
) -> BeforeImport:
    """Refuse an import that must not run now: another is open in the form, the
    file to resume is not the one that import read, or (unless ``allow``) the same
    file was imported before — by ``actor``, or by anyone when ``actor`` may see
    every record (else the answer would tell what others imported). A dry run is
    refused only a resume it cannot make."""
    app_id = service.spec.id
    with service.workspace.reader() as connection:
        open_imports = imports_of(connection, app_id, form, open_only=True)
        same = None if resume else finished_with_sha(connection, app_id, form, sha)
    if same is not None and not service.policy(actor, form).full_access:
        same = same if same.started_by == actor.user_id else None
    entry = open_imports[0] if open_imports else None
    if resume:
        if entry is None:
            text = tr("there is no unfinished import into '{form}' to resume")
            raise ExcelError(text.format(form=form))
        if entry.state != "running" or in_progress(entry):
            refusal = ImportInProgress if in_progress(entry) else UnfinishedImport
            raise refusal(blocked_message(entry, form), entry)
        if entry.sha256 != sha:
            text = tr(
                "'{file}' is not the file the unfinished import read ({import_}): an edited "
                "copy cannot resume. Resume with the original file, or undo that import "
                "and then import this file"
            )
            raise UnfinishedImport(text.format(file=file_name, import_=describe(entry)), entry)
        return BeforeImport(entry, entry, None)
    if entry is not None and not dry_run:
        refusal = ImportInProgress if in_progress(entry) else UnfinishedImport
        raise refusal(blocked_message(entry, form), entry)
    if same is not None and not dry_run and not allow:
        raise DuplicateImport(same_file_message(same, file_name, form), same, same.rows_done)
    return BeforeImport(entry, None, same)


def same_file_message(entry: ImportEntry, file_name: str, form: str) -> str:
    text = tr("'{file}' was already imported into '{form}': {import_}")
    return text.format(file=file_name, form=form, import_=describe(entry))


def duplicate_rows_message(rows: int, file_name: str, form: str) -> str:
    text = tr("{rows} rows of '{file}' are identical to records already in '{form}'")
    return text.format(rows=f"{rows:,}", file=file_name, form=form)
