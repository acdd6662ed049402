"""Whether values fit a form: the checks behind single saves and bulk inserts.

The record service decides *when* to check (and under which permissions); this
module holds *what* is checked, with the messages users see:

- ``checked_values`` — the values of a single save (create or update): coerced,
  formulas computed, each required, within its type's limits, unique among the
  form's records, its references existing;
- ``CellCheck`` — one column of a bulk insert, coerced and validated cell by
  cell (the per-cell hot path of imports and seeding);
- ``BulkChecks`` — the checks of bulk rows that need the database (references
  exist, unique values are free), made per chunk of rows rather than per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from resources.messages import tr
from runtime.services.records.errors import ValidationFailed
from runtime.services.records.form_logic import FormLogic
from runtime.store.repository import RecordRepository
from runtime.store.schema import FormTables
from widgets.base import FieldSpecBase, FieldValueError

#: Rows that ``bulk_create`` checks together for references and unique values.
BULK_CHECK_ROWS = 1_000


# -- single saves ---------------------------------------------------------------
def checked_values(
    connection: Connection,
    repository: RecordRepository,
    registry,
    logic: FormLogic,
    form: str,
    values: dict[str, Any],
    record_id: int | None,
    stored: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Coerce, compute formulas, check required/limits/unique/references.

    Returns the values to save (every value field of ``form``); raises
    ValidationFailed mapping each bad field to its message. ``record_id`` is the
    record being updated (None on create): its own values are not "taken".

    On an update, ``stored`` holds the values as saved: a value the user did not
    change is kept as it is, even if the app's rules became stricter since (an
    option removed, a shorter limit) — editing another field never loses it.
    """
    tables = repository.form_tables(form)
    fields = value_fields(tables)
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
            clean[key] = registry.of(spec).coerce(spec, value)
        except FieldValueError as error:
            errors[key] = error.message
            clean[key] = None
    clean = logic.compute(clean)
    hidden = logic.hidden_fields(clean)
    for key, spec in fields.items():
        if key in errors:
            continue
        if key in stored and stored[key] == clean[key] and stored[key] is not None:
            continue  # unchanged and present: already accepted when it was saved
        # A hidden field is not required, but a value it holds must still fit.
        message = _value_problem(
            connection, repository, registry, form, spec, clean[key], record_id, key not in hidden
        )
        if message:
            errors[key] = message
    if errors:
        raise ValidationFailed(errors)
    return {key: clean[key] for key in fields if key in tables.columns or key in tables.children}


def value_fields(tables: FormTables) -> dict[str, FieldSpecBase]:
    """The fields of a form that hold values (columns and subtables), by key."""
    return {
        spec.key: spec
        for spec in tables.form.fields
        if spec.key in tables.columns or spec.key in tables.children
    }


def _value_problem(
    connection: Connection,
    repository: RecordRepository,
    registry,
    form: str,
    spec: FieldSpecBase,
    value: Any,
    record_id: int | None,
    required: bool,
) -> str | None:
    """What is wrong with one coerced value of a save, or None if it fits."""
    field_type = registry.of(spec)
    if field_type.is_empty(value):
        required = required and spec.required and not field_type.computed
        assigned = field_type.always_unique  # serials are filled in on create
        return tr("is required") if required and not assigned else None
    try:
        field_type.validate(spec, value)
    except FieldValueError as error:
        return error.message
    if (spec.unique or field_type.always_unique) and repository.value_taken(
        connection, form, spec.key, value, record_id
    ):
        return _taken(field_type.display(spec, value))
    return _reference_problem(connection, repository, field_type.reference_kind(spec), value)


def _reference_problem(connection, repository: RecordRepository, kind, value) -> str | None:
    """The first id of a reference value that does not exist, as a message."""
    if kind is None:
        return None
    idents = value if isinstance(value, list) else [value]
    existing = repository.existing_references(connection, kind, idents)
    return next((_missing(ident) for ident in idents if ident not in existing), None)


# -- bulk rows ------------------------------------------------------------------
class CellCheck:
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


class BulkChecks:
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
            raise ValidationFailed({row_key(number): problems[number]})

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


# -- messages -------------------------------------------------------------------
def row_key(number: int) -> str:
    """The key a bulk row's problem is reported under ("row 12")."""
    return tr("row {row}").format(row=number)


def _missing(ident: int) -> str:
    return tr("#{id} does not exist (it may have been deleted)").format(id=ident)


def _taken(display: str) -> str:
    return tr("'{value}' is already used by another record").format(value=display)


def _named(spec: FieldSpecBase, message: str) -> str:
    """A message about one field of a bulk row, naming the field."""
    return tr("{field}: {problem}").format(field=spec.label, problem=message)


def _ids(value: Any) -> list:
    """The ids a reference value holds (one, several, or none)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
