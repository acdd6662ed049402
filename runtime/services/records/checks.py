"""Whether values fit a form: the one set of rules behind every write.

The record writer decides *when* to check (and under which permissions); this
module holds *what* is checked, with the messages users see. Single saves, bulk
inserts and Excel imports all ask the same pieces, each in the shape its data
comes in:

- :func:`value_check` — one value against its field type (limits, patterns,
  options, ranges) and ``required``: an import checks its columns with it;
- :class:`RowRules` — the rules of a whole row once its formulas are computed:
  required unless hidden by visibility, each value within its type's limits;
- :class:`DatabaseChecks` — the rules that ask the database: unique values are
  free (in the database and earlier in the batch) and referenced records,
  users and departments exist, all asked in one statement per batch of rows;
- :class:`FormRules` — the three together for one form; :meth:`FormRules.checked`
  is a single save (create or update);
- :class:`CellCheck` and :class:`BulkChecks` — the same rules on a bulk insert's
  stream of canonical tuples (the per-cell hot path of seeding and benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, NamedTuple

from resources.messages import tr
from runtime.services.records.errors import ValidationFailed
from runtime.services.records.form_logic import FormLogic
from runtime.store.connection import Connection
from runtime.store.repository import RecordRepository
from runtime.store.schema import FormTables
from widgets.base import FieldSpecBase, FieldType, FieldValueError

#: Rows that ``bulk_create`` checks together for references and unique values.
BULK_CHECK_ROWS = 1_000
#: Distinct values remembered per field as known to pass (``validate`` is pure).
MEMO_SIZE = 4096
#: Value classes safe to remember (hashable and never changed in place).
IMMUTABLE_TYPES = frozenset({str, int, float, bool, Decimal, date, datetime, time})


# -- one value ------------------------------------------------------------------
def value_check(
    spec: FieldSpecBase, field_type: FieldType, required: bool
) -> Callable[[Any], str | None]:
    """``validate`` (and required) of one field's values, as a function → the
    problem's message or None. Made once per field: it runs for every cell of an
    import's column."""
    validate, is_empty = field_type.validate, field_type.is_empty
    missing = tr("is required")

    def check(value: Any) -> str | None:
        if value is None or is_empty(value):
            return missing if required else None
        try:
            validate(spec, value)
        except FieldValueError as error:
            return error.message
        return None

    return check


def needs_value(spec: FieldSpecBase, field_type: FieldType) -> bool:
    """Whether a field must hold a value when saved (computed values and the ones
    the engine assigns, serial numbers, are never asked of the user)."""
    return spec.required and not field_type.computed and not field_type.always_unique


# -- one row --------------------------------------------------------------------
class _Rule(NamedTuple):
    key: str
    required: bool
    #: The field's check without required (None: its values were checked already).
    check: Callable[[Any], str | None] | None
    is_empty: Callable[[Any], bool]
    #: Values known to pass (None: not remembered).
    passed: set | None


class RowRules:
    """Required and the type's limits for the fields of a row whose formulas are
    computed: a field hidden by visibility is not required, but a value it holds
    must still fit.

    ``fields``: (key, spec, type) of the fields to check; ``required``: the keys
    that need a value; ``checked``: keys whose values were validated already (an
    import's columns), only required is asked of them; ``remember``: keep up to
    :data:`MEMO_SIZE` distinct values per field known to pass (many rows).
    """

    def __init__(
        self,
        fields: Iterable[tuple[str, FieldSpecBase, FieldType]],
        required: Collection[str],
        checked: Collection[str] = (),
        remember: bool = False,
    ) -> None:
        self.rules = [
            _Rule(
                key,
                key in required,
                None if key in checked else value_check(spec, field_type, False),
                field_type.is_empty,
                set() if remember and key not in checked else None,
            )
            for key, spec, field_type in fields
        ]

    def __bool__(self) -> bool:
        return bool(self.rules)

    def problems(
        self, values: Mapping[str, Any], skip: Collection[str], hidden: Collection[str]
    ) -> dict[str, str]:
        """The problem of each field of ``values`` (none for the keys in ``skip``)."""
        problems: dict[str, str] = {}
        for key, required, check, is_empty, passed in self.rules:
            if key in skip:
                continue
            value = values[key]
            if value is None or is_empty(value):
                if required and key not in hidden:
                    problems[key] = tr("is required")
                continue
            if check is None:
                continue
            memo = passed if passed is not None and type(value) in IMMUTABLE_TYPES else None
            if memo is not None and value in memo:
                continue
            message = check(value)
            if message is not None:
                problems[key] = message
            elif memo is not None and len(memo) < MEMO_SIZE:
                memo.add(value)
        return problems


# -- the database ---------------------------------------------------------------
class Problem(NamedTuple):
    """A value of one row that the database checks refused."""

    number: int  # the row's number (as shown to the user)
    key: str
    message: str


#: A field's values in a batch: (row number, value, the record the row writes or None).
Present = list[tuple[int, Any, int | None]]


class DatabaseChecks:
    """Unique values and references: the rules that ask the database, all of a
    batch of rows in one statement (single saves are a batch of one).

    A value is taken when a live record other than the one its row writes holds
    it, or an earlier row of the same run (``seen``: value → the row number that
    first held it, kept by the caller across its batches). References must name
    an existing user, department or live record. False for a form with neither.
    """

    def __init__(
        self, repository: RecordRepository, registry, form: str, keys: Sequence[str] | None = None
    ) -> None:
        self.repository = repository
        self.form = form
        columns = repository.form_tables(form).columns
        typed = [(key, columns[key], registry.of(columns[key])) for key in keys or columns]
        #: (key, reference kind) of the reference fields.
        self.references = [
            (key, kind)
            for key, spec, field_type in typed
            if (kind := field_type.reference_kind(spec)) is not None
        ]
        #: (key, spec, type) of the unique fields (lists: their index alone decides).
        self.unique = [
            (key, spec, field_type)
            for key, spec, field_type in typed
            if (spec.unique or field_type.always_unique) and not repository.holds_lists(form, key)
        ]
        self.keys: list[str] = list(
            dict.fromkeys([key for key, _ in self.references] + [key for key, _, _ in self.unique])
        )

    def __bool__(self) -> bool:
        return bool(self.keys)

    def problems(
        self,
        connection: Connection,
        present: Mapping[str, Present],
        seen: dict[str, dict[Any, int]],
        seen_first: bool = False,
    ) -> list[Problem]:
        """The problems of a batch whose values (empty ones left out) are
        ``present`` by field key: the references' first, then the unique values'.

        ``seen_first``: rows of earlier batches are already stored (a bulk insert
        streams them), so a value an earlier row held is "also in row …" rather
        than taken by another record.
        """
        references = [
            (key, kind, present[key]) for key, kind in self.references if present.get(key)
        ]
        unique = [
            (key, spec, type_, present[key]) for key, spec, type_ in self.unique if present.get(key)
        ]
        if not (references or unique):
            return []
        # Every question of the batch in one statement (runtime.store.value_questions).
        existing, held = self.repository.references_and_values_in_use(
            connection,
            self.form,
            [(kind, sorted(_all_ids(values))) for _key, kind, values in references],
            [(key, [value for _n, value, _own in values]) for key, _s, _t, values in unique],
        )
        found: list[Problem] = []
        for (key, _kind, values), ids in zip(references, existing, strict=True):
            found.extend(_missing_references(key, values, ids))
        for (key, spec, field_type, values), holders in zip(unique, held, strict=True):
            seen_key = seen.setdefault(key, {})
            found.extend(
                _taken_values(key, spec, field_type, values, holders, seen_key, seen_first)
            )
        return found


def _missing_references(key: str, values: Present, existing: set[int]) -> Iterable[Problem]:
    """A problem for each row whose reference names an id not in ``existing``."""
    for number, value, _own in values:
        bad = next((ident for ident in _ids(value) if ident not in existing), None)
        if bad is not None:
            yield Problem(number, key, _missing(bad))


def _taken_values(
    key: str,
    spec: FieldSpecBase,
    field_type: FieldType,
    values: Present,
    held: Mapping[Any, int],
    seen: dict[Any, int],
    seen_first: bool,
) -> Iterable[Problem]:
    """A problem for each row whose unique value a live record (``held``: value ->
    record id) or an earlier row (``seen``: value -> row number) holds."""
    for number, value, own in values:  # no calls per row: this runs for every row
        taken = value in held and held[value] != own
        if value in seen and seen[value] != number and (seen_first or not taken):
            message = tr("'{value}' is also in row {row}").format(
                value=field_type.display(spec, value), row=seen[value]
            )
        elif taken:
            message = value_taken(field_type.display(spec, value))
        else:
            seen[value] = number
            continue
        yield Problem(number, key, message)


# -- one form -------------------------------------------------------------------
class FormRules:
    """Every rule of one form's values: its formulas and visibility
    (:class:`FormLogic`), each field's type and required, unique values and
    references. Built once per form by the record writer."""

    def __init__(self, repository: RecordRepository, registry, form: str) -> None:
        self.repository = repository
        self.registry = registry
        self.form = form
        self.tables: FormTables = repository.form_tables(form)
        self.logic = FormLogic.compile(self.tables.form, registry)
        #: The fields that hold values (columns and subtables), by key, in form order.
        self.fields = value_fields(self.tables)
        self.types = {key: registry.of(spec) for key, spec in self.fields.items()}
        self.required = {
            key for key, spec in self.fields.items() if needs_value(spec, self.types[key])
        }
        self.rows = RowRules(self.typed_fields(), self.required)
        #: The fields the form's formulas and visibility rules read.
        self.logic_reads = frozenset(self.logic.names_read())
        self.database = DatabaseChecks(repository, registry, form)

    def typed_fields(self) -> list[tuple[str, FieldSpecBase, FieldType]]:
        """(key, spec, type) of every value field, in form order."""
        return [(key, spec, self.types[key]) for key, spec in self.fields.items()]

    def checked(
        self,
        connection: Connection,
        values: dict[str, Any],
        record_id: int | None,
        stored: dict[str, Any] | None = None,
        assigned_later: Collection[str] = (),
    ) -> dict[str, Any]:
        """The values of a single save: coerced, formulas computed, each required,
        within its type's limits, unique among the form's records, its references
        existing. Raises ValidationFailed mapping each bad field to its message.

        ``record_id`` is the record being updated (None on create): its own values
        are not "taken". On an update, ``stored`` holds the values as saved: a value
        the user did not change is kept as it is, even if the app's rules became
        stricter since (an option removed, a shorter limit) — editing another field
        never loses it.

        ``assigned_later``: empty fields the engine fills in after these checks
        (serial numbers, see ``RecordWriter.create``): not asked for now; their
        values are checked by :meth:`check_assigned`.
        """
        fields, stored = self.fields, stored or {}
        errors = {
            key: tr("this form has no such field") for key in sorted(set(values) - set(fields))
        }
        clean: dict[str, Any] = {}
        for key, spec in fields.items():
            value = values.get(key)
            if key in stored and stored[key] == value:
                clean[key] = value
                continue
            try:
                clean[key] = self.types[key].coerce(spec, value)
            except FieldValueError as error:
                errors[key] = error.message
                clean[key] = None
        clean = self.logic.compute(clean)
        # Unchanged and present: already accepted when it was saved.
        kept = {key for key in fields if stored.get(key) is not None and stored[key] == clean[key]}
        skip = set(errors) | kept | set(assigned_later)
        problems = self.rows.problems(clean, skip, self.logic.hidden_fields(clean))
        skip |= set(problems)
        problems.update(self._database_problems(connection, clean, record_id, skip))
        errors.update((key, problems[key]) for key in fields if key in problems)
        if errors:
            raise ValidationFailed(errors)
        tables = self.tables
        return {
            key: clean[key] for key in fields if key in tables.columns or key in tables.children
        }

    def check_assigned(self, values: dict[str, Any], keys: Collection[str]) -> None:
        """ValidationFailed if the values the engine assigned to ``keys`` after
        :meth:`checked` break their field's rules (required, the type's limits).
        Their uniqueness is the unique index's to refuse."""
        empty = any(values.get(key) is None for key in keys)
        hidden = self.logic.hidden_fields(values) if empty else ()
        problems = self.rows.problems(values, self.fields.keys() - set(keys), hidden)
        if problems:
            raise ValidationFailed(problems)

    def _database_problems(self, connection, values, record_id, skip) -> dict[str, str]:
        present: dict[str, Present] = {
            key: [(1, values[key], record_id)]
            for key in self.database.keys
            if key not in skip and not self.types[key].is_empty(values[key])
        }
        if not present:
            return {}
        problems = self.database.problems(connection, present, {})
        return {problem.key: problem.message for problem in problems}


def value_fields(tables: FormTables) -> dict[str, FieldSpecBase]:
    """The fields of a form that hold values (columns and subtables), by key."""
    return {
        spec.key: spec
        for spec in tables.form.fields
        if spec.key in tables.columns or spec.key in tables.children
    }


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
    """:class:`DatabaseChecks` over a bulk insert's stream of tuples (fields in
    ``keys`` order), chunk by chunk. Empty (false) for a form with neither unique
    values nor references."""

    def __init__(self, repository: RecordRepository, registry, form: str, keys: list[str]):
        self.database = DatabaseChecks(repository, registry, form, keys)
        self.columns = [(key, keys.index(key)) for key in self.database.keys]
        self.specs = {key: repository.form_tables(form).columns[key] for key in self.database.keys}
        #: Unique values of the rows checked so far -> the row that held each first.
        self.seen: dict[str, dict[Any, int]] = {}

    def __bool__(self) -> bool:
        return bool(self.database)

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
        present: dict[str, Present] = {
            key: [
                (n, row[index], None)
                for n, row in enumerate(chunk, first)
                if row[index] is not None
            ]
            for key, index in self.columns
        }
        # Earlier chunks are in the table already: their values are "also in row …".
        problems = self.database.problems(connection, present, self.seen, seen_first=True)
        if problems:
            number = min(problem.number for problem in problems)
            problem = next(problem for problem in problems if problem.number == number)
            message = _named(self.specs[problem.key], problem.message)
            raise ValidationFailed({row_key(number): message})


# -- messages -------------------------------------------------------------------
def row_key(number: int) -> str:
    """The key a bulk row's problem is reported under ("row 12")."""
    return tr("row {row}").format(row=number)


def _missing(ident: int) -> str:
    return tr("#{id} does not exist (it may have been deleted)").format(id=ident)


def value_taken(display: str) -> str:
    """Why a unique value (as its type ``display``s it) is refused."""
    return tr("'{value}' is already used by another record").format(value=display)


def _named(spec: FieldSpecBase, message: str) -> str:
    """A message about one field of a bulk row, naming the field."""
    return tr("{field}: {problem}").format(field=spec.label, problem=message)


def _all_ids(values: Present) -> set[int]:
    """The ids the references of ``values`` hold."""
    return {ident for _n, value, _own in values for ident in _ids(value)}


def _ids(value: Any) -> list:
    """The ids a reference value holds (one, several, or none)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
