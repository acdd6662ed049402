"""The record use cases: validate → permit → write → audit, in one transaction."""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from resources.messages import tr
from runtime.services.actor import SYSTEM, Actor
from runtime.services.errors import PermissionDenied, ServiceError
from runtime.services.form_logic import FormLogic
from runtime.services.permissions import Policy
from runtime.spec.models import AppSpec
from runtime.store.audit import AuditEntry, AuditRow, append, record_history, utc_now
from runtime.store.query import Condition, Cursor, Filter, RecordQuery, RowScope
from runtime.store.repository import Page, Record, RecordRepository, UnknownName
from runtime.store.schema import users_table
from runtime.store.workspace import Workspace
from widgets.base import FieldSpecBase, FieldValueError

T = TypeVar("T")
#: PostgreSQL errors worth retrying: serialization failure and deadlock.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


class RecordError(ServiceError):
    """Base of the errors a record operation reports to the user."""


class NotFound(RecordError):
    pass


class ValidationFailed(RecordError):
    """Values that do not fit; ``errors`` maps a field path to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        first = "; ".join(f"{key}: {message}" for key, message in list(errors.items())[:3])
        super().__init__(tr("please correct the form — {problems}").format(problems=first))


class ConflictError(RecordError):
    """Someone saved the record after the caller read it; nothing was written.

    ``differences`` maps each field key to (the caller's value, the stored value).
    """

    def __init__(
        self,
        record_id: int,
        saved_by: str,
        saved_at: datetime,
        current_version: int,
        differences: dict[str, tuple[Any, Any]],
    ) -> None:
        self.record_id = record_id
        self.saved_by = saved_by
        self.saved_at = saved_at
        self.current_version = current_version
        self.differences = differences
        if differences:
            template = tr(
                "{user} saved this record at {time} UTC after you opened it (changed: {fields})"
            )
        else:
            template = tr(
                "{user} saved this record at {time} UTC after you opened it"
                " (changed: no field you changed)"
            )
        super().__init__(
            template.format(
                user=saved_by, time=f"{saved_at:%Y-%m-%d %H:%M}", fields=", ".join(differences)
            )
        )


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
        if form is not None and self.spec.form(form) is None:
            raise UnknownName(tr("the app has no form '{form}'").format(form=form))
        return Policy(self.spec, actor, self.registry)

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
                    raise
                time.sleep(0.02 * (2**attempt))
        raise AssertionError("unreachable")

    # -- create ---------------------------------------------------------------
    def create(self, form: str, values: dict[str, Any], actor: Actor = SYSTEM) -> Record:
        policy = self.policy(actor, form)
        given = [key for key, value in values.items() if value not in (None, "", [])]
        policy.check_writes(form, given, "create")

        def work(connection: Connection) -> Record:
            now = utc_now()
            # Assigned first so required serials validate; a failed save rolls its number back.
            assigned = self._with_defaults(form, values)
            self._assign(connection, form, assigned, now)
            clean = self._prepare(connection, form, assigned, None)
            system = {
                "created_at": now,
                "created_by": actor.user_id,
                "updated_at": now,
                "updated_by": actor.user_id,
                "version": 1,
                "owner_department": actor.primary_department,
            }
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
            if current.version != version:
                raise self._conflict(connection, form, current, values, policy=policy)
            merged = {**current.values, **values}
            clean = self._prepare(connection, form, merged, record_id, stored=current.values)
            changes = {
                key: value for key, value in clean.items() if current.values.get(key) != value
            }
            if not changes:
                return self._redacted(policy, form, current)
            computed = {
                key
                for key, spec in self._value_fields(form).items()
                if self.registry.of(spec).computed
            }
            policy.check_writes(form, sorted(set(changes) - computed), "update")
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
        self._trash_move(form, record_id, actor, "delete", utc_now())

    def restore(self, form: str, record_id: int, actor: Actor = SYSTEM) -> None:
        self._trash_move(form, record_id, actor, "restore", None)

    def _trash_move(self, form, record_id, actor, action, deleted_at) -> None:
        self._require_record(form, record_id, actor, "delete", in_trash=deleted_at is None)

        def work(connection: Connection) -> None:
            system = {"updated_at": utc_now(), "updated_by": actor.user_id}
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

        self.transaction(work)

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
        policy = self.policy(actor, form)
        policy.require(form, action)
        if policy.full_access:
            return
        with self._reader() as connection:
            record = self.repository.fetch(connection, form, record_id, include_deleted=in_trash)
        if record is None or not policy.row_allowed(
            form, action, record.created_by, record.owner_department
        ):
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
        the database and in the batch), checked per chunk of rows (``_BulkChecks``;
        forms with neither go straight through). Raises ValidationFailed naming the
        row of the first invalid record; nothing is written then.
        """
        policy = self.policy(actor, form)
        policy.require(form, action)
        tables = self.repository.form_tables(form)
        keys = list(tables.columns)
        convert = self._bulk_converter(form)
        writable = (
            set(tables.columns) if policy.full_access else set(policy.writable_fields(form, action))
        )

        assigns = any(self.registry.of(spec).assigns_on_create for spec in tables.columns.values())

        def tuples(connection: Connection, now: datetime) -> Iterable[tuple]:
            known = tables.columns.keys()
            for number, row in enumerate(rows, start=1):
                if not row.keys() <= writable:  # writable fields are known ones: one test
                    self._refuse_unwritable(policy, form, action, row, known, writable, number)
                    if not row.keys() <= known:
                        unknown = sorted(set(row) - set(known))[0]
                        message = tr("this form has no field '{key}' to fill in here")
                        raise ValidationFailed({_row(number): message.format(key=unknown)})
                if assigns:
                    row = dict(row)
                    self._assign(connection, form, row, now)
                try:
                    yield convert(row)
                except FieldValueError as error:
                    raise ValidationFailed({_row(number): error.message}) from None

        def work(connection: Connection) -> int:
            now = utc_now()
            system = {
                "created_at": now,
                "created_by": actor.user_id,
                "updated_at": now,
                "updated_by": actor.user_id,
                "version": 1,
                "owner_department": actor.primary_department,
            }
            rows = tuples(connection, now)
            checks = _BulkChecks(self.repository, self.registry, form, keys)
            if checks:  # references or unique values: checked chunk by chunk
                rows = checks.passed(connection, rows)
            count = self._write(
                lambda: self.repository.bulk_insert(connection, form, keys, rows, system)
            )
            self._audit(connection, actor, "bulk_create", form, None, {"rows": count})
            return count

        return self.transaction(work)

    @staticmethod
    def _refuse_unwritable(policy, form, action, row, known, writable, number) -> None:
        """A bulk row may name only fields the actor may set (empty values aside)."""
        refused = [
            key
            for key, value in row.items()
            if key in known and key not in writable and value not in (None, "", [])
        ]
        if refused:
            try:
                policy.check_writes(form, refused, action)
            except PermissionDenied as error:
                raise PermissionDenied(
                    tr("row {row}: {problem}").format(row=number, problem=error.message)
                ) from None

    def _bulk_converter(self, form: str) -> Callable[[dict[str, Any]], tuple]:
        """A function from one row dict to its canonical values in column order.

        It raises FieldValueError naming the field. Without formulas or visibility
        rules (the common case) it is one pass of per-column checkers straight into
        a tuple — it runs for every imported cell, so it is kept tight.
        """
        checks = [
            (key, _CellCheck(spec, self.registry.of(spec)))
            for key, spec in self.repository.form_tables(form).columns.items()
        ]
        logic = self.logic(form)
        if logic.formulas or logic.visibility:
            return lambda row: self._bulk_row_with_rules(checks, logic, row)
        keys = [key for key, _check in checks]
        fast = [check.fast for _key, check in checks]

        def convert(row: dict[str, Any]) -> tuple:
            get = row.get
            try:  # map() keeps the per-cell loop in C: this runs for every cell
                return tuple(map(operator.call, fast, map(get, keys)))
            except FieldValueError:
                for key, check in checks:  # again, slowly, to name the field
                    check(get(key))
                raise

        return convert

    @staticmethod
    def _bulk_row_with_rules(checks, logic: FormLogic, row: dict[str, Any]) -> tuple:
        """Formulas and visible_when apply as in a single save (hidden is not required)."""
        values = {key: check.coerce(row.get(key)) for key, check in checks}
        values = logic.compute(values)
        hidden = logic.hidden_fields(values)
        for key, check in checks:
            check.validate(values[key], key not in hidden)
        return tuple(values.values())

    # -- validation ---------------------------------------------------------
    def _prepare(
        self,
        connection: Connection,
        form: str,
        values: dict[str, Any],
        record_id: int | None,
        stored: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Coerce, compute formulas, check required/limits/unique/references.

        On an update, ``stored`` holds the values as saved: a value the user did not
        change is kept as it is, even if the app's rules became stricter since (an
        option removed, a shorter limit) — editing another field never loses it.
        """
        tables = self.repository.form_tables(form)
        fields = self._value_fields(form)
        errors: dict[str, str] = {}
        unknown = set(values) - set(fields)
        for key in sorted(unknown):
            errors[key] = tr("this form has no such field")
        stored = stored or {}
        clean: dict[str, Any] = {}
        for key, spec in fields.items():
            value = values.get(key)
            if key in stored and stored[key] == value:
                clean[key] = value
                continue
            try:
                clean[key] = self.registry.of(spec).coerce(spec, value)
            except FieldValueError as error:
                errors[key] = error.message
                clean[key] = None
        clean = self.logic(form).compute(clean)
        hidden = self.logic(form).hidden_fields(clean)
        for key, spec in fields.items():
            if key in errors:
                continue
            if key in stored and stored[key] == clean[key] and stored[key] is not None:
                continue  # unchanged and present: already accepted when it was saved
            # A hidden field is not required, but a value it holds must still fit.
            message = self._check_value(
                connection, form, spec, clean[key], record_id, required=key not in hidden
            )
            if message:
                errors[key] = message
        if errors:
            raise ValidationFailed(errors)
        return {
            key: clean[key] for key in fields if key in tables.columns or key in tables.children
        }

    def _value_fields(self, form: str) -> dict[str, FieldSpecBase]:
        tables = self.repository.form_tables(form)
        return {
            spec.key: spec
            for spec in tables.form.fields
            if spec.key in tables.columns or spec.key in tables.children
        }

    def _check_value(self, connection, form, spec, value, record_id, required=True) -> str | None:
        field_type = self.registry.of(spec)
        if field_type.is_empty(value):
            required = required and spec.required and not field_type.computed
            assigned = field_type.always_unique  # serials are filled in on create
            return tr("is required") if required and not assigned else None
        try:
            field_type.validate(spec, value)
        except FieldValueError as error:
            return error.message
        if (spec.unique or field_type.always_unique) and self.repository.value_taken(
            connection, form, spec.key, value, record_id
        ):
            return _taken(field_type.display(spec, value))
        return self._check_reference(connection, field_type.reference_kind(spec), value)

    def _check_reference(self, connection, kind, value) -> str | None:
        if kind is None:
            return None
        idents = value if isinstance(value, list) else [value]
        existing = self.repository.existing_references(connection, kind, idents)
        return next((_missing(ident) for ident in idents if ident not in existing), None)

    def _write(self, write: Callable[[], T]) -> T:
        """Turn a unique-index race (two saves of one value at once) into a message."""
        try:
            return write()
        except IntegrityError as error:
            message = tr("a value must be unique and is already used ({detail})")
            raise ValidationFailed({"": message.format(detail=error.orig)}) from None

    # -- audit --------------------------------------------------------------
    def _audit(self, connection, actor: Actor, action, form, record_id, details) -> None:
        entry = AuditEntry(
            action, actor.user_id, actor.username, self.spec.id, form, record_id, details
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
        row = connection.execute(
            sa.select(users_table.c.display_name, users_table.c.username).where(
                users_table.c.id == user_id
            )
        ).first()
        if row is None:
            return tr("user #{id}").format(id=user_id)
        return row.display_name or row.username


class _CellCheck:
    """Coerce and validate one column's cells, with messages naming the field."""

    __slots__ = ("checker", "fast", "field_type", "is_empty", "required", "spec")

    def __init__(self, spec: FieldSpecBase, field_type) -> None:
        self.spec = spec
        self.field_type = field_type
        self.checker = field_type.cell_checker(spec)
        self.is_empty = field_type.is_empty
        self.required = spec.required and not field_type.computed
        #: The per-cell hot path: the type's checker itself unless a value is required.
        self.fast = self._required_checker() if self.required else self.checker

    def _required_checker(self):
        checker, is_empty = self.checker, self.is_empty

        def check(value: Any) -> Any:
            value = checker(value)
            if value is None or is_empty(value):
                raise FieldValueError(tr("is required"))
            return value

        return check

    def __call__(self, value: Any) -> Any:
        """Coerce, validate and require, for rows with no visibility rules."""
        try:
            value = self.checker(value)
        except FieldValueError as error:
            raise FieldValueError(_named(self.spec, error.message)) from None
        if self.required and (value is None or self.is_empty(value)):
            raise FieldValueError(_named(self.spec, tr("is required")))
        return value

    def coerce(self, value: Any) -> Any:
        try:
            return self.field_type.coerce(self.spec, value)
        except FieldValueError as error:
            raise FieldValueError(_named(self.spec, error.message)) from None

    def validate(self, value: Any, visible: bool) -> None:
        if self.is_empty(value):
            if self.required and visible:
                raise FieldValueError(_named(self.spec, tr("is required")))
            return
        try:
            self.field_type.validate(self.spec, value)
        except FieldValueError as error:
            raise FieldValueError(_named(self.spec, error.message)) from None


#: Rows that ``bulk_create`` checks together for references and unique values.
BULK_CHECK_ROWS = 1_000


def _missing(ident: int) -> str:
    return tr("#{id} does not exist (it may have been deleted)").format(id=ident)


def _taken(display: str) -> str:
    return tr("'{value}' is already used by another record").format(value=display)


def _named(spec: FieldSpecBase, message: str) -> str:
    """A message about one field of a bulk row, naming the field."""
    return tr("{field}: {problem}").format(field=spec.label, problem=message)


def _row(number: int) -> str:
    """The key a bulk row's problem is reported under ("row 12")."""
    return tr("row {row}").format(row=number)


def _not_found(record_id: int, form: str) -> str:
    return tr("record {record} of '{form}' does not exist or was deleted").format(
        record=record_id, form=form
    )


class _BulkChecks:
    """The checks of bulk rows that need the database: references exist and unique
    values are free, in the database and earlier in the batch (as ``create`` and
    the import check them). Empty (false) for a form with neither."""

    def __init__(self, repository: RecordRepository, registry, form: str, keys: list[str]):
        self.repository = repository
        self.form = form
        tables = repository.form_tables(form)
        columns = tables.columns
        typed = [(i, key, columns[key], registry.of(columns[key])) for i, key in enumerate(keys)]
        self.references = [
            (i, spec, field_type, kind)
            for i, _key, spec, field_type in typed
            if (kind := field_type.reference_kind(spec)) is not None
        ]
        #: (column index, key, spec, type, the row number of each value seen so far)
        self.unique = [
            (i, key, spec, field_type, {})
            for i, key, spec, field_type in typed
            if (spec.unique or field_type.always_unique)
            and not isinstance(tables.table.c[key].type, sa.JSON)  # lists: the index decides
        ]

    def __bool__(self) -> bool:
        return bool(self.references or self.unique)

    def passed(self, connection: Connection, rows: Iterable[tuple]) -> Iterable[tuple]:
        """``rows`` again, each chunk once it passed; ValidationFailed names the
        first bad row (a row that failed its own conversion included)."""
        chunk: list[tuple] = []
        first = 1
        try:
            for row in rows:
                chunk.append(row)
                if len(chunk) == BULK_CHECK_ROWS:
                    full, chunk = chunk, []
                    self._check(connection, first, full)
                    yield from full
                    first += len(full)
        except ValidationFailed:  # a row failed its conversion: a bad row before it comes first
            self._check(connection, first, chunk)
            raise
        self._check(connection, first, chunk)
        yield from chunk

    def _check(self, connection: Connection, first: int, chunk: list[tuple]) -> None:
        """ValidationFailed for the first bad row of ``chunk`` (its first row is ``first``)."""
        problems: dict[int, str] = {}  # row number -> message
        for check in self.references:
            self._reference_problems(connection, first, chunk, check, problems)
        for check in self.unique:
            self._unique_problems(connection, first, chunk, check, problems)
        if problems:
            number = min(problems)
            raise ValidationFailed({_row(number): problems[number]})

    def _reference_problems(self, connection, first, chunk, check, problems) -> None:
        index, spec, _field_type, kind = check
        ids = {i for row in chunk for i in _ids(row[index])}
        existing = self.repository.existing_references(connection, kind, ids) if ids else ()
        for number, row in enumerate(chunk, start=first):
            bad = next((i for i in _ids(row[index]) if i not in existing), None)
            if bad is not None:
                problems.setdefault(number, _named(spec, _missing(bad)))

    def _unique_problems(self, connection, first, chunk, check, problems) -> None:
        index, key, spec, field_type, seen = check
        present = [(n, row[index]) for n, row in enumerate(chunk, first) if row[index] is not None]
        values = [value for _n, value in present]
        taken = self.repository.values_in_use(connection, self.form, key, values) if values else {}
        for number, value in present:
            # ``seen`` first: rows of earlier chunks may be in the table already.
            if value in seen:
                message = tr("'{value}' is also in row {row}").format(
                    value=field_type.display(spec, value), row=seen[value]
                )
            elif value in taken:
                message = _taken(field_type.display(spec, value))
            else:
                seen[value] = number
                continue
            problems.setdefault(number, _named(spec, message))


def _ids(value: Any) -> list:
    """The ids a reference value holds (one, several, or none)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


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
