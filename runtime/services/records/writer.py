"""The one way records are written: permit → assign → check → hooks → store → audit.

Every write of a record goes through :class:`RecordWriter` — a save (create,
update), a move to the trash and back, a purge, a bulk insert, an import's batch
and its undo — inside a transaction the caller owns (the record service's
``transaction``, or an import's, which also advances its journal). For each the
writer, in this order:

1. checks the permission: the action, the row scope of an existing record, and
   the fields the actor may set in *this* record (:attr:`RecordWriter.writable_fields`,
   a hook: today the fields a role may set are the same for every record of a
   form; an approval flow will make them depend on the record's state);
2. assigns the values the engine gives a new record (serial numbers, one counter
   per field and period, in the same transaction: a rollback returns the number);
   a single create takes them after step 3 unless its rules read them
   (:meth:`RecordWriter._late_serials`: the counter's lock is held for less time);
3. checks the values with the form's rules (:class:`~.checks.FormRules`: types,
   required, unique, references, formulas and visibility) — an import checks its
   rows with the same rules before it writes;
4. runs the ``before_write`` hooks (:class:`~.hooks.WriteHooks`): one may refuse the write
   by raising, and nothing of it is stored;
5. writes through the repository; a unique index's refusal becomes a message;
6. adds the audit row with the seals of the records written (:meth:`RecordWriter.audit`,
   the one place audit entries of records are built);
7. runs the ``after_write`` hooks, still inside the transaction.

Hooks see each record once per write (:class:`~.hooks.WriteBatch`); when a transaction is
retried (a PostgreSQL serialization failure) they run again with it. Without
hooks a bulk insert streams its rows; with hooks its rows are gathered first so
``before_write`` can see them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from resources.messages import tr
from runtime.services.actor import Actor
from runtime.services.errors import PermissionDenied
from runtime.services.permissions import Policy
from runtime.services.records.bulk import _row_converter
from runtime.services.records.checks import BulkChecks, FormRules, row_key, value_taken
from runtime.services.records.errors import ConflictError, NotFound, ValidationFailed
from runtime.services.records.hooks import (
    RecordWrite,
    WritableFields,
    WriteBatch,
    WriteHooks,
    form_writable_fields,
)
from runtime.services.records.numbering import NumberBlocks
from runtime.spec.models import AppSpec
from runtime.store.audit import AuditEntry, append, utc_now
from runtime.store.audit_seals import (
    InsertSealer,
    Seals,
    highest_id,
    ids_inserted_after,
    record_seals,
)
from runtime.store.connection import Connection
from runtime.store.names import user_display_name
from runtime.store.repository import Record, RecordRepository
from runtime.store.transactions import ValueInUse, unique_guard
from widgets.base import FieldSpecBase, FieldValueError

T = TypeVar("T")


# -- the writer -------------------------------------------------------------------
class RecordWriter:
    """Writes the records of one installed app (see the module)."""

    def __init__(self, repository: RecordRepository, registry, spec: AppSpec) -> None:
        self.repository = repository
        self.registry = registry
        self.spec = spec
        self.hooks = WriteHooks()
        #: The per-record field modes: replaced by flows that lock fields by state.
        self.writable_fields: WritableFields = form_writable_fields
        self._rules: dict[str, FormRules] = {}
        self._serials: dict[str, list[tuple[str, FieldSpecBase, Any]]] = {}

    def rules(self, form: str) -> FormRules:
        """The rules of ``form``'s values (built once)."""
        rules = self._rules.get(form)
        if rules is None:
            rules = self._rules[form] = FormRules(self.repository, self.registry, form)
        return rules

    # -- permissions --------------------------------------------------------
    def writable(
        self, policy: Policy, form: str, record: Record | None, action: str
    ) -> frozenset[str]:
        """The fields ``policy``'s actor may set in ``record`` (None: a new one)."""
        return frozenset(self.writable_fields(policy, form, record, action))

    def check_writes(
        self,
        policy: Policy,
        form: str,
        keys: Iterable[str],
        action: str,
        record: Record | None = None,
    ) -> None:
        """PermissionDenied naming the fields of ``keys`` the actor may not set in
        ``record``. Every field named is checked, empty or not, changed or not: a
        refusal that depended on the value would tell whether a hidden value is
        empty, or whether a guess written into it was right."""
        writable = self.writable(policy, form, record, action)
        policy.check_writes(form, list(keys), action, writable=writable)

    def _require_rows(
        self, connection, policy: Policy, form: str, ids: Sequence[int], in_trash: bool
    ) -> None:
        """Deleting is granted and every one of these records (live, or in the trash
        when ``in_trash``) is within its row scope: one read for all of them."""
        policy.require(form, "delete")
        if policy.full_access:
            return
        owners = self.repository.owners(connection, form, ids, in_trash)
        for record_id in ids:
            owner = owners.get(record_id)
            if owner is None or not policy.row_allowed(form, "delete", *owner):
                raise NotFound(not_found(record_id, form))

    # -- one record ---------------------------------------------------------
    def create(
        self, connection: Connection, policy: Policy, form: str, values: dict[str, Any]
    ) -> Record:
        """A new record of ``values`` (the actor's, redacted by the caller).

        Its serial numbers are taken after the checks (see :meth:`_late_serials`);
        a failed save rolls a number back."""
        actor = policy.actor
        self.check_writes(policy, form, values, "create")
        now = utc_now()
        assigned = self._with_defaults(form, values)
        late = self._late_serials(form, assigned)
        self.assign_serials(connection, form, [assigned], skip=late)
        clean = self.rules(form).checked(connection, assigned, None, assigned_later=late)
        numbers = self._assign_late(connection, form, clean, late)
        batch = WriteBatch("create", "save", form, actor, connection, [RecordWrite(None, clean)])
        self.hooks.before_write(batch)
        system = actor.new_record_columns(now)
        insert = partial(self.repository.insert, connection, form, clean, system)
        stored = self._guarded(insert, form, numbers)
        batch.records[0].record_id = record_id = stored.id
        details = self._json(form, clean)
        self.audit(connection, actor, "create", form, record_id, details, stored.seals())
        self.hooks.after_write(batch)
        return Record(id=record_id, values=clean, deleted_at=None, **system)

    def update(
        self,
        connection: Connection,
        policy: Policy,
        form: str,
        record_id: int,
        values: dict[str, Any],
        version: int,
    ) -> Record:
        """Save changes made to version ``version``; ConflictError if it is stale.
        A save that changes nothing writes nothing (no hook, no audit row)."""
        actor = policy.actor
        policy.require(form, "update")
        current = self.repository.fetch(connection, form, record_id)
        if current is None or not policy.row_allowed(
            form, "update", current.created_by, current.owner_department
        ):
            raise NotFound(not_found(record_id, form))
        self.check_writes(policy, form, values, "update", current)
        if current.version != version:
            raise self._conflict(connection, policy, form, current, values)
        merged = {**current.values, **values}
        clean = self.rules(form).checked(connection, merged, record_id, stored=current.values)
        changes = {key: value for key, value in clean.items() if current.values.get(key) != value}
        if not changes:
            return current
        batch = WriteBatch(
            "update", "save", form, actor, connection, [RecordWrite(record_id, changes)]
        )
        self.hooks.before_write(batch)
        system: dict[str, Any] = {"updated_at": utc_now(), "updated_by": actor.user_id}
        written = self._guarded(
            lambda: self.repository.update(connection, form, record_id, changes, version, system)
        )
        if written is None:
            stored = self.repository.fetch(connection, form, record_id, True)
            if stored is None:  # purged meanwhile
                raise NotFound(not_found(record_id, form))
            raise self._conflict(connection, policy, form, stored, values)
        details = self._changes_json(form, current.values, changes)
        self.audit(connection, actor, "update", form, record_id, details, written.seals())
        current.values.update(changes)
        current.version, current.updated_at = version + 1, system["updated_at"]
        current.updated_by = actor.user_id
        self.hooks.after_write(batch)
        return current

    def move(
        self,
        connection: Connection,
        policy: Policy,
        form: str,
        record_ids: Sequence[int],
        kind: str,
    ) -> None:
        """Move records to the trash (``kind`` "delete") or back ("restore"): all of
        them, or none when one is refused."""
        deleted_at = utc_now() if kind == "delete" else None
        self._require_rows(connection, policy, form, record_ids, in_trash=deleted_at is None)
        actor = policy.actor
        records = [RecordWrite(record_id) for record_id in record_ids]
        batch = WriteBatch(kind, "save", form, actor, connection, records)
        self.hooks.before_write(batch)
        system = {"updated_at": utc_now(), "updated_by": actor.user_id}
        for record_id in record_ids:
            moved = self._guarded(  # a restored value may be in use by a newer record
                partial(
                    self.repository.set_deleted, connection, form, record_id, deleted_at, system
                )
            )
            if not moved:
                if kind == "restore":
                    message = tr("record {record} of '{form}' is not in the trash")
                else:
                    message = tr("record {record} of '{form}' is not a live record")
                raise NotFound(message.format(record=record_id, form=form))
            self.audit(connection, actor, kind, form, record_id, None)
        self.hooks.after_write(batch)

    def purge(self, connection: Connection, policy: Policy, form: str, record_id: int) -> None:
        """Delete a trashed record for good; the audit keeps its last values."""
        self._require_rows(connection, policy, form, [record_id], in_trash=True)
        record = self.repository.fetch(connection, form, record_id, include_deleted=True)
        if record is not None and record.deleted_at is not None:
            writes = [RecordWrite(record_id, record.values)]
            batch = WriteBatch("purge", "save", form, policy.actor, connection, writes)
            self.hooks.before_write(batch)
            if self.repository.purge(connection, form, record_id):
                details = self._json(form, record.values)
                self.audit(connection, policy.actor, "purge", form, record_id, details)
                self.hooks.after_write(batch)
                return
        raise NotFound(
            tr("record {record} of '{form}' is not in the trash").format(
                record=record_id, form=form
            )
        )

    # -- many records -------------------------------------------------------
    def bulk_create(
        self,
        connection: Connection,
        policy: Policy,
        form: str,
        rows: Iterable[dict[str, Any]],
        action: str,
    ) -> int:
        """Insert ``rows`` at driver speed, each checked like a single save (see
        ``RecordService.bulk_create``); one audit row for them all."""
        actor = policy.actor
        policy.require(form, action)
        tables = self.repository.form_tables(form)
        keys = list(tables.columns)
        # New records: the fields the actor may set are asked once for all of them.
        writable = self.writable(policy, form, None, action) & tables.columns.keys()
        system = actor.new_record_columns(utc_now())
        statement = self.repository.prepare_bulk_insert(connection, form, keys, system)
        checks = BulkChecks(self.repository, self.registry, form, keys)
        logic = self.rules(form).logic
        # Plain rows (no checks against the database, no form rules, no hooks to show
        # them to) have each cell checked and encoded for the driver in one step and
        # go out as they are; else checks, rules and hooks see canonical rows, which
        # the statement then arranges.
        plain = not (checks or logic.formulas or logic.visibility or self.hooks)
        encoders = statement.cell_encoders if plain else None
        stream = self._bulk_tuples(
            connection, policy, form, rows, writable, action, encoders, statement.dialect
        )
        if checks:  # references or unique values: checked chunk by chunk
            stream = checks.passed(connection, stream)
        sealer = InsertSealer(connection, tables, keys)
        batch = None
        if self.hooks:  # the hooks see every row before any is written
            stream = list(stream)
            records = [RecordWrite(None, dict(zip(keys, row, strict=True))) for row in stream]
            batch = WriteBatch("create", "bulk", form, actor, connection, records)
            self.hooks.before_write(batch)
            before = highest_id(connection, tables)
        params = stream if encoders is not None else map(statement.arrange, stream)
        count = self._guarded(
            lambda: self.repository.send_bulk_insert(connection, statement, params, sealer.add)
        )
        if batch is not None:
            ids = ids_inserted_after(connection, tables, before)
            for record, ident in zip(batch.records, ids, strict=True):
                record.record_id = ident
        self.audit(connection, actor, "bulk_create", form, None, {"rows": count}, sealer.seals())
        if batch is not None:
            self.hooks.after_write(batch)
        return count

    def _bulk_tuples(
        self, connection, policy, form, rows, writable, action, encoders=None, dialect=""
    ) -> Iterable[tuple]:
        """Each row converted to its canonical values in column order (serial
        numbers assigned first), or with ``encoders`` to its driver parameters (see
        ``_row_converter``); ValidationFailed or PermissionDenied names the row."""
        rules = self.rules(form)
        columns = rules.tables.columns
        convert = _row_converter(self.registry, columns, rules.logic, encoders, dialect)
        serials = self._serial_fields(form)
        numbers = self._number_blocks(connection, form, serials)
        local_now = datetime.now()
        known = columns.keys()
        for number, row in enumerate(rows, start=1):
            if not row.keys() <= writable:  # writable fields are known ones: one test
                _refuse_unwritable(policy, form, action, row, known, writable, number)
                if not row.keys() <= known:
                    unknown = sorted(set(row) - set(known))[0]
                    message = tr("this form has no field '{key}' to fill in here")
                    raise ValidationFailed({row_key(number): message.format(key=unknown)})
            if serials:
                row = dict(row)
                _assign(row, serials, local_now, numbers)
            try:
                yield convert(row)
            except FieldValueError as error:
                raise ValidationFailed({row_key(number): error.message}) from None
        for blocks in numbers.values():
            blocks.give_back()

    def import_batch(
        self,
        connection: Connection,
        policy: Policy,
        form: str,
        creates: list[dict[str, Any]],
        updates: list[tuple[int, int, dict[str, Any]]],
        details: dict[str, Any],
        stale: Callable[[int], Exception],
    ) -> tuple[list[int], list[int]]:
        """One batch of an import, its rows checked already with :meth:`rules`:
        ``creates`` (values of new records; serial numbers are assigned here) and
        ``updates`` ((record id, version read, values) each). One ``import_batch``
        audit row lists the ids written (``details`` plus ``created``/``updated``);
        ``stale(position)`` is raised for an update whose record changed since.
        Returns the ids created and updated."""
        actor = policy.actor
        tables = self.repository.form_tables(form)
        now = utc_now()
        if self._serial_fields(form):  # copies: a retried transaction numbers them again
            creates = [dict(values) for values in creates]
            self.assign_serials(connection, form, creates)
        new, changed = self._import_batches(connection, form, actor, creates, updates)
        for batch in (new, changed):
            self.hooks.before_write(batch)
        system = actor.new_record_columns(now)
        sealer = InsertSealer(connection, tables, list(tables.columns))
        created = []
        if creates:
            created = self._guarded(
                lambda: self.repository.insert_many(connection, form, creates, system, sealer.add)
            )
        for position, (ident, version, values) in enumerate(updates):
            if not self._update_row(connection, form, actor, ident, version, values, now):
                raise stale(position)
        updated = [ident for ident, _version, _values in updates]
        if created or updated:
            details = details | {"created": created, "updated": updated}
            seals = self._batch_seals(connection, form, sealer, created, updated)
            self.audit(connection, actor, "import_batch", form, None, details, seals)
        for record, ident in zip(new.records, created, strict=False):
            record.record_id = ident
        for batch in (new, changed):
            self.hooks.after_write(batch)
        return created, updated

    def _update_row(self, connection, form, actor, ident, version, values, now) -> bool:
        """Write an import's row over record ``ident`` if it is still at ``version``."""
        tables = self.repository.form_tables(form)
        changes = {k: v for k, v in values.items() if k in tables.columns or k in tables.children}
        system = {"updated_at": now, "updated_by": actor.user_id}
        written = self._guarded(
            lambda: self.repository.update(connection, form, ident, changes, version, system)
        )
        return written is not None

    def _import_batches(self, connection, form, actor, creates, updates):
        """The hooks' view of an import batch: its creates, and its updates (empty
        lists when no hook is registered: no object per row then)."""
        new = WriteBatch("create", "import", form, actor, connection)
        changed = WriteBatch("update", "import", form, actor, connection)
        if self.hooks:
            new.records = [RecordWrite(None, values) for values in creates]
            changed.records = [RecordWrite(ident, values) for ident, _v, values in updates]
        return new, changed

    def _batch_seals(self, connection, form, sealer: InsertSealer, created, updated) -> Seals:
        """The seals of a batch's records: the new ones hashed as they were sent, the
        updated ones read back (the batch wrote each once: no record is in both)."""
        seals = sealer.seals(created) if created else Seals()
        if not updated:
            return seals
        tables = self.repository.form_tables(form)
        return Seals.of(dict(seals.items()) | record_seals(connection, tables, updated))

    def trash_import_batch(
        self,
        connection: Connection,
        policy: Policy,
        form: str,
        record_ids: Sequence[int],
        details: dict[str, Any],
    ) -> list[int]:
        """Move the live records among ``record_ids`` (an import's batch) to the
        trash, with one ``undo_import_batch`` audit row (``details`` plus
        ``trashed``); the ids moved."""
        actor = policy.actor
        policy.require(form, "delete")
        batch = None
        if self.hooks:  # only the live ones move: a killed undo moved the others
            live = self.repository.owners(connection, form, record_ids)
            records = [RecordWrite(ident) for ident in record_ids if ident in live]
            batch = WriteBatch("delete", "import", form, actor, connection, records)
            self.hooks.before_write(batch)
        now = utc_now()
        system = {"updated_at": now, "updated_by": actor.user_id}
        moved = self.repository.trash_many(connection, form, record_ids, now, system)
        if moved:
            tables = self.repository.form_tables(form)
            seals = Seals.of(record_seals(connection, tables, moved))  # as in the trash
            details = details | {"trashed": moved}
            self.audit(connection, actor, "undo_import_batch", form, None, details, seals)
        if batch is not None:
            self.hooks.after_write(batch)
        return moved

    # -- values the engine assigns -------------------------------------------
    def _with_defaults(self, form: str, values: dict[str, Any]) -> dict[str, Any]:
        """The values given, plus each field's ``default`` for fields not given at all."""
        defaults = {
            key: spec.default
            for key, spec in self.rules(form).fields.items()
            if key not in values and spec.default is not None
        }
        return defaults | dict(values)

    def _serial_fields(self, form: str) -> list[tuple[str, FieldSpecBase, Any]]:
        """(key, spec, type) of the fields whose type assigns a value on create."""
        found = self._serials.get(form)
        if found is None:
            columns = self.repository.form_tables(form).columns
            found = self._serials[form] = [
                (key, spec, field_type)
                for key, spec in columns.items()
                if (field_type := self.registry.of(spec)).assigns_on_create
            ]
        return found

    def assign_serials(
        self,
        connection: Connection,
        form: str,
        records: Iterable[dict[str, Any]],
        skip: Collection[str] = (),
    ) -> None:
        """Fill in the values new records get from their field types (serial
        numbers) where they are empty, from the counters, in this transaction
        (not of the fields in ``skip``): one statement per field, whatever the
        number of records (:class:`~.numbering.NumberBlocks`)."""
        records = list(records)
        local_now = datetime.now()
        for serial in self._serial_fields(form):
            key = serial[0]
            empty = [values for values in records if values.get(key) is None]
            if key in skip or not empty:
                continue
            numbers = self._number_blocks(connection, form, [serial], len(empty))
            for values in empty:
                _assign(values, [serial], local_now, numbers)
            numbers[key].give_back()

    def _number_blocks(
        self, connection: Connection, form: str, serials: list, first: int = 1
    ) -> dict[str, NumberBlocks]:
        """A :class:`~.numbering.NumberBlocks` for each of ``serials`` (first block:
        ``first`` numbers)."""
        repository = self.repository
        return {key: NumberBlocks(repository, connection, form, key, first) for key, *_ in serials}

    def _late_serials(self, form: str, values: dict[str, Any]) -> frozenset[str]:
        """The serial fields of a new record (empty in ``values``) whose numbers are
        taken after its checks, right before the record is written.

        A number is taken from its counter row, whose lock the transaction then
        holds until it commits: the creates of the form queue behind it (on
        PostgreSQL; SQLite's write lock queues them anyway). Taken late, the lock
        is not held while the values are checked and the database is asked about
        references and unique values. Users see no difference:

        - the field is not required until it is assigned, and its number is then
          checked by the same rules (:meth:`FormRules.check_assigned`);
        - a save refused by its checks never reaches the counter (it used to take
          a number and roll it back);
        - a number a stored record holds (typed in, imported) is refused by the
          unique index, with the message the checks give (:meth:`_guarded`);
        - numbers the form's formulas or visibility rules read are taken before
          the checks, as the rules must see them.
        """
        reads = self.rules(form).logic_reads
        return frozenset(
            key
            for key, _spec, _type in self._serial_fields(form)
            if values.get(key) is None and key not in reads
        )

    def _assign_late(
        self, connection: Connection, form: str, values: dict[str, Any], keys: frozenset[str]
    ) -> dict[str, Any]:
        """Assign the serial fields ``keys`` of a checked new record; checks what
        they got as :meth:`FormRules.checked` would have. Returns the values given."""
        if not keys:
            return {}
        serials = [serial for serial in self._serial_fields(form) if serial[0] in keys]
        numbers = self._number_blocks(connection, form, serials)
        _assign(values, serials, datetime.now(), numbers)
        for blocks in numbers.values():
            blocks.give_back()
        self.rules(form).check_assigned(values, keys)
        return {key: values[key] for key in keys if values.get(key) is not None}

    # -- writing --------------------------------------------------------------
    def _guarded(
        self, write: Callable[[], T], form: str = "", assigned: Mapping[str, Any] | None = None
    ) -> T:
        """Turn a unique-index race (two saves of one value at once) into a message.

        A value the engine ``assigned`` after the checks (a serial number a stored
        record already holds, typed in or imported) is named as the checks name
        a value in use."""
        try:
            with unique_guard():
                return write()
        except ValueInUse as refused:
            key = self.repository.unique_field(form, refused.index) if assigned else None
            if assigned and key is not None and key in assigned:
                spec = self.rules(form).fields[key]
                display = self.registry.of(spec).display(spec, assigned[key])
                raise ValidationFailed({key: value_taken(display)}) from None
            message = tr("a value that must be unique is already used by another record")
            raise ValidationFailed({"": message}) from None

    def _conflict(self, connection, policy: Policy, form, current: Record, mine) -> ConflictError:
        """Why a save of a stale version was refused: who saved, which fields differ
        (none hidden from the actor)."""
        if not policy.full_access:
            current.values = policy.redact(form, current.values)  # no hidden value shown
        fields = self.rules(form).fields

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

    def _user_name(self, connection, user_id: int | None) -> str:
        if user_id is None:
            return tr("the system")
        name = user_display_name(connection, user_id)
        if name is None:
            return tr("user #{id}").format(id=user_id)
        return name

    # -- audit ------------------------------------------------------------------
    def audit(
        self,
        connection: Connection,
        actor: Actor,
        action: str,
        form: str,
        record_id: int | None,
        details: dict[str, Any] | None,
        seals: Seals | Mapping[int, str | None] | None = None,
    ) -> None:
        """One audit row about ``form``; it holds the seal of the record it wrote
        (``record_id``), or the ``seals`` given (see runtime.store.audit_seals)."""
        if seals is None and record_id is not None:
            tables = self.repository.form_tables(form)
            seals = record_seals(connection, tables, [record_id])
        entry = AuditEntry(
            action, actor.user_id, actor.username, self.spec.id, form, record_id, details, seals
        )
        append(connection, entry)

    def _json(self, form: str, values: dict[str, Any]) -> dict[str, Any]:
        fields = self.rules(form).fields
        return {
            key: self.registry.of(fields[key]).to_json(fields[key], value)
            for key, value in values.items()
            if key in fields and value is not None
        }

    def _changes_json(self, form: str, old: dict[str, Any], new: dict[str, Any]) -> dict:
        fields = self.rules(form).fields
        return {
            key: [
                self.registry.of(fields[key]).to_json(fields[key], old.get(key)),
                self.registry.of(fields[key]).to_json(fields[key], value),
            ]
            for key, value in new.items()
        }


def _assign(
    values: dict[str, Any], serials, local_now: datetime, numbers: Mapping[str, NumberBlocks]
) -> None:
    """Give the empty ``serials`` of ``values`` their numbers from ``numbers``."""
    for key, spec, field_type in serials:
        if values.get(key) is None:
            assigned = field_type.assign_on_create(spec, local_now, numbers[key])
            if assigned is not None:
                values[key] = assigned


def _refuse_unwritable(policy, form, action, row, known, writable, number) -> None:
    """A bulk row may name only fields the actor may set (even empty: a refusal
    that depended on the value would tell whether a hidden value is empty)."""
    refused = [key for key in row if key in known and key not in writable]
    if refused:
        try:
            policy.check_writes(form, refused, action, writable=writable)
        except PermissionDenied as error:
            raise PermissionDenied(
                tr("row {row}: {problem}").format(row=number, problem=error.message)
            ) from None


def not_found(record_id: int, form: str) -> str:
    return tr("record {record} of '{form}' does not exist or was deleted").format(
        record=record_id, form=form
    )
