"""The record use cases: who may read what, and every write through one writer.

``RecordService`` is what screens, the CLI and the Excel import call to read and
change the records of one installed app. Reads (records, pages, counts,
positions, history) are answered here with the actor's row scope and field
modes; every write — create, update, delete, restore, purge, ``bulk_create``,
and an import's batches — goes through :class:`~.writer.RecordWriter`
(:attr:`RecordService.writer`), which checks, writes, audits and runs the write
hooks, in a transaction of :meth:`RecordService.transaction`. The errors
(:mod:`.errors`) and ``BULK_CHECK_ROWS`` are importable from here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

from resources.messages import tr
from runtime.services.accounts.session_guard import require_session
from runtime.services.actor import SYSTEM, Actor
from runtime.services.errors import DatabaseUnavailable, PermissionDenied, server_required
from runtime.services.names import NameResolver
from runtime.services.permissions import Policy
from runtime.services.records.checks import BULK_CHECK_ROWS
from runtime.services.records.errors import (
    ConflictError,
    NotFound,
    RecordError,
    StorageFailed,
    ValidationFailed,
)
from runtime.services.records.form_logic import FormLogic
from runtime.services.records.writer import RecordWriter, not_found
from runtime.spec.models import AppSpec
from runtime.store.audit import AuditRow, record_history
from runtime.store.connection import Connection
from runtime.store.names import NameTable
from runtime.store.query import Condition, Cursor, Filter, RecordQuery, RowScope
from runtime.store.repository import Page, Record, RecordRepository, UnknownName
from runtime.store.schema import FormTables
from runtime.store.transactions import (
    RETRYABLE_SQLSTATES,
    DatabaseRefused,
    ServerUnreachable,
    run_transaction,
)
from runtime.store.workspace import Workspace
from widgets.references import ReferenceKind

T = TypeVar("T")


class RecordService:
    """Records of one installed app. Every method takes the acting user."""

    def __init__(self, workspace: Workspace, spec: AppSpec) -> None:
        self.workspace = workspace
        self.spec = spec
        self.registry = workspace.registry
        # Built on first use (see RecordRepository): opening an app stays cheap.
        self.repository = RecordRepository(lambda: workspace.tables(spec), workspace.registry)
        #: Every write of a record goes through it; flows add their hooks to it.
        self.writer = RecordWriter(self.repository, workspace.registry, spec)

    def logic(self, form: str) -> FormLogic:
        """The form's formulas and visibility rules (compiled once)."""
        return self.writer.rules(form).logic

    def form_tables(self, form: str) -> FormTables:
        """The form's tables: its fields, columns and subtables (UnknownName if none)."""
        return self.repository.form_tables(form)

    def name_table(self, kind: ReferenceKind) -> NameTable | None:
        """Where the names of ``kind``'s ids live (``store/names.py``), None for a
        form the app lacks: the name directory applies the reader's scope to it."""
        return self.repository.names.table(kind)

    def policy(self, actor: Actor, form: str | None = None) -> Policy:
        """What ``actor`` may do in this app (roles, scopes, field modes).

        With ``form``, first make sure the app has that form (UnknownName if not).
        """
        self.require_session(actor)
        if form is not None and self.spec.form(form) is None:
            raise UnknownName(tr("the app has no form '{form}'").format(form=form))
        return Policy(self.spec, actor, self.registry)

    def require_session(self, actor: Actor) -> None:
        """Refuse (SessionEnded) a session whose account was disabled or locked
        since it logged in; asked by every call through :meth:`policy`."""
        require_session(self.workspace, actor)

    def names(self, actor: Actor) -> NameResolver:
        """The name resolver of this app as ``actor`` reads it (see :mod:`.names`)."""
        return NameResolver(self, actor)

    def _redacted(self, policy: Policy, form: str, record: Record) -> Record:
        """The record without the fields hidden from the actor: they never leave here."""
        if not policy.full_access:
            record.values = policy.redact(form, record.values)
        return record

    # -- transactions -------------------------------------------------------
    def transaction(self, work: Callable[[Connection], T], attempts: int = 5) -> T:
        """Run ``work`` in one transaction, retrying serialization failures;
        StorageFailed (a plain sentence) when the database cannot do it,
        DatabaseUnavailable when its server cannot be reached."""
        try:
            return run_transaction(self.workspace.engine, work, attempts)
        except ServerUnreachable as lost:
            raise DatabaseUnavailable(lost.message) from lost.__cause__
        except DatabaseRefused as refused:
            raise StorageFailed(refused.message) from refused.__cause__

    # -- create ---------------------------------------------------------------
    def create(self, form: str, values: dict[str, Any], actor: Actor = SYSTEM) -> Record:
        policy = self.policy(actor, form)
        record = self.transaction(
            lambda connection: self.writer.create(connection, policy, form, values)
        )
        return self._redacted(policy, form, record)

    # -- read -------------------------------------------------------------------
    def get(self, form: str, record_id: int, actor: Actor = SYSTEM, trash: bool = False) -> Record:
        policy = self.policy(actor, form)
        policy.require(form, "read")
        with self._reader() as connection:
            record = self.repository.fetch(connection, form, record_id, include_deleted=trash)
        if record is None or not policy.row_allowed(
            form, "read", record.created_by, record.owner_department
        ):
            raise NotFound(not_found(record_id, form))
        return self._redacted(policy, form, record)

    def page(
        self,
        form: str,
        query: RecordQuery | None = None,
        after: Cursor | None = None,
        limit: int = 100,
        actor: Actor = SYSTEM,
        action: str = "read",
    ) -> Page:
        """A page of the records ``actor`` may read (or export: ``action``), in sort
        order after ``after``."""
        policy = self.policy(actor, form)
        query = self._readable(policy, form, query or RecordQuery(), action)
        scope = policy.row_scope(form, action)
        with self._reader() as connection:
            page = self.repository.page(connection, form, query, after, limit, scope)
        for record in page.records:
            self._redacted(policy, form, record)
        return page

    def count(
        self,
        form: str,
        query: RecordQuery | None = None,
        actor: Actor = SYSTEM,
        action: str = "read",
    ) -> int:
        policy = self.policy(actor, form)
        query = self._readable(policy, form, query or RecordQuery(), action)
        with self._reader() as connection:
            return self.repository.count(connection, form, query, policy.row_scope(form, action))

    def cursor_at(
        self,
        form: str,
        query: RecordQuery | None = None,
        row: int = 0,
        actor: Actor = SYSTEM,
        start: Cursor | None = None,
    ) -> Cursor | None:
        """Where page reading starts to reach row ``row`` counted after ``start``
        (see RecordRepository.cursor_at)."""
        query, scope = self._list_of(form, query, actor)
        with self._reader() as connection:
            return self.repository.cursor_at(connection, form, query, row, scope, start)

    def position_marks(
        self,
        form: str,
        query: RecordQuery | None = None,
        every: int = 1000,
        actor: Actor = SYSTEM,
        stopped: Callable[[], bool] = lambda: False,
    ) -> list[Cursor]:
        """The page starts of rows ``every``, 2·``every``, … of the list ``actor``
        sees (see RecordRepository.position_marks). All marks come from one snapshot
        (Workspace.snapshot_reader): a save during the walk cannot shift the later
        marks against the earlier ones."""
        query, scope = self._list_of(form, query, actor)
        with server_required(), self.workspace.snapshot_reader() as connection:
            return self.repository.position_marks(connection, form, query, every, scope, stopped)

    def _list_of(
        self, form: str, query: RecordQuery | None, actor: Actor
    ) -> tuple[RecordQuery, RowScope]:
        """The query as the actor may read it, and the rows the actor may reach."""
        policy = self.policy(actor, form)
        query = self._readable(policy, form, query or RecordQuery())
        return query, policy.row_scope(form, "read")

    def history(self, form: str, record_id: int, actor: Actor = SYSTEM) -> list[AuditRow]:
        """The audit of one record, oldest first, without values of hidden fields."""
        policy = self.policy(actor, form)
        self.get(form, record_id, actor, trash=True)  # NotFound outside the actor's scope
        with self._reader() as connection:
            rows = record_history(connection, self.spec.id, form, record_id)
        if policy.full_access:
            return rows
        visible = set(policy.visible_fields(form))
        return [
            replace(row, details={k: v for k, v in row.details.items() if k in visible})
            if row.details
            else row
            for row in rows
        ]

    def _readable(
        self, policy: Policy, form: str, query: RecordQuery, action: str = "read"
    ) -> RecordQuery:
        """Refuse lists of forms not granted, and filters, sorts or searches over
        hidden fields (they would reveal the hidden values)."""
        policy.require(form, action)
        if policy.full_access:
            return query
        visible = set(policy.visible_fields(form))
        used = {query.sort.field} | _filter_fields(query.filter)
        hidden = sorted(
            key for key in used if key in self._value_fields(form) and key not in visible
        )
        if hidden:
            raise PermissionDenied(
                tr("you may not filter or sort by {fields}").format(fields=", ".join(hidden))
            )
        if query.columns is not None:
            query = replace(query, columns=tuple(k for k in query.columns if k in visible))
        else:
            query = replace(
                query,
                columns=tuple(
                    key for key in self.repository.form_tables(form).columns if key in visible
                ),
            )
        return replace(query, search_fields=tuple(visible))

    def iter_records(
        self,
        form: str,
        query: RecordQuery | None = None,
        actor: Actor = SYSTEM,
        page_size: int = 1000,
        action: str = "read",
    ) -> Iterable[Record]:
        """Every matching record, page by page (constant memory)."""
        cursor = None
        while True:
            page = self.page(form, query, cursor, page_size, actor, action)
            yield from page.records
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    @contextmanager
    def _reader(self) -> Iterator[Connection]:
        """A read-only connection; DatabaseUnavailable when the server is out of reach."""
        with server_required(), self.workspace.reader() as connection:
            yield connection

    # -- update -----------------------------------------------------------------
    def update(
        self,
        form: str,
        record_id: int,
        values: dict[str, Any],
        version: int,
        actor: Actor = SYSTEM,
    ) -> Record:
        """Save changes made to version ``version``; ConflictError if it is stale."""
        policy = self.policy(actor, form)
        policy.require(form, "update")
        record = self.transaction(
            lambda connection: self.writer.update(
                connection, policy, form, record_id, values, version
            )
        )
        return self._redacted(policy, form, record)

    # -- delete, restore, purge ---------------------------------------------
    def delete(self, form: str, record_id: int, actor: Actor = SYSTEM) -> None:
        """Move to the trash (restorable)."""
        self.delete_many(form, [record_id], actor)

    def restore(self, form: str, record_id: int, actor: Actor = SYSTEM) -> None:
        self.restore_many(form, [record_id], actor)

    def delete_many(self, form: str, record_ids: Sequence[int], actor: Actor = SYSTEM) -> None:
        """Move several records to the trash in one transaction: all of them, or
        none when one is refused (the list's batch delete: one commit per batch
        instead of per record)."""
        self._move(form, record_ids, actor, "delete")

    def restore_many(self, form: str, record_ids: Sequence[int], actor: Actor = SYSTEM) -> None:
        """Bring several records back from the trash in one transaction (all or none)."""
        self._move(form, record_ids, actor, "restore")

    def _move(self, form: str, record_ids: Sequence[int], actor: Actor, kind: str) -> None:
        policy = self.policy(actor, form)
        self.transaction(
            lambda connection: self.writer.move(connection, policy, form, record_ids, kind)
        )

    def purge(self, form: str, record_id: int, actor: Actor = SYSTEM) -> None:
        """Delete a trashed record for good; the audit keeps its last values."""
        policy = self.policy(actor, form)
        self.transaction(lambda connection: self.writer.purge(connection, policy, form, record_id))

    # -- bulk ---------------------------------------------------------------
    def bulk_create(
        self,
        form: str,
        rows: Iterable[dict[str, Any]],
        actor: Actor = SYSTEM,
        action: str = "create",
    ) -> int:
        """Insert many records at driver speed, each validated like a single save.

        For seeding, benchmarks and imports of forms without subtables: one
        transaction, one audit row for the batch; serial numbers are assigned row by
        row as by ``create``. References must exist and unique values be free (in
        the database and in the batch), checked per chunk of rows (``BulkChecks``;
        forms with neither go straight through). Raises ValidationFailed naming the
        row of the first invalid record; nothing is written then. The work is done
        by :meth:`RecordWriter.bulk_create`.
        """
        policy = self.policy(actor, form)
        return self.transaction(
            lambda connection: self.writer.bulk_create(connection, policy, form, rows, action)
        )

    # -- reads for the import ----------------------------------------------
    def records_holding(self, form: str, key: str, values: Iterable[Any]) -> dict[Any, Record]:
        """The live record holding each of ``values`` in the unique field ``key``
        (values no record holds left out), with every value: an import's upserts
        merge their rows into them and write them back."""
        with self._reader() as connection:
            holders = self.repository.values_in_use(connection, form, key, values)
            found = {
                value: self.repository.fetch(connection, form, ident)
                for value, ident in holders.items()
            }
        return {value: record for value, record in found.items() if record is not None}

    def value_rows(self, form: str, keys: Sequence[str], policy: Policy) -> Iterator[tuple]:
        """The values of fields ``keys`` of every live record ``policy``'s actor
        may read, one tuple per record, streamed (an import's check for rows
        already in the form)."""
        scope = policy.row_scope(form, "read")
        with self._reader() as connection:
            yield from self.repository.value_rows(connection, form, keys, scope)

    # -- audit --------------------------------------------------------------
    def audit_event(
        self, actor: Actor, action: str, form: str, details: dict[str, Any] | None
    ) -> None:
        """One audit row about ``form`` in a transaction of its own (an export)."""
        self.transaction(
            lambda connection: self.writer.audit(connection, actor, action, form, None, details)
        )

    def _value_fields(self, form: str) -> dict[str, Any]:
        return self.writer.rules(form).fields


def _filter_fields(node: Filter | None) -> set[str]:
    """Every field key a filter tree mentions."""
    if node is None:
        return set()
    if isinstance(node, Condition):
        return {node.field}
    return set().union(*(_filter_fields(part) for part in node.parts))


__all__ = [
    "BULK_CHECK_ROWS",
    "RETRYABLE_SQLSTATES",
    "ConflictError",
    "NotFound",
    "RecordError",
    "RecordService",
    "StorageFailed",
    "ValidationFailed",
]
