"""Export a form's records to .xlsx or .csv in constant memory.

Records are read page by page (``RecordService.page``) and written row by row
(xlsxwriter ``constant_memory``; ``csv``), so a million rows need no more memory
than ten thousand. Every value goes through its field type (``to_excel`` and
``excel_number_format``); names of users, departments and lookup records come from
an ExcelContext resolved per page. The caller passes ``visible_fields``: only those
fields are exported (and may be filtered or sorted on).

Text is never a formula: in .xlsx every cell goes through the one cell writer
(:mod:`runtime.services.excel.cells`), which writes a string with ``write_string``
into a workbook that has ``strings_to_formulas=False``. In .csv, where a spreadsheet
*would* evaluate ``=...``, text starting with ``= + - @``, a tab, a CR, or ``'``
itself gets a leading ``'`` — the escape Excel and the OWASP CSV-injection advice
use; importing a CSV removes exactly one leading ``'``, so values round-trip.

Export is a generator of :class:`Progress` returning an :class:`ExportResult`;
closing it cancels. Every export that completes writes one audit row (``export``:
who, form, file, filter, columns, row count), whoever calls it: the CLI, the
runtime's dialog or the Python API. Output goes to a temporary file in the target folder and is
moved into place (``os.replace``) only at the end, so a cancelled or failed export
leaves no partial file.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from resources.messages import tr
from runtime.services.actor import Actor
from runtime.services.excel.cells import Cells, SheetRows, open_workbook
from runtime.services.excel.common import (
    MAX_COLUMN_WIDTH,
    RECORD_ID_LABEL,
    WIDTH_SAMPLE_ROWS,
    ExcelError,
    GuardedFile,
    cell_text,
    collector_paused,
    filter_fields,
    is_dangerous,
    removing_on_failure,
    sheet_title,
    sibling_temp,
    subtable_children,
    text_width,
    value_fields,
)
from runtime.services.names import NameResolver
from runtime.services.progress import Progress, Steps
from runtime.services.records.reads import SubtableRows, subtable_rows
from runtime.services.records.service import RecordService
from runtime.store.query import AllOf, Condition, Filter, RecordQuery
from widgets.base import ExcelContext, FieldSpecBase, FieldType
from widgets.protected_files import refuse_database_file

SubtableMode = Literal["sheet", "flatten", "omit"]


@dataclass
class ExportColumn:
    """One output column: a field (``spec``) or the record id (``spec`` None)."""

    label: str
    spec: FieldSpecBase | None = None
    field_type: FieldType | None = None
    #: The subtable this column belongs to (flattened or on its sheet).
    subtable: str | None = None

    @property
    def key(self) -> str:
        return self.spec.key if self.spec is not None else "id"

    def number_format(self) -> str | None:
        if self.field_type is None:
            return None
        return self.field_type.excel_number_format(self.spec)


@dataclass
class ExportPlan:
    """What an export writes: main columns and, per subtable, its columns."""

    form: str
    main: list[ExportColumn]
    subtables: dict[str, tuple[str, list[ExportColumn]]] = field(default_factory=dict)
    mode: SubtableMode = "sheet"


@dataclass
class ExportResult:
    path: Path
    rows: int
    columns: list[str]
    #: Sheets (xlsx) or files (csv, one per subtable in "sheet" mode) written.
    parts: list[str]


def plan_export(
    service: RecordService,
    form: str,
    visible_fields: Sequence[str],
    columns: Sequence[str] | None = None,
    subtables: SubtableMode = "sheet",
    include_id: bool = True,
) -> ExportPlan:
    """The columns to write: chosen ∩ visible, in form order (chosen order if given)."""
    registry = service.registry
    form_spec = service.form_tables(form).form
    allowed = set(visible_fields)
    by_key = {spec.key: (spec, ft) for spec, ft in value_fields(form_spec.fields, registry)}
    if columns is not None:
        unknown = [key for key in columns if key not in by_key]
        if unknown:
            text = tr("form '{form}' has no field '{field}'")
            raise ExcelError(text.format(form=form, field=unknown[0]))
        hidden = [key for key in columns if key not in allowed]
        if hidden:
            raise ExcelError(tr("you may not export the field '{field}'").format(field=hidden[0]))
        keys = list(dict.fromkeys(columns))
    else:
        keys = [key for key in by_key if key in allowed]
    plan = ExportPlan(form, [], mode=subtables)
    flattened: list[ExportColumn] = []
    record_id = tr(RECORD_ID_LABEL)  # the header users read: "Record ID" in their language
    if include_id:
        plan.main.append(ExportColumn(record_id))
    for key in keys:
        spec, field_type = by_key[key]
        children = subtable_children(field_type, spec, registry)
        if not children:
            plan.main.append(ExportColumn(spec.label, spec, field_type))
            continue
        if subtables == "omit":
            continue
        if subtables == "flatten":
            cols = [ExportColumn(f"{spec.label}: {c.label}", c, t, key) for c, t in children]
            flattened.extend(cols)  # after the record's own columns, as lines are built
        else:
            cols = [ExportColumn(record_id)]
            cols += [ExportColumn(c.label, c, t, key) for c, t in children]
        plan.subtables[key] = (spec.label, cols)
    plan.main.extend(flattened)
    if subtables == "sheet" and plan.subtables and not include_id:
        raise ExcelError(tr("subtables on their own sheet need the record id column"))
    return plan


# -- writers ---------------------------------------------------------------------------


class _XlsxOut:
    """One .xlsx file, sheets written row by row in constant memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.temp = sibling_temp(path)
        self.file = GuardedFile(self.temp)
        self.book = open_workbook(self.file, constant_memory=True)
        self.cells = Cells(self.book)
        self.header_format = self.book.add_format({"bold": True, "bg_color": "#DDEBF7"})
        self.sheets: list[Any] = []
        #: Per part, its rows below the header (a writer per column, chosen once).
        self.rows: list[SheetRows] = []
        self.names: list[str] = []

    def add_part(self, title: str, columns: list[ExportColumn]) -> int:
        name = sheet_title(title, self.names)
        sheet = self.book.add_worksheet(name)
        self.names.append(name)
        for index, column in enumerate(columns):
            sheet.write_string(0, index, column.label, self.header_format)
        sheet.freeze_panes(1, 0)
        self.sheets.append(sheet)
        formats = [column.number_format() for column in columns]
        self.rows.append(SheetRows(self.cells, sheet, formats, first_row=1))
        return len(self.sheets) - 1

    def set_widths(self, part: int, widths: list[int]) -> None:
        for index, width in enumerate(widths):
            self.sheets[part].set_column(index, index, width)

    def write(self, part: int, lines: Sequence[Sequence[Any]]) -> None:
        """Rows of cell values, one after the other below the rows written before."""
        self.rows[part].write(lines)

    def commit(self) -> list[str]:
        try:
            self.book.close()
            self.file.close()
        except BaseException:
            self.file.discard()
            raise
        os.replace(self.temp, self.path)
        return self.names

    def temp_paths(self) -> list[Path]:
        self.file.discard()  # closed before it is deleted
        return [self.temp]

    def close(self) -> None:
        pass  # the workbook is closed by commit, or its file discarded by temp_paths


class _CsvOut:
    """CSV: UTF-8 with BOM; the main part is ``path``, subtables go beside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.targets: list[Path] = []
        self.temps: list[Path] = []
        self.files: list[Any] = []
        self.writers: list[Any] = []

    def add_part(self, title: str, columns: list[ExportColumn], key: str | None = None) -> int:
        target = (
            self.path
            if not self.targets
            else self.path.with_name(
                f"{self.path.stem}.{key or len(self.targets)}{self.path.suffix}"
            )
        )
        temp = sibling_temp(target)
        handle = open(temp, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self.targets.append(target)
        self.temps.append(temp)
        self.files.append(handle)
        writer = csv.writer(handle, lineterminator="\r\n")
        self.writers.append(writer)
        writer.writerow([csv_text(column.label) for column in columns])
        return len(self.files) - 1

    def set_widths(self, part: int, widths: list[int]) -> None:
        pass

    def write(self, part: int, lines: Sequence[Sequence[Any]]) -> None:
        self.writers[part].writerows([csv_text(value) for value in line] for line in lines)

    def commit(self) -> list[str]:
        for handle in self.files:
            handle.close()
        for temp, target in zip(self.temps, self.targets, strict=True):
            os.replace(temp, target)
        return [target.name for target in self.targets]

    def close(self) -> None:
        for handle in self.files:
            if not handle.closed:
                handle.close()

    def temp_paths(self) -> list[Path]:
        self.close()  # Windows cannot delete an open file
        return self.temps


def csv_text(value: Any) -> str:
    """A cell as CSV text; text that a spreadsheet would run gets a leading ``'``."""
    text = cell_text(value)
    if type(value) is str and (is_dangerous(text) or text.startswith("'")):
        return "'" + text
    return text


# -- export ----------------------------------------------------------------------------


def export_records(
    service: RecordService,
    form: str,
    path: str | Path,
    *,
    actor: Actor,
    visible_fields: Sequence[str],
    query: RecordQuery | None = None,
    columns: Sequence[str] | None = None,
    subtables: SubtableMode = "sheet",
    include_id: bool = True,
    page_size: int = 1000,
) -> Steps[ExportResult]:
    """Write the records of ``form`` matching ``query`` to ``path`` (.xlsx or .csv).

    ``visible_fields`` are the field keys ``actor`` may see (from the permission
    policy); nothing else is exported, filtered or sorted on. ``columns`` picks and
    orders fields (default: every visible one). ``subtables``: ``"sheet"`` (one
    sheet per subtable, rows linked by record id), ``"flatten"`` (one line per
    subtable row, record values repeated) or ``"omit"``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        text = tr("can only export to .xlsx or .csv, not '{suffix}'")
        raise ExcelError(text.format(suffix=path.suffix or path.name))
    refuse_database_file(path, ExcelError, writing=True)
    query = query or RecordQuery()
    policy = service.policy(actor, form)
    policy.require(form, "export")
    # The caller's list can only narrow what the policy shows, never widen it.
    visible_fields = [key for key in visible_fields if key in policy.visible_fields(form)]
    allowed = set(visible_fields)
    used = filter_fields(query.filter)
    if query.sort.field not in ("id", "created_at", "updated_at"):
        used.add(query.sort.field)
    hidden = sorted(used - allowed)
    if hidden:
        text = tr("you may not filter or sort on the field '{field}'")
        raise ExcelError(text.format(field=hidden[0]))
    plan = plan_export(service, form, visible_fields, columns, subtables, include_id)
    stored = tuple(c.key for c in plan.main if c.spec is not None and c.subtable is None)
    query = RecordQuery(query.filter, query.search, query.sort, query.trash, stored)
    total = service.count(form, query, actor, action="export")
    yield Progress(0, total, "exporting")

    out: Any = _XlsxOut(path) if suffix == ".xlsx" else _CsvOut(path)
    resolver = NameResolver(service, actor)
    try:
        with removing_on_failure(out.temp_paths):
            parts: dict[str | None, Any] = {
                None: out.add_part(service.form_tables(form).form.title, plan.main)
            }
            if plan.mode == "sheet":
                for key, (label, cols) in plan.subtables.items():
                    parts[key] = (
                        out.add_part(label, cols, key)
                        if suffix == ".csv"
                        else out.add_part(label, cols)
                    )
            done, cursor = 0, None
            while True:
                with collector_paused():
                    page = service.page(form, query, cursor, page_size, actor, action="export")
                    children = (
                        subtable_rows(
                            service, form, list(plan.subtables), page.records, actor, "export"
                        )
                        if plan.subtables
                        else {}
                    )
                    context = _page_context(resolver, plan, page.records, children)
                    _write_page(out, parts, plan, page.records, children, context, done == 0)
                done += len(page.records)
                yield Progress(done, total, "exporting")
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            yield Progress(done, total, "saving")
            # Audited before the file is moved into place: no export without its row.
            service.audit_event(actor, "export", form, _export_details(path, query, plan, done))
            names = out.commit()
    finally:
        out.close()
    return ExportResult(path, done, [c.label for c in plan.main], names)


def _write_page(out, parts, plan: ExportPlan, records, children, context, first: bool) -> None:
    """One page of records into every part of the output; the first page also sets
    the column widths (from its lines)."""
    for part_key, part in parts.items():
        lines = list(_lines(plan, part_key, records, children, context))
        if first:
            out.set_widths(part, _widths(_columns_of(plan, part_key), lines))
        out.write(part, lines)


def _columns_of(plan: ExportPlan, part_key: str | None) -> list[ExportColumn]:
    return plan.main if part_key is None else plan.subtables[part_key][1]


def _page_context(resolver, plan: ExportPlan, records, children: SubtableRows) -> ExcelContext:
    wanted: dict[Any, set[int]] = {}

    def collect(column: ExportColumn, value: Any) -> None:
        if value is None or column.field_type is None:
            return
        kind = column.field_type.reference_kind(column.spec)
        if kind is None:
            return
        bucket = wanted.setdefault(kind, set())
        bucket.update(value if isinstance(value, list) else [value])

    for column in plan.main:
        if column.spec is None or column.field_type is None or column.subtable is not None:
            continue
        if column.field_type.reference_kind(column.spec) is None:
            continue
        for record in records:
            collect(column, record.values.get(column.key))
    for key, (_label, cols) in plan.subtables.items():
        for column in cols:
            field_type, spec = column.field_type, column.spec
            if spec is None or field_type is None or field_type.reference_kind(spec) is None:
                continue
            for rows in children.get(key, {}).values():
                for row in rows:
                    collect(column, row.get(column.key))
    return resolver.context_for(wanted) if wanted else ExcelContext()


def _lines(plan: ExportPlan, part_key, records, children: SubtableRows, context: ExcelContext):
    """Output rows of cell values for one part of one page."""
    if part_key is not None:  # a subtable's sheet: a line per subtable row
        converters = _converters(plan.subtables[part_key][1])
        rows_of = children.get(part_key, {})
        for record in records:
            for row in rows_of.get(record.id) or ():
                yield _values(row.get, converters, context, record.id)
        return
    main = _converters([c for c in plan.main if c.subtable is None])
    flat = [
        (children.get(key, {}), _converters(columns))
        for key, (_label, columns) in plan.subtables.items()
        if plan.mode == "flatten"
    ]
    for record in records:
        values = _values(record.values.get, main, context, record.id)
        if not flat:
            yield values
            continue
        groups = [rows_of.get(record.id) or [] for rows_of, _converters_ in flat]
        for index in range(max(1, *(len(group) for group in groups))):
            line = list(values)
            for (_rows_of, converters), group in zip(flat, groups, strict=True):
                get = group[index].get if index < len(group) else _NO_ROW.get
                line += _values(get, converters, context, record.id)
            yield line


#: The stored values of a missing subtable row (a flattened record with fewer rows).
_NO_ROW: dict[str, Any] = {}


def _converters(columns: list[ExportColumn]) -> list[tuple[str, Any, Any]]:
    """(key, spec, ``to_excel``) per column, ``to_excel`` None for the record id."""
    return [
        (column.key, column.spec, column.field_type.to_excel if column.field_type else None)
        for column in columns
    ]


def _values(get, converters, context: ExcelContext, record_id: int) -> list[Any]:
    """The cell values of one record or subtable row; ``get`` reads a stored value."""
    return [
        record_id
        if convert is None
        else (None if (value := get(key)) is None else convert(spec, value, context))
        for key, spec, convert in converters
    ]


def _widths(columns: list[ExportColumn], lines: list[list[Any]]) -> list[int]:
    """Column widths for the header and sample lines' display text (CJK counts
    double), with a margin, at most ``MAX_COLUMN_WIDTH``."""
    widths = [text_width(column.label) for column in columns]
    for line in lines[:WIDTH_SAMPLE_ROWS]:
        for index, value in enumerate(line):
            if value is None:
                continue
            text = value if type(value) is str else cell_text(value)
            width = text_width(text[:200])
            if width > widths[index]:
                widths[index] = width
    return [min(width + 2, MAX_COLUMN_WIDTH) for width in widths]


def _export_details(path: Path, query: RecordQuery, plan: ExportPlan, rows: int) -> dict:
    """What the audit keeps of an export: the file, filter, columns and row count."""
    columns = [c.key for c in plan.main if c.spec is not None and c.subtable is None]
    return {
        "file": str(path),
        "rows": rows,
        "columns": columns,
        "subtables": list(plan.subtables),
        "filter": _filter_json(query.filter),
        "search": query.search or None,
        "sort": {"field": query.sort.field, "desc": query.sort.desc},
        "trash": query.trash,
    }


def _filter_json(node: Filter | None) -> Any:
    if node is None:
        return None
    if isinstance(node, Condition):
        value = list(node.value) if isinstance(node.value, (tuple, list)) else node.value
        return {"field": node.field, "op": node.op, "value": value}
    kind = "all" if isinstance(node, AllOf) else "any"
    return {kind: [_filter_json(part) for part in node.parts]}
