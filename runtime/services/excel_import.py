"""Import records from .xlsx or .csv: map, convert, validate everything, then write.

1. The file is checked (:mod:`excel_safety`) and read (:mod:`excel_read`).
2. Columns are mapped to fields by label or key (case- and whitespace-tolerant, a
   two-row or merged header is recognised); the caller may pass a mapping.
3. Every cell goes through its field type (``from_excel`` with an ExcelContext of
   reverse names) and every row is validated with the rules of a save
   (``RecordService`` semantics: formulas and visibility from ``FormLogic``,
   required, type limits, unique values — in the database and within the file —
   and existing references), checked in batches so 100,000 rows stay fast.
4. Nothing is written unless the whole file is valid (mode ``"all"``), or only the
   valid rows are written (mode ``"valid_only"``). ``upsert_by`` updates the record
   holding the same value of a unique field instead of creating one.
5. Rows are written in batches (``batch_size``), one transaction each, and the
   progress (``rows_done``) is stored in ``fw_imports`` in that same transaction:
   an import killed mid-way leaves whole batches and a ``running`` import; running
   the same file (same SHA-256) into the same form again resumes after
   ``rows_done`` — no row is written twice.

Audit: one ``import_batch`` row per batch listing the created and updated record
ids (instead of one ``create`` row per record, for bulk speed), and one ``import``
event when the import completes.

Subtables come from their own sheet (named by the subtable's label or key, with a
``Record ID`` column linking each row to the record's ``Record ID`` on the main
sheet) — the layout export writes.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple

from resources.messages import tr
from runtime.services.actor import Actor
from runtime.services.excel_common import (
    DEFAULT_FORMATS,
    RECORD_ID_LABEL,
    RECORD_ID_NAMES,
    ExcelError,
    Progress,
    Steps,
    column_letter,
    normalize_label,
    removing_on_failure,
    sibling_temp,
    subtable_children,
    value_fields,
)
from runtime.services.excel_names import NameResolver
from runtime.services.excel_read import SheetData, read_file
from runtime.services.excel_safety import DEFAULT_LIMITS, ImportLimits
from runtime.services.records import RecordService
from runtime.store.audit import AuditEntry, append, utc_now
from runtime.store.imports import finish_import, record_progress, running_import, start_import
from widgets.base import ExcelContext, FieldSpecBase, FieldType, FieldValueError
from widgets.types._shared import StringFieldType
from widgets.types.date import TemporalFieldType, is_number

ImportMode = Literal["all", "valid_only"]
RECORD_ID = "id"  # mapping target of the record-id column


@dataclass(frozen=True)
class CellError:
    """A problem in one cell (``column`` a letter) or one row (``column`` empty)."""

    sheet: str
    row: int
    column: str
    label: str
    message: str

    def __str__(self) -> str:
        if self.row and self.column:
            text = tr("{sheet}: row {row}, column {column} ({label}): {message}")
        elif self.row and self.label:
            text = tr("{sheet}: row {row} ({label}): {message}")
        elif self.row:
            text = tr("{sheet}: row {row}: {message}")
        elif self.column:
            text = tr("{sheet}: file, column {column} ({label}): {message}")
        elif self.label:
            text = tr("{sheet}: file ({label}): {message}")
        else:
            text = tr("{sheet}: file: {message}")
        return text.format(
            sheet=self.sheet,
            row=self.row,
            column=self.column,
            label=self.label,
            message=self.message,
        )


@dataclass
class ImportResult:
    file: Path
    form: str
    import_id: str | None
    rows_total: int
    rows_valid: int
    created: int = 0
    updated: int = 0
    #: Invalid rows left out (mode "valid_only").
    skipped: int = 0
    resumed_from: int = 0
    dry_run: bool = False
    errors: list[CellError] = field(default_factory=list)
    #: Header text -> field key, for the columns used.
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    error_workbook: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Column:
    index: int
    header: str
    key: str  # field key or RECORD_ID
    spec: FieldSpecBase | None = None
    field_type: FieldType | None = None
    kind: Any = None  # reference kind


class _Row(NamedTuple):
    """A validated row waiting to be written (a tuple: 100,000s of them are made)."""

    source: int  # index among data rows (0-based), for rows_done
    values: dict[str, Any]
    target: tuple[int, int] | None = None  # (record id, version) when upserting


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during one step (never across a yield).

    A step makes 100,000s of short-lived tuples, dicts and values — freed by
    reference counting — while the sheet's cells are alive, so the collector would
    walk those cells again and again (a fifth of the import's time) to find nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_records(
    service: RecordService,
    form: str,
    source: str | Path,
    *,
    actor: Actor,
    visible_fields: Sequence[str],
    mapping: Mapping[str, str | None] | None = None,
    mode: ImportMode = "all",
    upsert_by: str | None = None,
    dry_run: bool = False,
    limits: ImportLimits = DEFAULT_LIMITS,
    batch_size: int = 1000,
    error_workbook: bool | str | Path = False,
) -> Steps[ImportResult]:
    """Import ``source`` into ``form`` as ``actor``; a generator of Progress → result.

    ``visible_fields`` are the keys ``actor`` may write (from the permission
    policy); columns of other fields are ignored. ``mapping`` maps a header text or
    column letter to a field key (``"id"``: the record-id column; ``None``: ignore).
    ``error_workbook``: True writes ``<name>.errors.xlsx`` beside the source when
    there are errors (or give a path).
    """
    source = Path(source)
    job = _Import(service, form, source, actor, visible_fields, mode, upsert_by, limits)
    yield Progress(0, None, "reading the file")
    with _collector_paused():
        sheets = read_file(source, limits)
        job.prepare(sheets, mapping or {})
    sha = file_sha256(source)
    resume_id, rows_done = (None, 0) if dry_run else job.running_import(sha)
    total = len(job.data)
    result = ImportResult(
        source, form, resume_id, total, 0, resumed_from=rows_done, dry_run=dry_run
    )
    result.columns = {c.header: c.key for c in job.columns}
    result.ignored_columns = job.ignored
    result.errors.extend(job.file_errors)
    result.errors.extend(job.sub_errors)

    valid: list[_Row] = []
    checked = 0
    for start in range(rows_done, total, batch_size):
        with _collector_paused():
            chunk_rows, chunk_errors = job.validate(range(start, min(start + batch_size, total)))
        valid.extend(chunk_rows)
        result.errors.extend(chunk_errors)
        checked += job.checked
        yield Progress(min(start + batch_size, total) - rows_done, total - rows_done, "checking")
    result.rows_valid = len(valid)
    result.skipped = checked - len(valid)
    if result.errors and error_workbook:
        target = (
            source.with_name(f"{source.stem}.errors.xlsx")
            if error_workbook is True
            else Path(error_workbook)
        )
        result.error_workbook = write_error_workbook(
            job.main,
            job.header_rows,
            job.data_start,
            result.errors,
            target,
            only_invalid=mode == "valid_only",
        )
    blocked = bool(job.file_errors) or (mode == "all" and bool(result.errors))
    if dry_run or blocked:
        return result

    import_id = resume_id or job.start_import(sha, total)
    result.import_id = import_id
    position = 0
    for start in range(rows_done, total, batch_size):
        end = min(start + batch_size, total)
        batch = []
        while position < len(valid) and valid[position].source < end:
            batch.append(valid[position])
            position += 1
        with _collector_paused():
            created, updated = job.write_batch(import_id, batch, start, end)
        result.created += created
        result.updated += updated
        yield Progress(end - rows_done, total - rows_done, "importing")
    job.finish(import_id, sha, result)
    return result


class _Import:
    """The state of one import: fields, columns, converted subtable rows."""

    def __init__(self, service, form, source, actor, visible_fields, mode, upsert_by, limits):
        self.service = service
        self.registry = service.registry
        self.form = form
        self.source = source
        self.actor = actor
        self.mode = mode
        self.limits = limits
        self.tables = service.repository.form_tables(form)
        self.logic = service.logic(form)
        self.resolver = NameResolver(service)
        self.policy = service.policy(actor, form)
        self.policy.require(form, "import")
        # The caller's list can only narrow what the policy lets the actor import.
        allowed = set(visible_fields) & set(self.policy.writable_fields(form, "import"))
        #: Every value field of the form (key -> spec, type), in form order.
        self.fields: dict[str, tuple[FieldSpecBase, FieldType]] = {
            spec.key: (spec, ft)
            for spec, ft in value_fields(self.tables.form.fields, self.registry)
        }
        self.importable = {
            key: pair
            for key, pair in self.fields.items()
            if key in allowed
            and not pair[1].computed
            and (pair[1].excel_roundtrip or subtable_children(pair[1], pair[0], self.registry))
        }
        self.upsert_by = upsert_by
        if upsert_by is not None and not self.policy.allowed(form, "update"):
            raise ExcelError(tr("you may not change existing records of this form, so no upsert"))
        if upsert_by is not None:
            pair = self.importable.get(upsert_by)
            if pair is None or not (pair[0].unique or pair[1].always_unique):
                text = tr("'{field}' is not a unique field you may import into")
                raise ExcelError(text.format(field=upsert_by))
        self.file_errors: list[CellError] = []
        self.ignored: list[str] = []
        self.children: dict[str, dict[int, list[dict]]] = {}
        #: Errors on subtable sheets, and the record ids whose subtable rows are bad.
        self.sub_errors: list[CellError] = []
        self.bad_parents: set[int] = set()
        self._pending: list[CellError] = []
        self.text_only = False
        self._memo: dict[str, dict | None] = {}
        self._rules: list | None = None
        self._checks: dict[str, Callable[[Any], str | None]] = {}
        self._fast: dict[str, Callable[[Any], Any] | None] = {}
        self.seen_unique: dict[str, dict[Any, int]] = {}

    # -- columns ------------------------------------------------------------
    def prepare(self, sheets: list[SheetData], mapping: Mapping[str, str | None]) -> None:
        subtables = {
            key: pair
            for key, pair in self.importable.items()
            if subtable_children(pair[1], pair[0], self.registry)
        }
        sub_sheets: dict[str, SheetData] = {}
        for sheet in sheets:
            name = normalize_label(sheet.name)
            for key, (spec, _ft) in subtables.items():
                if name in (normalize_label(spec.label[:31]), normalize_label(key)):
                    sub_sheets[key] = sheet
        rest = [s for s in sheets if all(s is not t for t in sub_sheets.values())]
        candidates = [s for s in rest if s.rows] or rest or sheets
        self.main = candidates[0]
        if not self.main.rows:
            raise ExcelError(tr("'{name}' has no rows to import").format(name=self.source.name))
        targets = {key: pair for key, pair in self.importable.items() if key not in subtables}
        self.text_only = self.main.text_only
        self.columns, self.header_rows, self.data_start = self._map(
            self.main, targets, mapping, self.fields
        )
        self.data = self.main.rows[self.data_start :]
        mapped = {c.key for c in self.columns}
        for key, (spec, field_type) in self.fields.items():
            if key in subtables and key in sub_sheets:
                continue
            required = spec.required and not field_type.computed and not field_type.always_unique
            if required and key not in mapped and key not in self.logic.visibility:
                message = tr("no column for this required field")
                self.file_errors.append(CellError(self.main.name, 0, "", spec.label, message))
        for key, sheet in sub_sheets.items():
            if RECORD_ID not in mapped:
                label = tr(RECORD_ID_LABEL)
                message = tr("a '{column}' column is needed to link sheet '{sheet}'").format(
                    column=label, sheet=sheet.name
                )
                self.file_errors.append(CellError(self.main.name, 0, "", label, message))
                continue
            self._read_subtable(key, sheet)

    def _map(self, sheet: SheetData, targets, mapping, fields):
        """Columns of a sheet → fields; returns (columns, header row indexes, data start)."""
        start = next(i for i, row in enumerate(sheet.rows) if row)
        names = {}
        for key in fields:
            names.setdefault(normalize_label(key), key)
        for key, (spec, _ft) in fields.items():
            names[normalize_label(spec.label)] = key
        for name in RECORD_ID_NAMES:
            names.setdefault(name, RECORD_ID)
        grid = _filled_header(sheet, start)
        one = grid[0]
        score_one = sum(normalize_label(h) in names for h in one)
        header_rows, labels = [start], one
        if len(grid) > 1:
            two = [b if b is not None else a for a, b in zip(grid[0], grid[1], strict=True)]
            if sum(normalize_label(h) in names for h in two) > score_one:
                header_rows, labels = [start, start + 1], two
        explicit = {normalize_label(k): v for k, v in mapping.items()}
        columns: list[_Column] = []
        used: dict[str, str] = {}
        width = max(len(labels), max((len(r) for r in sheet.rows), default=0))
        labels = labels + [None] * (width - len(labels))
        for index, header in enumerate(labels):
            text = "" if header is None else str(header).strip()
            letter = column_letter(index)
            if text and normalize_label(text) in explicit:
                key = explicit[normalize_label(text)]
            elif normalize_label(letter) in explicit:
                key = explicit[normalize_label(letter)]
            else:
                key = names.get(normalize_label(text)) if text else None
            if key is None:
                if text:
                    self.ignored.append(text)
                continue
            shown = text or letter
            if key != RECORD_ID and key not in targets:
                reason = "not importable" if key in fields else "unknown field"
                self.ignored.append(f"{shown} ({reason})")
                continue
            if key in used:
                text = tr(
                    "columns {first} and {second} of sheet '{sheet}' both fill "
                    "'{field}'; keep one of them"
                )
                raise ExcelError(
                    text.format(
                        first=used[key],
                        second=letter,
                        sheet=sheet.name,
                        field=fields[key][0].label if key in fields else key,
                    )
                )
            used[key] = letter
            spec, field_type = targets[key] if key != RECORD_ID else (None, None)
            kind = field_type.reference_kind(spec) if field_type else None
            columns.append(_Column(index, shown, key, spec, field_type, kind))
        return columns, header_rows, header_rows[-1] + 1

    def _read_subtable(self, key: str, sheet: SheetData) -> None:
        spec, field_type = self.importable[key]
        children = {c.key: (c, t) for c, t in subtable_children(field_type, spec, self.registry)}
        targets = {k: pair for k, pair in children.items() if not pair[1].computed}
        columns, _rows, data_start = self._map(sheet, targets, {}, children)
        if not any(c.key == RECORD_ID for c in columns):
            message = tr("this sheet needs a Record ID column")
            self.file_errors.append(CellError(sheet.name, 0, "", tr(RECORD_ID_LABEL), message))
            return
        rows = sheet.rows[data_start:]
        context = self._reverse_context(columns, rows)
        grouped: dict[int, list[dict]] = {}
        self._pending = []
        for offset, row in enumerate(rows):
            if not row:
                continue
            number = data_start + offset + 1
            values: dict[str, Any] = {}
            parent = None
            for column in columns:
                cell = row[column.index] if column.index < len(row) else None
                if column.key == RECORD_ID:
                    parent = _record_id(cell)
                    if parent is None:
                        self.file_errors.append(
                            CellError(
                                sheet.name,
                                number,
                                column_letter(column.index),
                                column.header,
                                tr("needs the Record ID of a row on the main sheet"),
                            )
                        )
                    continue
                try:
                    values[column.key] = self._convert(column, cell, context, sheet.name, number)
                except _BadCell:
                    if parent is not None:
                        self.bad_parents.add(parent)
            if parent is not None:
                grouped.setdefault(parent, []).append(values)
        self.sub_errors.extend(self._pending)
        self._pending = []
        self.children[key] = grouped

    # -- conversion ---------------------------------------------------------
    def _reverse_context(self, columns: list[_Column], rows) -> ExcelContext:
        wanted: dict[Any, set[str]] = {}
        for column in columns:
            if column.kind is None:
                continue
            bucket = wanted.setdefault(column.kind, set())
            for row in rows:
                cell = row[column.index] if column.index < len(row) else None
                if type(cell) is str:
                    bucket.update(part.strip() for part in _split_names(cell))
        return self.resolver.reverse_context(wanted) if wanted else ExcelContext()

    def _convert(self, column: _Column, cell: Any, context, sheet: str, number: int) -> Any:
        """One cell's value through its field type; a bad cell is reported, then _BadCell."""
        if cell is None:
            return None
        try:
            return self._converter(column, context)(cell)
        except FieldValueError as error:
            message = self._cell_message(column, cell, error)
            self._pending.append(
                CellError(sheet, number, column_letter(column.index), column.header, message)
            )
            raise _BadCell from None

    def _converter(self, column: _Column, context: ExcelContext) -> Callable[[Any], Any]:
        """``from_excel`` of one column bound to its spec and the batch's names."""
        from_excel, spec = column.field_type.from_excel, column.spec
        if not self.text_only:
            return lambda cell: from_excel(spec, cell, context)

        def convert(cell: Any) -> Any:
            if type(cell) is str and cell.startswith("'"):
                cell = cell[1:]  # the CSV text marker written by export (see excel_export)
            return from_excel(spec, cell, context)

        return convert

    def _cell_message(self, column: _Column, cell: Any, error: FieldValueError) -> str:
        if column.kind is not None and type(cell) is str:
            names = [n.strip() for n in _split_names(cell)]
            if any((column.kind, n) in self.resolver.ambiguous for n in names):
                return tr("'{cell}' names more than one; write #id instead").format(cell=cell)
        return error.message

    # -- validation ---------------------------------------------------------
    def validate(self, indexes: range) -> tuple[list[_Row], list[CellError]]:
        """Convert and check data rows ``indexes``; valid rows and every error.

        Cells are converted and validated column by column (one bound function per
        column, no per-cell dispatch); the rules that need the whole row — formulas,
        visibility, subtables, upserts, unique values and references — run per row
        or per batch afterwards.
        """
        self._pending = []
        kept = [(i, row) for i in indexes if (row := self.data[i])]  # empty rows are skipped
        rows = [row for _i, row in kept]
        numbers = [self.data_start + i + 1 for i, _row in kept]
        context = self._reverse_context(self.columns, rows)
        found = _Found()
        field_columns = [c for c in self.columns if c.key != RECORD_ID]
        grid = _transpose(rows, 1 + max((c.index for c in self.columns), default=-1))
        converted = {
            c.key: self._convert_column(c, grid[c.index], numbers, context, found)
            for c in field_columns
        }
        # Each row's values: every field in form order, None where no column fills it.
        keys, blank = list(self.fields), [None] * len(kept)
        by_row = (
            zip(*[converted.get(key, blank) for key in keys], strict=True)
            if keys
            else [()] * len(kept)
        )
        bad_of, checks = found.bad, []
        if self.children:
            for position, cells in enumerate(by_row):
                values = dict(zip(keys, cells, strict=True))
                bad = bad_of.get(position) or set()
                self._add_children(kept[position][1], numbers[position], values, bad)
                checks.append((kept[position][0], numbers[position], values, bad, position))
        else:
            checks = [
                (
                    index,
                    number,
                    dict(zip(keys, cells, strict=True)),
                    bad_of.get(position) or _NO_KEYS,
                    position,
                )
                for position, ((index, _row), number, cells) in enumerate(
                    zip(kept, numbers, by_row, strict=True)
                )
            ]
        valid = self._check_rows(checks, found)
        errors = sorted(self._pending, key=lambda e: (e.row, e.column))
        self._pending = []
        self.checked = len(kept)
        return valid, errors

    def _convert_column(self, column, cells, numbers, context, found: _Found) -> list:
        """A batch's cells of one column → values (``None`` for a bad cell).

        Conversion errors are reported at once; validation problems wait in
        ``found`` for the row checks. Conversions and ``validate`` are pure, so a
        repeated cell (options, dates, small numbers) is done once per column
        (:meth:`_remembered`); the rest go through the field type one by one.
        """
        key, convert = column.key, self._converter(column, context)
        check = self._value_check(key)
        memo = self._column_memo(column)
        fast = self._fast_converter(column)
        if memo is None and fast is not None:  # distinct values: the shortcut at once
            values = [None if cell is None else fast(cell) for cell in cells]
            fast = None  # the misses left need the general path
        else:
            values = self._remembered(memo, cells)
        if None in cells and (required := check(None)) is not None:  # blank cells
            for position, cell in enumerate(cells):
                if cell is None:
                    found.problem(position, key, required)
        misses = [p for p, v in enumerate(values) if v is _MISS] if _MISS in values else ()
        for position in misses:
            cell = cells[position]
            if fast is not None and (value := fast(cell)) is not _MISS:
                values[position] = value
                if memo is not None and value.__class__ in _IMMUTABLE and len(memo) < _MEMO_SIZE:
                    memo[(cell.__class__, cell)] = value
                continue
            try:
                value = convert(cell)
            except FieldValueError as error:
                message = self._cell_message(column, cell, error)
                letter = column_letter(column.index)
                self._pending.append(
                    CellError(self.main.name, numbers[position], letter, column.header, message)
                )
                found.bad.setdefault(position, set()).add(key)
                values[position] = None
                continue
            values[position] = value
            if (message := check(value)) is not None:
                found.problem(position, key, message)
            elif memo is not None and value.__class__ in _IMMUTABLE and len(memo) < _MEMO_SIZE:
                memo[(cell.__class__, cell)] = value
        if memo is not None and len(memo) >= _MEMO_SIZE and len(misses) > len(cells) // 2:
            self._memo[key] = None  # mostly distinct values: stop looking them up
        return values

    def _fast_converter(self, column: _Column) -> Callable[[Any], Any] | None:
        """A column's shortcut for cells that convert to a valid, non-empty value, or
        None: ``from_excel`` then ``validate`` in one call of the type's own
        :meth:`~widgets.base.FieldType.cell_checker` (coerce, then validate).

        It returns ``_MISS`` for anything else — blank results, values the checker
        refuses, cells the type reads its own way — and those take the general path,
        which reports the very same messages. Only for types whose ``from_excel`` is
        ``parse`` of the trimmed text for a text cell and ``coerce`` for any other
        (temporal types: except numbers, which are Excel serials), and never for
        references (their names depend on the batch).
        """
        if column.key in self._fast:
            return self._fast[column.key]
        fast = None
        field_type, spec = column.field_type, column.spec
        kind = type(field_type)
        from_excel = kind.from_excel
        temporal = from_excel is TemporalFieldType.from_excel
        if column.kind is None and (from_excel is FieldType.from_excel or temporal):
            checker, is_empty = field_type.cell_checker(spec), field_type.is_empty
            text = kind.parse in (FieldType.parse, StringFieldType.parse)
            marked = self.text_only  # the CSV text marker: the general path removes it

            def fast(cell: Any) -> Any:
                cls = cell.__class__
                if cls is str:
                    if not text or (marked and cell.startswith("'")):
                        return _MISS
                    cell = cell.strip()
                    if not cell:
                        return _MISS
                elif isinstance(cell, str) or (temporal and is_number(cell)):
                    return _MISS  # a str subclass; an Excel serial
                try:
                    value = checker(cell)
                except FieldValueError:
                    return _MISS
                return _MISS if value is None or is_empty(value) else value

        self._fast[column.key] = fast
        return fast

    def _column_memo(self, column: _Column) -> dict | None:
        """Converted and validated values by (class, cell), or None: not for reference
        columns (their names depend on the batch) nor once a column proves distinct."""
        if column.kind is not None:
            return None
        if column.key not in self._memo:
            self._memo[column.key] = {}
        return self._memo[column.key]

    @staticmethod
    def _remembered(memo: dict | None, cells) -> list:
        """Remembered values of ``cells``; ``None`` for blank cells, ``_MISS`` for others."""
        if memo is None:
            return [None if cell is None else _MISS for cell in cells]
        get = memo.get
        return [None if cell is None else get((cell.__class__, cell), _MISS) for cell in cells]

    def _value_check(self, key: str) -> Callable[[Any], str | None]:
        """``validate`` (and required, unless visibility rules decide it) of one
        column's values, as a function → the problem's message or None."""
        check = self._checks.get(key)
        if check is not None:
            return check
        spec, field_type = self.fields[key]
        validate, is_empty = field_type.validate, field_type.is_empty
        required = self._required(key) and not self.logic.visibility
        missing = tr("is required")  # once per column: this runs for every cell

        def check(value: Any) -> str | None:
            if value is None or is_empty(value):
                return missing if required else None
            try:
                validate(spec, value)
            except FieldValueError as error:
                return error.message
            return None

        self._checks[key] = check
        return check

    def _required(self, key: str) -> bool:
        """Whether a field needs a value (a missing required column is a file error
        already, so its cells are not reported again)."""
        spec, field_type = self.fields[key]
        return (
            spec.required
            and not field_type.computed
            and not field_type.always_unique
            and spec.label not in {e.label for e in self.file_errors}
        )

    def _add_children(self, row: list, number: int, values: dict, bad: set[str]) -> None:
        """The subtable rows (from their own sheets) of one main-sheet row."""
        id_column = next((c for c in self.columns if c.key == RECORD_ID), None)
        if id_column is None:
            return
        ident = _record_id(row[id_column.index] if id_column.index < len(row) else None)
        if ident in self.bad_parents:
            bad.add(next(iter(self.children)))
        for key, grouped in self.children.items():
            sub_spec, sub_type = self.fields[key]
            try:
                values[key] = sub_type.coerce(sub_spec, grouped.get(ident)) if ident else None
            except FieldValueError as error:
                self._pending.append(
                    CellError(self.main.name, number, "", sub_spec.label, error.message)
                )
                bad.add(key)

    def _check_rows(self, checks, found: _Found) -> list[_Row]:
        """Upsert targets, row rules, then the batch's unique and reference checks."""
        sheet = self.main.name
        letters = {c.key: (column_letter(c.index), c.header) for c in self.columns}
        targets = self._upsert_targets(checks)
        batch: list[tuple[int, dict[str, Any], set[str], tuple | None]] = []
        if not (
            self.upsert_by or self.logic.formulas or self.logic.visibility or self._row_rules()
        ):
            # Nothing to merge, compute or check per row: only the columns' problems.
            problems_of = found.problems
            for index, number, values, bad, position in checks:
                problems = problems_of.get(position)
                if problems:
                    for key, message in problems.items():
                        letter, header = letters.get(key, ("", self.fields[key][0].label))
                        self._pending.append(CellError(sheet, number, letter, header, message))
                    batch.append((index, values, set(problems) | bad, None))
                else:
                    batch.append((index, values, bad, None))
            failed = self._batch_checks(batch, letters, sheet)
            return [
                _Row(index, values, None)
                for index, values, skip, _target in batch
                if not skip and index not in failed
            ]
        for index, number, values, bad, position in checks:
            target = targets.get(values.get(self.upsert_by)) if self.upsert_by else None
            if target is not None and not target[3]:
                letter, header = letters.get(self.upsert_by, ("", self.upsert_by))
                message = tr(
                    "this record belongs to another department or user; you may not change it"
                )
                self._pending.append(CellError(sheet, number, letter, header, message))
                continue
            if target is not None:
                merged = {**target[2], **{k: v for k, v in values.items() if k in self._mapped()}}
                values = merged
            values, problems = self._check_row(values, bad)
            problems.update(found.problems.get(position, ()))
            for key, message in problems.items():
                letter, header = letters.get(key, ("", self.fields[key][0].label))
                self._pending.append(CellError(sheet, number, letter, header, message))
            # Rows with problems are checked too, so every problem of a row is reported.
            skip = set(problems) | bad
            batch.append((index, values, skip, target[:2] if target else None))
        failed = self._batch_checks(batch, letters, sheet)
        return [
            _Row(index, values, target)
            for index, values, skip, target in batch
            if not skip and index not in failed
        ]

    def _mapped(self) -> set[str]:
        keys = {c.key for c in self.columns}
        return keys | set(self.children)

    def _check_row(self, values: dict[str, Any], bad: set[str]):
        """The checks of RecordService._prepare that need no database and were not
        done with the columns: (values with formulas computed, problems by key)."""
        rules = self._row_rules()
        if self.logic.formulas or self.logic.visibility:
            values = self.logic.compute(values)
            hidden = self.logic.hidden_fields(values)
        elif not rules:
            return values, {}
        else:
            hidden = set()
        problems: dict[str, str] = {}
        for key, spec, field_type, required, passed in rules:
            if key in bad:
                continue
            value = values[key]
            if value is None or field_type.is_empty(value):
                # a hidden field is not required (a value it holds must still fit)
                if required and key not in hidden:
                    problems[key] = tr("is required")
                continue
            if passed is None:  # validated with its column
                continue
            memo = type(value) in _IMMUTABLE
            if memo and value in passed:
                continue
            try:
                field_type.validate(spec, value)
            except FieldValueError as error:
                problems[key] = error.message
                continue
            if memo and len(passed) < _MEMO_SIZE:
                passed.add(value)
        return values, problems

    def _row_rules(self) -> list:
        """(key, spec, type, required, values known to pass) for the per-row checks.

        Columns are validated as they are converted, so here they need only the
        required check that visibility decides (``passed`` None); every other field
        (subtables, formulas, values kept by an upsert) is validated here, each
        distinct value once (``validate`` is pure).
        """
        if self._rules is None:
            columns = {c.key for c in self.columns}
            self._rules = [
                (key, spec, field_type, self._required(key), None if key in columns else set())
                for key, (spec, field_type) in self.fields.items()
                if key not in columns or (self.logic.visibility and self._required(key))
            ]
        return self._rules

    def _upsert_targets(self, converted) -> dict[Any, tuple[int, int, dict, bool]]:
        """Existing records (id, version, values, in update scope) by the upsert key's value."""
        if self.upsert_by is None:
            return {}
        wanted = [
            v[self.upsert_by]
            for _i, _n, v, _b, _p in converted
            if v.get(self.upsert_by) is not None
        ]
        found: dict[Any, tuple[int, int, dict, bool]] = {}
        if not wanted:
            return found
        repository = self.service.repository
        with self.service.workspace.reader() as connection:
            holders = repository.values_in_use(
                connection, self.form, self.upsert_by, sorted(set(wanted), key=str)
            )
            for value, ident in holders.items():
                record = repository.fetch(connection, self.form, ident)
                if record is not None:
                    in_scope = self.policy.row_allowed(
                        self.form, "update", record.created_by, record.owner_department
                    )
                    found[value] = (record.id, record.version, record.values, in_scope)
        return found

    def _batch_checks(self, checks, letters, sheet) -> set[int]:
        """Unique values (database and file) and references, per batch; failed indexes."""
        failed: set[int] = set()
        repository = self.service.repository
        number_of = {index: self.data_start + index + 1 for index, *_ in checks}
        with self.service.workspace.reader() as connection:
            for key, (spec, field_type) in self.fields.items():
                if key not in self.tables.columns:
                    continue
                unique = spec.unique or field_type.always_unique
                kind = field_type.reference_kind(spec)
                if not unique and kind is None:
                    continue
                present = [
                    (i, v[key], t)
                    for i, v, skip, t in checks
                    if v.get(key) is not None and key not in skip
                ]
                if not present:
                    continue
                letter, header = letters.get(key, ("", spec.label))
                if unique:
                    taken = repository.values_in_use(
                        connection, self.form, key, [p[1] for p in present]
                    )
                    seen = self.seen_unique.setdefault(key, {})
                    for index, value, target in present:
                        owner = taken.get(value)
                        if owner is not None and (target is None or owner != target[0]):
                            message = tr("'{value}' is already used by another record").format(
                                value=field_type.display(spec, value)
                            )
                        elif value in seen and seen[value] != index:
                            first = seen[value]
                            message = tr("'{value}' is also in row {row}").format(
                                value=field_type.display(spec, value),
                                row=number_of.get(first, first + self.data_start + 1),
                            )
                        else:
                            seen[value] = index
                            continue
                        self._pending.append(
                            CellError(sheet, number_of[index], letter, header, message)
                        )
                        failed.add(index)
                if kind is not None:
                    ids = {i for _x, v, _t in present for i in (v if isinstance(v, list) else [v])}
                    existing = repository.existing_references(connection, kind, sorted(ids))
                    for index, value, _target in present:
                        for ident in value if isinstance(value, list) else [value]:
                            if ident not in existing:
                                self._pending.append(
                                    CellError(
                                        sheet,
                                        number_of[index],
                                        letter,
                                        header,
                                        tr(
                                            "#{id} does not exist (it may have been deleted)"
                                        ).format(id=ident),
                                    )
                                )
                                failed.add(index)
                                break
        return failed

    # -- writing ------------------------------------------------------------
    def running_import(self, sha: str) -> tuple[str | None, int]:
        """An unfinished import of this very file into this form, to resume."""
        with self.service.workspace.reader() as connection:
            return running_import(connection, self.service.spec.id, self.form, sha)

    def start_import(self, sha: str, total: int) -> str:
        with self.service.workspace.engine.begin() as connection:
            return start_import(connection, self.service.spec.id, self.form, sha, total, utc_now())

    def write_batch(
        self, import_id: str, batch: list[_Row], start: int, end: int
    ) -> tuple[int, int]:
        """Write one batch and advance ``rows_done`` in the same transaction."""

        def work(connection) -> tuple[int, int]:
            now = utc_now()
            system = {
                "created_at": now,
                "created_by": self.actor.user_id,
                "updated_at": now,
                "updated_by": self.actor.user_id,
                "version": 1,
                "owner_department": self.actor.primary_department,
            }
            creates = [row.values for row in batch if row.target is None]
            created_ids = self._insert(connection, creates, system) if creates else []
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
                append(
                    connection,
                    AuditEntry(
                        "import_batch",
                        self.actor.user_id,
                        self.actor.username,
                        self.service.spec.id,
                        self.form,
                        None,
                        {
                            "import_id": import_id,
                            "rows": [self.data_start + start + 1, self.data_start + end],
                            "created": created_ids,
                            "updated": updated_ids,
                        },
                    ),
                )
            record_progress(connection, import_id, end)
            return len(created_ids), len(updated_ids)

        return self.service.transaction(work)

    def _insert(self, connection, rows: list[dict[str, Any]], system: dict) -> list[int]:
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
        return self.service.repository.insert_many(connection, self.form, rows, system)

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
        def work(connection) -> None:
            finish_import(connection, import_id, result.rows_total)
            append(
                connection,
                AuditEntry(
                    "import",
                    self.actor.user_id,
                    self.actor.username,
                    self.service.spec.id,
                    self.form,
                    None,
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
                ),
            )

        self.service.transaction(work)


class _BadCell(Exception):
    pass


class _Found:
    """Per batch: cells that could not be converted, and values that fail their
    field's rules, by row position in the batch."""

    def __init__(self) -> None:
        self.bad: dict[int, set[str]] = {}
        self.problems: dict[int, dict[str, str]] = {}

    def problem(self, position: int, key: str, message: str) -> None:
        self.problems.setdefault(position, {})[key] = message


def _transpose(rows: list[list[Any]], width: int) -> list[tuple]:
    """Rows → columns (``width`` of them at least; short rows padded with None)."""
    padded = [row if len(row) >= width else row + [None] * (width - len(row)) for row in rows]
    columns = list(zip(*padded, strict=False)) if padded else []
    return columns if columns else [()] * width


_MISS = object()
_NO_KEYS: frozenset[str] = frozenset()  # no bad cells in a row
_MEMO_SIZE = 4096  # distinct cells remembered per column
_IMMUTABLE = frozenset({str, int, float, bool, Decimal, date, datetime, time})


def _split_names(text: str) -> list[str]:
    from widgets.types.user import SPLIT_RE

    return [part for part in SPLIT_RE.split(text) if part.strip()] or [text]


def _record_id(cell: Any) -> int | None:
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, int) and not isinstance(cell, bool):
        return cell
    if isinstance(cell, str) and cell.strip().lstrip("#").isdigit():
        return int(cell.strip().lstrip("#"))
    return None


def _filled_header(sheet: SheetData, start: int) -> list[list[Any]]:
    """The first two rows from ``start``, merged cells filled with their value."""
    width = max((len(r) for r in sheet.rows[start : start + 2]), default=0)
    grid = [list(row) + [None] * (width - len(row)) for row in sheet.rows[start : start + 2]]
    for r0, c0, r1, c1 in sheet.merged:
        if r0 < start or r0 >= start + len(grid) or c0 >= width:
            continue
        value = grid[r0 - start][c0]
        for r in range(r0, min(r1, start + len(grid) - 1) + 1):
            for c in range(c0, min(c1, width - 1) + 1):
                grid[r - start][c] = value
    return grid


# -- error workbook ------------------------------------------------------------------


def write_error_workbook(
    sheet: SheetData,
    header_rows: list[int],
    data_start: int,
    errors: list[CellError],
    path: Path,
    only_invalid: bool = False,
) -> Path:
    """The source rows plus an "errors" column; cells with a problem highlighted."""
    import os

    import xlsxwriter

    by_row: dict[int, list[CellError]] = {}
    for error in errors:
        by_row.setdefault(error.row, []).append(error)
    temp = sibling_temp(path)
    with removing_on_failure(temp):
        book = xlsxwriter.Workbook(
            str(temp),
            {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
        )
        bad = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        bold = book.add_format({"bold": True})
        formats = {kind: book.add_format({"num_format": f}) for kind, f in DEFAULT_FORMATS.items()}
        bad_formats = {
            kind: book.add_format({"num_format": f, "bg_color": "#FFC7CE", "font_color": "#9C0006"})
            for kind, f in DEFAULT_FORMATS.items()
        }
        out = book.add_worksheet(sheet.name[:31])
        width = max((len(r) for r in sheet.rows), default=0)
        general = [e for e in errors if e.row == 0]
        line = 0
        if general:
            out.write_string(line, 0, "; ".join(str(e) for e in general), bad)
            line += 1
        errors_header = tr("errors")
        for index in header_rows:
            _write_cells(out, line, sheet.rows[index], None, {}, {})
            out.write_string(line, width, errors_header, bold)
            line += 1
        out.freeze_panes(line, 0)
        for offset, row in enumerate(sheet.rows[data_start:]):
            number = data_start + offset + 1
            problems = by_row.get(number, [])
            if only_invalid and not problems:
                continue
            marked = {e.column for e in problems}
            _write_cells(out, line, row, marked, (formats, bad_formats), bad)
            if problems:
                text = "; ".join(
                    f"{e.label}: {e.message}" if e.label else e.message for e in problems
                )
                out.write_string(line, width, text, bad)
            line += 1
        out.set_column(width, width, 60)
        book.close()
        os.replace(temp, path)
    return path


def _write_cells(out, line: int, row: list[Any], marked, formats, bad) -> None:
    plain, flagged = formats if formats else ({}, {})
    for col, value in enumerate(row):
        is_bad = bool(marked) and column_letter(col) in marked
        if value is None:
            if is_bad:
                out.write_blank(line, col, None, bad)
            continue
        kind = type(value)
        if kind in DEFAULT_FORMATS:
            out.write_datetime(line, col, value, (flagged if is_bad else plain).get(kind))
        elif kind is bool:
            out.write_boolean(line, col, value, bad if is_bad else None)
        elif kind in (int, float):
            out.write_number(line, col, value, bad if is_bad else None)
        else:
            out.write_string(line, col, str(value), bad if is_bad else None)
