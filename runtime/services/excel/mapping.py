"""Which sheet of an import holds what, and which column fills which field.

- :func:`split_sheets` — the main sheet, and the subtables' own sheets (named by
  the subtable's label or key, as export writes them);
- :func:`map_columns` — the header → fields: by label or key (case- and
  whitespace-tolerant), a two-row or merged header recognised, the caller's explicit
  mapping (header text or column letter) first;
- :class:`SubtableSheets` — the rows of the subtable sheets, grouped by the
  ``Record ID`` of the main-sheet row they belong to, then attached to that row.

Kept apart from :mod:`excel_import` because it is about the layout of the file (what
the user's columns mean), read once before any row is converted or checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from resources.messages import tr
from runtime.services.excel.common import (
    RECORD_ID_LABEL,
    RECORD_ID_NAMES,
    ExcelError,
    column_letter,
    normalize_label,
    subtable_children,
)
from runtime.services.excel.convert import cell_converter, cell_message, reverse_context
from runtime.services.excel.errors import CellError
from runtime.services.excel.read import SheetData
from runtime.services.names import NameResolver
from widgets.base import FieldSpecBase, FieldType, FieldValueError
from widgets.registry import FieldTypeRegistry

RECORD_ID = "id"  # mapping target of the record-id column

#: Field key -> (spec, type).
Fields = Mapping[str, tuple[FieldSpecBase, FieldType]]


@dataclass
class ImportColumn:
    """One used column of a sheet and the field it fills."""

    index: int
    header: str
    key: str  # field key or RECORD_ID
    spec: FieldSpecBase | None = None
    field_type: FieldType | None = None
    kind: Any = None  # reference kind


def split_sheets(
    sheets: list[SheetData], subtables: Fields
) -> tuple[SheetData, dict[str, SheetData]]:
    """The main sheet, and the sheet of each subtable (by key) that has one."""
    sub_sheets: dict[str, SheetData] = {}
    for sheet in sheets:
        name = normalize_label(sheet.name)
        for key, (spec, _ft) in subtables.items():
            if name in (normalize_label(spec.label[:31]), normalize_label(key)):
                sub_sheets[key] = sheet
    rest = [s for s in sheets if all(s is not t for t in sub_sheets.values())]
    candidates = [s for s in rest if s.rows] or rest or sheets
    return candidates[0], sub_sheets


def map_columns(
    sheet: SheetData,
    targets: Fields,
    mapping: Mapping[str, str | None],
    fields: Fields,
    ignored: list[str],
) -> tuple[list[ImportColumn], list[int], int]:
    """Columns of a sheet → fields; returns (columns, header row indexes, data start).

    ``targets`` are the fields a column may fill, ``fields`` every field a header
    may name (the others are reported in ``ignored``, as are unknown headers).
    """
    start = next(i for i, row in enumerate(sheet.rows) if row)
    names: dict[str, str] = {}
    for field_key in fields:
        names.setdefault(normalize_label(field_key), field_key)
    for field_key, (field_spec, _ft) in fields.items():
        names[normalize_label(field_spec.label)] = field_key
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
    columns: list[ImportColumn] = []
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
                ignored.append(text)
            continue
        shown = text or letter
        if key != RECORD_ID and key not in targets:
            reason = "not importable" if key in fields else "unknown field"
            ignored.append(f"{shown} ({reason})")
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
        columns.append(ImportColumn(index, shown, key, spec, field_type, kind))
    return columns, header_rows, header_rows[-1] + 1


class SubtableSheets:
    """The subtable rows of an import, read from their own sheets.

    Each row of a subtable sheet names the ``Record ID`` of its main-sheet row;
    :meth:`read` groups the converted rows by that id (``children``), and
    :meth:`attach` puts them into the values of the main-sheet row with that id.
    A bad cell on a subtable sheet is reported once (``errors``) and makes its
    main-sheet row invalid (``bad_parents``).
    """

    def __init__(
        self,
        registry: FieldTypeRegistry,
        resolver: NameResolver,
        text_only: bool,
        main_sheet: str,
        id_column: ImportColumn | None,
        ignored: list[str],
    ) -> None:
        self.registry = registry
        self.resolver = resolver
        self.text_only = text_only
        self.main_sheet = main_sheet
        self.id_column = id_column  # the main sheet's Record ID column
        self.ignored = ignored
        #: Subtable key -> record id -> the converted rows of that record.
        self.children: dict[str, dict[int, list[dict]]] = {}
        #: Errors on subtable sheets, and the record ids whose subtable rows are bad.
        self.errors: list[CellError] = []
        self.bad_parents: set[int] = set()
        self._specs: dict[str, tuple[FieldSpecBase, FieldType]] = {}

    def read(
        self, key: str, spec: FieldSpecBase, field_type: FieldType, sheet: SheetData
    ) -> list[CellError]:
        """Read the sheet of subtable ``key``; the problems that concern the file."""
        file_errors: list[CellError] = []
        pending: list[CellError] = []
        children = {c.key: (c, t) for c, t in subtable_children(field_type, spec, self.registry)}
        targets = {k: pair for k, pair in children.items() if not pair[1].computed}
        columns, _rows, data_start = map_columns(sheet, targets, {}, children, self.ignored)
        if not any(c.key == RECORD_ID for c in columns):
            message = tr("this sheet needs a Record ID column")
            file_errors.append(CellError(sheet.name, 0, "", tr(RECORD_ID_LABEL), message))
            return file_errors
        rows = sheet.rows[data_start:]
        context = reverse_context(self.resolver, columns, rows)
        grouped: dict[int, list[dict]] = {}
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
                        file_errors.append(
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
                    values[column.key] = self._convert(
                        column, cell, context, sheet.name, number, pending
                    )
                except _BadCell:
                    if parent is not None:
                        self.bad_parents.add(parent)
            if parent is not None:
                grouped.setdefault(parent, []).append(values)
        self.errors.extend(pending)
        self.children[key] = grouped
        self._specs[key] = (spec, field_type)
        return file_errors

    def _convert(self, column, cell: Any, context, sheet: str, number: int, pending) -> Any:
        """One cell's value through its field type; a bad cell is reported, then _BadCell."""
        if cell is None:
            return None
        try:
            return cell_converter(column, context, self.text_only)(cell)
        except FieldValueError as error:
            message = cell_message(self.resolver, column, cell, error)
            pending.append(
                CellError(sheet, number, column_letter(column.index), column.header, message)
            )
            raise _BadCell from None

    def attach(
        self, row: list, number: int, values: dict, bad: set[str], errors: list[CellError]
    ) -> None:
        """Put the subtable rows of one main-sheet row into its ``values``; a subtable
        its type refuses is reported in ``errors`` and its key added to ``bad``."""
        id_column = self.id_column
        if id_column is None:
            return
        ident = _record_id(row[id_column.index] if id_column.index < len(row) else None)
        if ident in self.bad_parents:
            bad.add(next(iter(self.children)))
        for key, grouped in self.children.items():
            sub_spec, sub_type = self._specs[key]
            try:
                values[key] = sub_type.coerce(sub_spec, grouped.get(ident)) if ident else None
            except FieldValueError as error:
                errors.append(CellError(self.main_sheet, number, "", sub_spec.label, error.message))
                bad.add(key)


class _BadCell(Exception):
    pass


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
