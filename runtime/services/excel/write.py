"""Writing the valid rows of an import, in batches that can be resumed.

Each batch is one transaction: the record writer
(:meth:`~runtime.services.records.writer.RecordWriter.import_batch`) creates the
new records (one bulk insert, after the values their types assign on create, like
serial numbers) and updates the others (``upsert_by``, each at the version it was
read at), with one ``import_batch`` audit row listing their ids; the import's
``rows_done`` and its owner's heartbeat in ``fw_imports``
(:mod:`runtime.store.imports`) advance in that same transaction. An import killed
mid-way so leaves whole batches and a ``running`` import, which the same file
resumes after ``rows_done`` (:mod:`runtime.services.excel.journal`).

Kept apart from :mod:`excel_import` because it is the only part that writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from resources.messages import tr
from runtime.services.excel.checks import CheckedRow
from runtime.services.excel.common import ExcelError
from runtime.services.excel.journal import (
    ImportInProgress,
    UnfinishedImport,
    blocked_message,
    check_owner,
    this_process,
)
from runtime.services.permissions import Policy
from runtime.services.records.service import RecordService
from runtime.store.audit import utc_now
from runtime.store.imports import (
    ImportEntry,
    finish_import,
    get_import,
    heartbeat,
    imports_of,
    lock_imports,
    record_progress,
    release,
    start_import,
    take_over,
)

if TYPE_CHECKING:
    from runtime.services.excel.importer import ImportResult


class ImportWriter:
    """Writes one import into one form as one actor, and keeps its journal."""

    def __init__(
        self,
        service: RecordService,
        form: str,
        policy: Policy,
        *,
        source: Path,
        mode: str,
        data_start: int,
    ) -> None:
        self.service = service
        self.form = form
        self.policy = policy
        self.actor = policy.actor
        self.source = source
        self.mode = mode
        #: Index of the first data row of the main sheet, for row numbers.
        self.data_start = data_start

    def start_import(self, sha: str, total: int, options: dict[str, Any]) -> str:
        """A new ``running`` import of this file (``sha``) of ``total`` rows, owned by
        this process; its id. Refused while another import into the form is open
        (checked again under the imports lock: two workstations cannot both start).
        Refused (one line) when the workspace file is damaged."""
        self.service.workspace.check_integrity()

        def work(connection) -> str:
            lock_imports(connection)
            app_id = self.service.spec.id
            open_imports = imports_of(connection, app_id, self.form, open_only=True)
            if open_imports:
                entry = open_imports[0]
                raise UnfinishedImport(blocked_message(entry, self.form), entry)
            return start_import(
                connection,
                app_id,
                self.form,
                sha,
                total,
                utc_now(),
                owner=this_process(self.actor),
                file_name=self.source.name,
                source_path=str(self.source.resolve()),
                options=options,
            )

        return self.service.transaction(work)

    def take_over(self, entry: ImportEntry) -> ImportEntry:
        """Continue ``entry`` in this process (resume), unless its process is alive.
        Refused (one line) when the workspace file is damaged."""
        self.service.workspace.check_integrity()

        def work(connection) -> ImportEntry:
            lock_imports(connection)
            current = get_import(connection, entry.import_id) or entry
            check_owner(current, self.form)
            if current.state != "running" or not take_over(
                connection, current, this_process(self.actor), utc_now(), "running"
            ):
                raise ImportInProgress(blocked_message(current, self.form), current)
            return get_import(connection, entry.import_id) or current

        return self.service.transaction(work)

    def heartbeat(self, import_id: str) -> None:
        """This process still works on the import (while checking a resumed file)."""
        self.service.transaction(lambda connection: heartbeat(connection, import_id, utc_now()))

    def release(self, import_id: str) -> None:
        """Stop owning an import left unfinished (cancelled or failed)."""
        owner = this_process(self.actor)
        self.service.transaction(lambda connection: release(connection, import_id, owner))

    def write_batch(
        self, import_id: str, batch: list[CheckedRow], start: int, end: int
    ) -> tuple[int, int]:
        """Write one batch through the record writer and advance ``rows_done`` in the
        same transaction; how many records were created and updated."""
        creates = [row.values for row in batch if row.target is None]
        upserts = [row for row in batch if row.target is not None]
        updates = [(*row.target, row.values) for row in upserts if row.target is not None]
        details = {
            "import_id": import_id,
            "rows": [self.data_start + start + 1, self.data_start + end],
        }

        def stale(position: int) -> ExcelError:
            row = upserts[position]
            assert row.target is not None  # upserts are the rows with a target
            text = tr(
                "row {row}: record #{id} was changed by someone else during the "
                "import; run the import again to continue"
            )
            return ExcelError(text.format(row=self.data_start + row.source + 1, id=row.target[0]))

        def work(connection) -> tuple[int, int]:
            created, updated = self.service.writer.import_batch(
                connection, self.policy, self.form, creates, updates, details, stale
            )
            owner = this_process(self.actor)
            if not record_progress(connection, import_id, end, utc_now(), owner):
                raise ExcelError(tr("another workstation took this import over; it stopped here"))
            return len(created), len(updated)

        return self.service.transaction(work)

    def finish(self, import_id: str, sha: str, result: ImportResult) -> None:
        """Mark the import done and add its ``import`` audit event."""
        details = {
            "import_id": import_id,
            "file": self.source.name,
            "sha256": sha,
            "rows": result.rows_total,
            "created": result.created,
            "updated": result.updated,
            "skipped": result.skipped,
            "resumed_from": result.resumed_from,
            "mode": self.mode,
        }

        def work(connection) -> None:
            finish_import(connection, import_id, result.rows_total, utc_now())
            self.service.writer.audit(connection, self.actor, "import", self.form, None, details)

        self.service.transaction(work)
