"""Import records from .xlsx or .csv: map, convert, validate everything, then write.

1. The file is checked (:mod:`excel_safety`) and read (:mod:`excel_read`).
2. Columns are mapped to fields by label or key (case- and whitespace-tolerant, a
   two-row or merged header is recognised); the caller may pass a mapping
   (:mod:`excel_mapping`).
3. Every cell goes through its field type (``from_excel`` with an ExcelContext of
   reverse names), a column of a batch at a time (:mod:`excel_convert`), and every
   row is validated with the rules of a save (``RecordService`` semantics: formulas
   and visibility from ``FormLogic``, required, type limits, unique values — in the
   database and within the file — and existing references), checked in batches so
   100,000 rows stay fast (:mod:`excel_checks`).
4. Nothing is written unless the whole file is valid (mode ``"all"``), or only the
   valid rows are written (mode ``"valid_only"``). ``upsert_by`` updates the record
   holding the same value of a unique field instead of creating one.
5. Rows are written in batches (``batch_size``), one transaction each, and the
   progress (``rows_done``) and the owner's heartbeat are stored in ``fw_imports``
   in that same transaction: an import killed mid-way leaves whole batches and a
   ``running`` import, which blocks new imports into the form until it is resumed
   (``resume``: the same file, same SHA-256, continues after ``rows_done`` — no row
   is written twice) or undone (:mod:`import_journal`; :mod:`excel_write`).
6. A file imported into the form before, or rows identical to records already in
   it (:mod:`excel_duplicates`), are reported by a dry run and refused by an
   import unless ``allow_duplicates``.

Audit: one ``import_batch`` row per batch listing the created and updated record
ids (instead of one ``create`` row per record, for bulk speed), and one ``import``
event when the import completes.

Subtables come from their own sheet (named by the subtable's label or key, with a
``Record ID`` column linking each row to the record's ``Record ID`` on the main
sheet) — the layout export writes.

This module holds the entry point, :func:`import_records` (the steps above, in
order), its result, and :class:`_Import`, the state one import carries from step to
step. Each problem found is a :class:`~runtime.services.excel.errors.CellError`; they
can be written to an error workbook (:mod:`excel_errors`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from resources.messages import tr
from runtime.services.actor import Actor
from runtime.services.excel.checks import CheckedRow, RowChecker
from runtime.services.excel.common import (
    RECORD_ID_LABEL,
    ExcelError,
    collector_paused,
    column_letter,
    subtable_children,
    value_fields,
)
from runtime.services.excel.convert import (
    MISS,
    Findings,
    cell_converter,
    cell_message,
    fast_converter,
    remembered,
    reverse_context,
    transpose,
)
from runtime.services.excel.duplicates import RowsInForm
from runtime.services.excel.errors import CellError, write_error_workbook
from runtime.services.excel.journal import (
    DuplicateImport,
    check_before_import,
    duplicate_rows_message,
)
from runtime.services.excel.mapping import (
    RECORD_ID,
    ImportColumn,
    SubtableSheets,
    map_columns,
    split_sheets,
)
from runtime.services.excel.read import SheetData, read_file
from runtime.services.excel.safety import DEFAULT_LIMITS, ImportLimits, UnsafeWorkbook
from runtime.services.excel.write import ImportWriter
from runtime.services.names import NameResolver
from runtime.services.progress import Progress, Steps
from runtime.services.records.checks import IMMUTABLE_TYPES, MEMO_SIZE, value_check
from runtime.services.records.service import RecordService
from runtime.store.imports import ImportEntry
from widgets.base import FieldSpecBase, FieldType, FieldValueError
from widgets.protected_files import refuse_database_file

__all__ = [
    "RECORD_ID",
    "CellError",
    "ImportMode",
    "ImportResult",
    "file_sha256",
    "import_records",
    "write_error_workbook",
]

ImportMode = Literal["all", "valid_only"]
_NO_KEYS: frozenset[str] = frozenset()  # no bad cells in a row
#: How often a resumed import's owner says it is alive while checking the file.
HEARTBEAT_SECONDS = 20.0


@dataclass
class ImportResult:
    """What an import did (or, ``dry_run``, would do) and every problem it found."""

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
    #: Rows that would create a record identical (in the columns the file fills) to
    #: one already in the form that the actor may read.
    duplicates: int = 0
    #: The form's import that did not finish (a dry run reports it; a real import
    #: is refused while it is open, unless it resumes it).
    open_import: ImportEntry | None = None
    #: A finished import of this very file into the form.
    same_file: ImportEntry | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def file_sha256(path: Path) -> str:
    """The file's SHA-256 (hex): the same file resumes its unfinished import."""
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
    resume: bool = False,
    allow_duplicates: bool = False,
) -> Steps[ImportResult]:
    """Import ``source`` into ``form`` as ``actor``; a generator of Progress → result.

    ``visible_fields`` are the keys ``actor`` may write (from the permission
    policy); columns of other fields are ignored. ``mapping`` maps a header text or
    column letter to a field key (``"id"``: the record-id column; ``None``: ignore).
    ``error_workbook``: True writes ``<name>.errors.xlsx`` beside the source when
    there are errors (or give a path).

    ``resume`` continues the form's unfinished import of this very file (same
    SHA-256) after its last committed batch, with the options it was started with.
    Otherwise an import is refused while another into the form is open
    (:class:`~runtime.services.excel.journal.UnfinishedImport`), and a file or
    rows imported before are refused (:class:`DuplicateImport`) unless
    ``allow_duplicates``; a dry run reports both instead (``open_import``,
    ``same_file``, ``duplicates``).
    """
    source = Path(source)
    service.policy(actor, form).require(form, "import")
    refuse_database_file(source, UnsafeWorkbook)  # before anything opens it (SQLite locks)
    service.workspace.check_integrity()  # a damaged workspace takes no import (one line)
    yield Progress(0, None, "reading the file")
    sha = file_sha256(source)
    before = check_before_import(
        service,
        form,
        source.name,
        sha,
        actor=actor,
        resume=resume,
        dry_run=dry_run,
        allow=allow_duplicates,
    )
    resumed = before.resumed
    if resumed is not None:  # the same choices as when it started
        mode = resumed.options.get("mode", mode)
        upsert_by = resumed.options.get("upsert_by")
        mapping = resumed.options.get("mapping") or mapping
    job = _Import(service, form, source, actor, visible_fields, mode, upsert_by, limits)
    with collector_paused():
        sheets = read_file(source, limits)
        job.prepare(sheets, mapping or {})
    import_id = None
    if resumed is not None and not dry_run:
        resumed = job.writer.take_over(resumed)
        import_id = resumed.import_id
    rows_done = resumed.rows_done if resumed is not None else 0
    total = len(job.data)
    result = ImportResult(
        source, form, import_id, total, 0, resumed_from=rows_done, dry_run=dry_run
    )
    result.open_import, result.same_file = before.open_import, before.same_file
    result.columns = {c.header: c.key for c in job.columns}
    result.ignored_columns = job.ignored
    result.errors.extend(job.file_errors)
    result.errors.extend(job.subtables.errors)
    finished = False
    try:
        valid = yield from _check_rows(job, result, rows_done, batch_size, import_id)
        result.rows_valid = len(valid)
        if result.errors and error_workbook:
            result.error_workbook = _error_workbook(job, result, error_workbook)
        blocked = bool(job.file_errors) or (mode == "all" and bool(result.errors))
        if dry_run or blocked:
            return result
        if result.duplicates and not allow_duplicates:
            message = duplicate_rows_message(result.duplicates, source.name, form)
            raise DuplicateImport(message, None, result.duplicates)
        if import_id is None:
            options = {"mode": mode, "upsert_by": upsert_by, "mapping": dict(mapping or {})}
            import_id = job.start_import(sha, total, options)
        result.import_id = import_id
        position = 0
        for start in range(rows_done, total, batch_size):
            end = min(start + batch_size, total)
            batch = []
            while position < len(valid) and valid[position].source < end:
                batch.append(valid[position])
                position += 1
            with collector_paused():
                created, updated = job.write_batch(import_id, batch, start, end)
            result.created += created
            result.updated += updated
            yield Progress(end - rows_done, total - rows_done, "importing")
        job.finish(import_id, sha, result)
        finished = True
    finally:
        if import_id is not None and not finished:
            job.writer.release(import_id)  # cancelled or failed: unfinished at once
    return result


def _check_rows(job: _Import, result: ImportResult, rows_done, batch_size, import_id):
    """Convert and check the rows after ``rows_done`` batch by batch (Progress
    steps); the valid rows. Counts the rows that would create a record identical
    to one already in the form (not when resuming: they were counted at the start)."""
    valid: list[CheckedRow] = []
    checked, total = 0, len(job.data)
    beat = time.monotonic()
    for start in range(rows_done, total, batch_size):
        with collector_paused():
            chunk_rows, chunk_errors = job.validate(range(start, min(start + batch_size, total)))
            if import_id is None:
                result.duplicates += job.duplicates.count(chunk_rows)
        valid.extend(chunk_rows)
        result.errors.extend(chunk_errors)
        checked += job.checked
        if import_id is not None and time.monotonic() - beat > HEARTBEAT_SECONDS:
            job.writer.heartbeat(import_id)  # a long check of a resumed import
            beat = time.monotonic()
        yield Progress(min(start + batch_size, total) - rows_done, total - rows_done, "checking")
    result.skipped = checked - len(valid)
    return valid


def _error_workbook(job: _Import, result: ImportResult, target: Literal[True] | str | Path) -> Path:
    source = job.source
    path = source.with_name(f"{source.stem}.errors.xlsx") if target is True else Path(target)
    return write_error_workbook(
        job.main,
        job.header_rows,
        job.data_start,
        result.errors,
        path,
        only_invalid=job.mode == "valid_only",
    )


class _Import:
    """The state one import carries from step to step.

    :meth:`prepare` maps the file (:mod:`excel_mapping`) and sets up the row checks
    (:class:`RowChecker`) and the writer (:class:`ImportWriter`); :meth:`validate`
    converts and checks one batch of rows, a column at a time, with the per-column
    converters, checks and memos kept here across batches; the writing methods hand
    over to the writer.
    """

    def __init__(self, service, form, source, actor, visible_fields, mode, upsert_by, limits):
        self.service = service
        self.registry = service.registry
        self.form = form
        self.source = source
        self.actor = actor
        self.mode = mode
        self.limits = limits
        #: The form's rules, as the record writer checks every save with them.
        self.rules = service.writer.rules(form)
        self.tables = self.rules.tables
        self.logic = self.rules.logic
        self.resolver = NameResolver(service, actor)
        self.policy = service.policy(actor, form)
        self.policy.require(form, "import")
        # The caller's list can only narrow what the writer lets the actor import.
        writable = service.writer.writable(self.policy, form, None, "import")
        allowed = set(visible_fields) & writable
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
        self._pending: list[CellError] = []
        self.text_only = False
        self._memo: dict[str, dict | None] = {}
        self._checks: dict[str, Callable[[Any], str | None]] = {}
        self._fast: dict[str, Callable[[Any], Any] | None] = {}

    # -- the file -----------------------------------------------------------
    def prepare(self, sheets: list[SheetData], mapping: Mapping[str, str | None]) -> None:
        """Find the main and subtable sheets, map their columns, read the subtables."""
        subtables = {
            key: pair
            for key, pair in self.importable.items()
            if subtable_children(pair[1], pair[0], self.registry)
        }
        self.main, sub_sheets = split_sheets(sheets, subtables)
        if not self.main.rows:
            raise ExcelError(tr("'{name}' has no rows to import").format(name=self.source.name))
        targets = {key: pair for key, pair in self.importable.items() if key not in subtables}
        self.text_only = self.main.text_only
        self.columns: list[ImportColumn]
        self.columns, self.header_rows, self.data_start = map_columns(
            self.main, targets, mapping, self.fields, self.ignored
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
        id_column = next((c for c in self.columns if c.key == RECORD_ID), None)
        self.subtables = SubtableSheets(
            self.registry, self.resolver, self.text_only, self.main.name, id_column, self.ignored
        )
        for key, sheet in sub_sheets.items():
            if RECORD_ID not in mapped:
                label = tr(RECORD_ID_LABEL)
                message = tr("a '{column}' column is needed to link sheet '{sheet}'").format(
                    column=label, sheet=sheet.name
                )
                self.file_errors.append(CellError(self.main.name, 0, "", label, message))
                continue
            spec, field_type = self.importable[key]
            self.file_errors.extend(self.subtables.read(key, spec, field_type, sheet))
        self.checker = RowChecker(
            self.service,
            self.form,
            policy=self.policy,
            rules=self.rules,
            fields=self.fields,
            upsert_by=self.upsert_by,
            sheet=self.main.name,
            columns=self.columns,
            children=self.subtables.children,
            data_start=self.data_start,
            file_errors=self.file_errors,
        )
        self.duplicates = RowsInForm(self.service, self.form, self.policy, self.columns)
        self.writer = ImportWriter(
            self.service,
            self.form,
            self.policy,
            source=self.source,
            mode=self.mode,
            data_start=self.data_start,
        )

    # -- validation ---------------------------------------------------------
    def validate(self, indexes: range) -> tuple[list[CheckedRow], list[CellError]]:
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
        context = reverse_context(self.resolver, self.columns, rows)
        found = Findings()
        field_columns = [c for c in self.columns if c.key != RECORD_ID]
        grid = transpose(rows, 1 + max((c.index for c in self.columns), default=-1))
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
        bad_of = found.bad
        checks: list[tuple[int, int, dict[str, Any], AbstractSet[str], int]] = []
        if self.subtables.children:
            attach = self.subtables.attach
            for position, cells in enumerate(by_row):
                values = dict(zip(keys, cells, strict=True))
                bad = bad_of.get(position) or set()
                attach(kept[position][1], numbers[position], values, bad, self._pending)
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
        valid, problems = self.checker.check(checks, found)
        self._pending.extend(problems)
        errors = sorted(self._pending, key=lambda e: (e.row, e.column))
        self._pending = []
        self.checked = len(kept)
        return valid, errors

    def _convert_column(self, column, cells, numbers, context, found: Findings) -> list:
        """A batch's cells of one column → values (``None`` for a bad cell).

        Conversion errors are reported at once; validation problems wait in
        ``found`` for the row checks. Conversions and ``validate`` are pure, so a
        repeated cell (options, dates, small numbers) is done once per column
        (:func:`~runtime.services.excel.convert.remembered`); the rest go through
        the field type one by one.
        """
        key, convert = column.key, cell_converter(column, context, self.text_only)
        check = self._value_check(key)
        memo = self._column_memo(column)
        fast = self._fast_converter(column)
        if memo is None and fast is not None:  # distinct values: the shortcut at once
            values = [None if cell is None else fast(cell) for cell in cells]
            fast = None  # the misses left need the general path
        else:
            values = remembered(memo, cells)
        if None in cells and (required := check(None)) is not None:  # blank cells
            for position, cell in enumerate(cells):
                if cell is None:
                    found.problem(position, key, required)
        misses = [p for p, v in enumerate(values) if v is MISS] if MISS in values else ()
        for position in misses:
            cell = cells[position]
            if fast is not None and (value := fast(cell)) is not MISS:
                values[position] = value
                if (
                    memo is not None
                    and value.__class__ in IMMUTABLE_TYPES
                    and len(memo) < MEMO_SIZE
                ):
                    memo[(cell.__class__, cell)] = value
                continue
            try:
                value = convert(cell)
            except FieldValueError as error:
                message = cell_message(self.resolver, column, cell, error)
                letter = column_letter(column.index)
                self._pending.append(
                    CellError(self.main.name, numbers[position], letter, column.header, message)
                )
                found.bad.setdefault(position, set()).add(key)
                values[position] = None
                continue
            values[position] = value
            if (problem := check(value)) is not None:
                found.problem(position, key, problem)
            elif memo is not None and value.__class__ in IMMUTABLE_TYPES and len(memo) < MEMO_SIZE:
                memo[(cell.__class__, cell)] = value
        if memo is not None and len(memo) >= MEMO_SIZE and len(misses) > len(cells) // 2:
            self._memo[key] = None  # mostly distinct values: stop looking them up
        return values

    def _column_memo(self, column: ImportColumn) -> dict | None:
        """Converted and validated values by (class, cell), or None: not for reference
        columns (their names depend on the batch) nor once a column proves distinct."""
        if column.kind is not None:
            return None
        if column.key not in self._memo:
            self._memo[column.key] = {}
        return self._memo[column.key]

    def _fast_converter(self, column: ImportColumn) -> Callable[[Any], Any] | None:
        """The column's shortcut (:func:`~runtime.services.excel.convert.fast_converter`),
        made once per column."""
        if column.key not in self._fast:
            self._fast[column.key] = fast_converter(column, self.text_only)
        return self._fast[column.key]

    def _value_check(self, key: str) -> Callable[[Any], str | None]:
        """``validate`` (and required, unless visibility rules decide it) of one
        column's values, as a function → the problem's message or None."""
        check = self._checks.get(key)
        if check is None:
            spec, field_type = self.fields[key]
            required = self.checker.required(key) and not self.logic.visibility
            check = self._checks[key] = value_check(spec, field_type, required)
        return check

    # -- writing (see excel_write) ------------------------------------------
    def start_import(self, sha: str, total: int, options: dict[str, Any]) -> str:
        """A new ``running`` import of this file owned by this process; its id."""
        return self.writer.start_import(sha, total, options)

    def write_batch(
        self, import_id: str, batch: list[CheckedRow], start: int, end: int
    ) -> tuple[int, int]:
        """Write one batch and advance ``rows_done`` in the same transaction."""
        return self.writer.write_batch(import_id, batch, start, end)

    def finish(self, import_id: str, sha: str, result: ImportResult) -> None:
        """Mark the import done and add its ``import`` audit event."""
        self.writer.finish(import_id, sha, result)
