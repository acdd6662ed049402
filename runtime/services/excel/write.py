"""Writing the valid rows of an import, in batches that can be resumed.

Each batch is one transaction: the records are created (one bulk insert, after the
values their types assign on create, like serial numbers) or updated (``upsert_by``,
each at the version it was read at), one ``import_batch`` audit row lists their ids,
and the import's ``rows_done`` and its owner's heartbeat in ``fw_imports``
(:mod:`runtime.store.imports`) advance in that same transaction. An import killed
mid-way so leaves whole batches and a ``running`` import, which the same file
resumes after ``rows_done`` (:mod:`runtime.services.excel.journal`).

Kept apart from :mod:`excel_import` because it is the only part that writes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from resources.messages import tr
from runtime.services.actor import Actor
from runtime.services.excel.checks import CheckedRow
from runtime.services.excel.common import ExcelError
from runtime.services.excel.journal import (
    ImportInProgress,
    UnfinishedImport,
    blocked_message,
    check_owner,
    this_process,
)
from runtime.services.records.service import RecordService
from runtime.store.audit import AuditEntry, append, utc_now
from runtime.store.audit_seals import InsertSealer, Seals, record_seals
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
from runtime.store.schema import FormTables

if TYPE_CHECKING:
    from runtime.services.excel.importer import ImportResult


class ImportWriter:
    """Writes one import into one form as one actor, and keeps its journal."""

    def __init__(
        self,
        service: RecordService,
        form: str,
        actor: Actor,
        tables: FormTables,
        *,
        source: Path,
        mode: str,
        data_start: int,
    ) -> None:
        self.service = service
        self.registry = service.registry
        self.form = form
        self.actor = actor
        self.tables = tables
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
        """Write one batch and advance ``rows_done`` in the same transaction."""

        def work(connection) -> tuple[int, int]:
            now = utc_now()
            system = self.actor.new_record_columns(now)
            creates = [row.values for row in batch if row.target is None]
            sealer = InsertSealer(connection, self.tables, list(self.tables.columns))
            created_ids = self._insert(connection, creates, system, sealer) if creates else []
            updated_ids = []
            for row in batch:
                if row.target is None:
                    continue
                ident, version = row.target
                changes = {
                    k: v
                    for k, v in row.values.items()
                    if k in self.tables.columns or k in self.tables.children
                }
                written = self.service.repository.update(
                    connection,
                    self.form,
                    ident,
                    changes,
                    version,
                    {"updated_at": now, "updated_by": self.actor.user_id},
                )
                if not written:
                    text = tr(
                        "row {row}: record #{id} was changed by someone else during the "
                        "import; run the import again to continue"
                    )
                    raise ExcelError(text.format(row=self.data_start + row.source + 1, id=ident))
                updated_ids.append(ident)
            if created_ids or updated_ids:
                rows = [self.data_start + start + 1, self.data_start + end]
                self._audit(
                    connection,
                    "import_batch",
                    {
                        "import_id": import_id,
                        "rows": rows,
                        "created": created_ids,
                        "updated": updated_ids,
                    },
                    self._seals(connection, sealer, created_ids, updated_ids),
                )
            if not record_progress(connection, import_id, end, now, this_process(self.actor)):
                raise ExcelError(tr("another workstation took this import over; it stopped here"))
            return len(created_ids), len(updated_ids)

        return self.service.transaction(work)

    def _seals(self, connection, sealer: InsertSealer, created: list[int], updated: list[int]):
        """The seals of a batch's records: the new ones hashed as they were sent, the
        updated ones read back (the batch wrote each once: no record is in both)."""
        seals = sealer.seals(created) if created else Seals()
        if not updated:
            return seals
        return Seals.of(dict(seals.items()) | record_seals(connection, self.tables, updated))

    def _insert(
        self, connection, rows: list[dict[str, Any]], system: dict, sealer: InsertSealer
    ) -> list[int]:
        """Create the records of one batch: values a type assigns on create (serial
        numbers) first, then one bulk insert."""
        assigned = [
            (key, spec)
            for key, spec in self.tables.columns.items()
            if self.registry.of(spec).assigns_on_create
        ]
        if assigned:
            local_now = datetime.now()
            for values in rows:
                self._assign_on_create(connection, values, assigned, local_now)
        repository = self.service.repository
        return repository.insert_many(connection, self.form, rows, system, sealer.add)

    def _assign_on_create(self, connection, values, assigned, local_now: datetime) -> None:
        """Fill the empty values of one new record that their field types assign."""
        for key, spec in assigned:
            if values.get(key) is not None:
                continue
            value = self.registry.of(spec).assign_on_create(
                spec,
                local_now,
                lambda period, key=key: self.service.repository.next_serial(
                    connection, self.form, key, period
                ),
            )
            if value is not None:
                values[key] = value

    def finish(self, import_id: str, sha: str, result: ImportResult) -> None:
        """Mark the import done and add its ``import`` audit event."""

        def work(connection) -> None:
            finish_import(connection, import_id, result.rows_total, utc_now())
            self._audit(
                connection,
                "import",
                {
                    "import_id": import_id,
                    "file": self.source.name,
                    "sha256": sha,
                    "rows": result.rows_total,
                    "created": result.created,
                    "updated": result.updated,
                    "skipped": result.skipped,
                    "resumed_from": result.resumed_from,
                    "mode": self.mode,
                },
            )

        self.service.transaction(work)

    def _audit(self, connection, action: str, details: dict[str, Any], seals=None) -> None:
        """An audit event of this import (not tied to one record), with the seals of
        the records it wrote."""
        entry = AuditEntry(
            action,
            self.actor.user_id,
            self.actor.username,
            self.service.spec.id,
            self.form,
            None,
            details,
            seals,
        )
        append(connection, entry)
