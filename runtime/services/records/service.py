"""The record use cases: validate → permit → write → audit, in one transaction.

``RecordService`` is what screens, the CLI and the Excel import call to read and
change the records of one installed app. Its collaborators live beside it:
:mod:`.record_errors` (the errors it raises), :mod:`.record_checks` (whether
values fit) and :mod:`.record_bulk` (``bulk_create``); the errors and
``BULK_CHECK_ROWS`` are importable from here too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from resources.messages import tr
from runtime.services.accounts.session_guard import require_session
from runtime.services.actor import SYSTEM, Actor
from runtime.services.errors import PermissionDenied
from runtime.services.names import NameResolver
from runtime.services.permissions import Policy
from runtime.services.records.bulk import bulk_create
from runtime.services.records.checks import BULK_CHECK_ROWS, checked_values, value_fields
from runtime.services.records.errors import (
    ConflictError,
    NotFound,
    RecordError,
    StorageFailed,
    ValidationFailed,
)
from runtime.services.records.form_logic import FormLogic
from runtime.spec.models import AppSpec
from runtime.store.audit import AuditEntry, AuditRow, append, record_history, utc_now
from runtime.store.audit_seals import record_seals
from runtime.store.db_errors import database_problem
from runtime.store.names import user_display_name
from runtime.store.query import Condition, Cursor, Filter, RecordQuery, RowScope
from runtime.store.repository import Page, Record, RecordRepository, UnknownName
from runtime.store.workspace import Workspace
from widgets.base import FieldSpecBase, FieldValueError

T = TypeVar("T")
#: PostgreSQL errors worth retrying: serialization failure and deadlock.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


class RecordService:
    """Records of one installed app. Every method takes the acting user."""

    def __init__(self, workspace: Workspace, spec: AppSpec) -> None:
        self.workspace = workspace
        self.spec = spec
        self.registry = workspace.registry
        # Built on first use (see RecordRepository): opening an app stays cheap.
        self.repository = RecordRepository(lambda: workspace.tables(spec), workspace.registry)
        self._logic: dict[str, FormLogic] = {}

    def logic(self, form: str) -> FormLogic:
        if form not in self._logic:
            self._logic[form] = FormLogic.compile(
                self.repository.form_tables(form).form, self.registry
            )
        return self._logic[form]

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
        """Run ``work`` in one transaction, retrying serialization failures."""
        for attempt in range(attempts):
            try:
                with self.workspace.engine.begin() as connection:
                    return work(connection)
            except DBAPIError as error:
                if attempt + 1 == attempts or not _retryable(error):
                    raise StorageFailed(database_problem(error)) from error
                time.sleep(0.02 * (2**attempt))
        raise AssertionError("unreachable")

    # -- create ---------------------------------------------------------------
    def create(self, form: str, values: dict[str, Any], actor: Actor = SYSTEM) -> Record:
        policy = self.policy(actor, form)
        # Every field named is checked, empty or not: a refusal that depended on
        # the value would tell whether a hidden value is empty.
        policy.check_writes(form, list(values), "create")

        def work(connection: Connection) -> Record:
            now = utc_now()
            # Assigned first so required serials validate; a failed save rolls its number back.
            assigned = self._with_defaults(form, values)
            self._assign(connection, form, assigned, now)
            clean = self._prepare(connection, form, assigned, None)
            system = actor.new_record_columns(now)
            record_id = self._write(lambda: self.repository.insert(connection, form, clean, system))
            self._audit(connection, actor, "create", form, record_id, self._json(form, clean))
            record = Record(id=record_id, values=clean, deleted_at=None, **system)
            return self._redacted(policy, form, record)

        return self.transaction(work)

    def _with_defaults(self, form: str, values: dict[str, Any]) -> dict[str, Any]:
        """The values given, plus each field's ``default`` for fields not given at all."""
        defaults = {
            key: spec.default
            for key, spec in self._value_fields(form).items()
            if key not in values and spec.default is not None
        }
        return defaults | dict(values)

    def _assign(self, connection, form: str, values: dict[str, Any], now: datetime) -> None:
        """Values the engine assigns on create (serial numbers)."""
        local_now = datetime.now()
        for key, spec in self.repository.form_tables(form).columns.items():
            if values.get(key) is not None:
                continue
            assigned = self.registry.of(spec).assign_on_create(
                spec,
                local_now,
                lambda period, key=key: self.repository.next_serial(connection, form, key, period),
            )
            if assigned is not None:
                values[key] = assigned

    # -- read -------------------------------------------------------------------
    def get(self, form: str, record_id: int, actor: Actor = SYSTEM, trash: bool = False) -> Record:
        policy = self.policy(actor, form)
        policy.require(form, "read")
        with self._reader() as connection:
            record = self.repository.fetch(connection, form, record_id, include_deleted=trash)
        if record is None or not policy.row_allowed(
            form, "read", record.created_by, record.owner_department
        ):
            raise NotFound(_not_found(record_id, form))
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
        with self.workspace.snapshot_reader() as connection:
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

    def _reader(self):
        return self.workspace.reader()

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

        def work(connection: Connection) -> Record:
            current = self.repository.fetch(connection, form, record_id)
            if current is None or not policy.row_allowed(
                form, "update", current.created_by, current.owner_department
            ):
                raise NotFound(_not_found(record_id, form))
            # Every field named is checked, whatever its value and whether it
            # changes: were only changed fields checked, writing a guess into a
            # hidden field would succeed exactly when the guess is right.
            policy.check_writes(form, list(values), "update")
            if current.version != version:
                raise self._conflict(connection, form, current, values, policy=policy)
            merged = {**current.values, **values}
            clean = self._prepare(connection, form, merged, record_id, stored=current.values)
            changes = {
                key: value for key, value in clean.items() if current.values.get(key) != value
            }
            if not changes:
                return self._redacted(policy, form, current)
            system = {"updated_at": utc_now(), "updated_by": actor.user_id}
            written = self._write(
                lambda: self.repository.update(
                    connection, form, record_id, changes, version, system
                )
            )
            if not written:
                raise self._conflict(connection, form, None, values, record_id, policy)
            details = self._changes_json(form, current.values, changes)
            self._audit(connection, actor, "update", form, record_id, details)
            current.values.update(changes)
            current.version, current.updated_at = version + 1, system["updated_at"]
            current.updated_by = actor.user_id
            return self._redacted(policy, form, current)

        return self.transaction(work)

    def _conflict(
        self, connection, form, current, mine, record_id=None, policy: Policy | None = None
    ) -> ConflictError:
        current = current or self.repository.fetch(connection, form, record_id, True)
        if policy is not None:
            self._redacted(policy, form, current)  # no hidden value in the dialog
        fields = self._value_fields(form)

        def canonical(key: str, value: Any) -> Any:  # "10" and Decimal("10.00") are equal
            try:
                return self.registry.of(fields[key]).coerce(fields[key], value)
            except FieldValueError:
                return value

        differences = {
            key: (value, current.values.get(key))
            for key, value in mine.items()
            if key in current.values and current.values.get(key) != canonical(key, value)
        }
        saved_by = self._user_name(connection, current.updated_by)
        return ConflictError(current.id, saved_by, current.updated_at, current.version, differences)

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
        self._trash_move(form, record_ids, actor, "delete", utc_now())

    def restore_many(self, form: str, record_ids: Sequence[int], actor: Actor = SYSTEM) -> None:
        """Bring several records back from the trash in one transaction (all or none)."""
        self._trash_move(form, record_ids, actor, "restore", None)

    def _trash_move(self, form, record_ids, actor, action, deleted_at) -> None:
        self._require_records(form, record_ids, actor, "delete", in_trash=deleted_at is None)

        def work(connection: Connection) -> None:
            system = {"updated_at": utc_now(), "updated_by": actor.user_id}
            for record_id in record_ids:
                self._move_one(connection, form, record_id, actor, action, deleted_at, system)

        self.transaction(work)

    def _move_one(self, connection, form, record_id, actor, action, deleted_at, system) -> None:
        moved = self._write(  # a restored value may be in use by a newer record
            lambda: self.repository.set_deleted(connection, form, record_id, deleted_at, system)
        )
        if not moved:
            if action == "restore":
                message = tr("record {record} of '{form}' is not in the trash")
            else:
                message = tr("record {record} of '{form}' is not a live record")
            raise NotFound(message.format(record=record_id, form=form))
        self._audit(connection, actor, action, form, record_id, None)

    def purge(self, form: str, record_id: int, actor: Actor = SYSTEM) -> None:
        """Delete a trashed record for good; the audit keeps its last values."""
        self._require_record(form, record_id, actor, "delete", in_trash=True)

        def work(connection: Connection) -> None:
            record = self.repository.fetch(connection, form, record_id, include_deleted=True)
            if (
                record is None
                or record.deleted_at is None
                or not self.repository.purge(connection, form, record_id)
            ):
                raise NotFound(
                    tr("record {record} of '{form}' is not in the trash").format(
                        record=record_id, form=form
                    )
                )
            self._audit(
                connection, actor, "purge", form, record_id, self._json(form, record.values)
            )

        self.transaction(work)

    def _require_record(self, form, record_id, actor: Actor, action: str, in_trash: bool) -> None:
        """The action is granted and this record is within its row scope."""
        self._require_records(form, [record_id], actor, action, in_trash)

    def _require_records(self, form, record_ids, actor: Actor, action: str, in_trash) -> None:
        """The action is granted and every one of these records (live, or in the
        trash when ``in_trash``) is within its row scope: one read for all of them."""
        policy = self.policy(actor, form)
        policy.require(form, action)
        if policy.full_access:
            return
        with self._reader() as connection:
            owners = self.repository.owners(connection, form, record_ids, in_trash)
        for record_id in record_ids:
            owner = owners.get(record_id)
            if owner is None or not policy.row_allowed(form, action, *owner):
                raise NotFound(_not_found(record_id, form))

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
        by :mod:`runtime.services.records.bulk`.
        """
        return bulk_create(self, form, rows, actor, action)

    # -- validation ---------------------------------------------------------
    def _prepare(
        self,
        connection: Connection,
        form: str,
        values: dict[str, Any],
        record_id: int | None,
        stored: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The values to save, checked (see record_checks.checked_values)."""
        return checked_values(
            connection,
            self.repository,
            self.registry,
            self.logic(form),
            form,
            values,
            record_id,
            stored,
        )

    def _value_fields(self, form: str) -> dict[str, FieldSpecBase]:
        return value_fields(self.repository.form_tables(form))

    def _write(self, write: Callable[[], T]) -> T:
        """Turn a unique-index race (two saves of one value at once) into a message."""
        try:
            return write()
        except IntegrityError:  # the driver's text would show the value and the SQL
            message = tr("a value that must be unique is already used by another record")
            raise ValidationFailed({"": message}) from None

    # -- audit --------------------------------------------------------------
    def audit_event(
        self, actor: Actor, action: str, form: str, details: dict[str, Any] | None
    ) -> None:
        """One audit row about ``form`` in a transaction of its own (an export)."""
        self.transaction(
            lambda connection: self._audit(connection, actor, action, form, None, details)
        )

    def _audit(
        self, connection, actor: Actor, action, form, record_id, details, seals=None
    ) -> None:
        """One audit row; it holds the seal of the record it wrote (``record_id``),
        or the ``seals`` given (see runtime.store.audit_seals)."""
        if seals is None and record_id is not None:
            tables = self.repository.form_tables(form)
            seals = record_seals(connection, tables, [record_id])
        entry = AuditEntry(
            action, actor.user_id, actor.username, self.spec.id, form, record_id, details, seals
        )
        append(connection, entry)

    def _json(self, form: str, values: dict[str, Any]) -> dict[str, Any]:
        fields = self._value_fields(form)
        return {
            key: self.registry.of(fields[key]).to_json(fields[key], value)
            for key, value in values.items()
            if key in fields and value is not None
        }

    def _changes_json(self, form: str, old: dict[str, Any], new: dict[str, Any]) -> dict:
        fields = self._value_fields(form)
        return {
            key: [
                self.registry.of(fields[key]).to_json(fields[key], old.get(key)),
                self.registry.of(fields[key]).to_json(fields[key], value),
            ]
            for key, value in new.items()
        }

    def _user_name(self, connection, user_id: int | None) -> str:
        if user_id is None:
            return tr("the system")
        name = user_display_name(connection, user_id)
        if name is None:
            return tr("user #{id}").format(id=user_id)
        return name


def _not_found(record_id: int, form: str) -> str:
    return tr("record {record} of '{form}' does not exist or was deleted").format(
        record=record_id, form=form
    )


def _filter_fields(node: Filter | None) -> set[str]:
    """Every field key a filter tree mentions."""
    if node is None:
        return set()
    if isinstance(node, Condition):
        return {node.field}
    return set().union(*(_filter_fields(part) for part in node.parts))


def _retryable(error: DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    if code in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)


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
