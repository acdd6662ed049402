"""Read the cells of .xlsx and .csv files into plain rows (after the safety check).

python-calamine reads .xlsx fast (ints come back as floats, date cells as ``date``/
``datetime``); if it cannot read a file, openpyxl ``read_only`` is the fallback.
CSV and Excel's "Unicode Text" are decoded by their BOM (UTF-8, UTF-16 LE/BE),
else as UTF-8, else GB18030 (Chinese Excel's "CSV" on Windows); the separator (tab,
semicolon or comma) is the one the header line uses most. Empty cells are ``None``; trailing empty rows and columns are
dropped; merged header cells are reported so the header can be filled in.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from resources.messages import tr
from runtime.services.excel.common import column_letter
from runtime.services.excel.safety import (
    DEFAULT_LIMITS,
    ImportLimits,
    UnsafeWorkbook,
    check_csv,
    check_workbook,
)
from widgets.protected_files import refuse_database_file


@dataclass
class SheetData:
    """One sheet's cells: ``rows[i][j]`` is sheet row ``i + 1``, column ``j``."""

    name: str
    rows: list[list[Any]]
    #: Merged ranges as (first row, first col, last row, last col), 0-based inclusive.
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: True for CSV: every cell is text as typed.
    text_only: bool = False


def read_file(path: str | Path, limits: ImportLimits = DEFAULT_LIMITS) -> list[SheetData]:
    """Every sheet of a .xlsx, or the one "sheet" of a .csv, checked against ``limits``."""
    path = Path(path)
    refuse_database_file(path, UnsafeWorkbook)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        check_csv(path, limits)
        return [read_csv(path, limits)]
    check_workbook(path, limits)  # refuses before any parser sees the file
    try:
        sheets = _read_calamine(path, limits)
    except UnsafeWorkbook:
        raise
    except Exception:  # calamine could not read it: try openpyxl
        try:
            sheets = _read_openpyxl(path, limits)
        except UnsafeWorkbook:
            raise
        except Exception as error:
            text = tr("'{name}' cannot be read as a workbook ({error})")
            raise UnsafeWorkbook(text.format(name=path.name, error=error)) from None
    return sheets


def _read_calamine(path: Path, limits: ImportLimits) -> list[SheetData]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    try:
        sheets = []
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            _check_shape(path, name, sheet.height, sheet.width, limits)
            rows = sheet.to_python(skip_empty_area=False)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
            sheets.append(SheetData(name, _clean(path, name, rows, limits), merged))
        return sheets
    finally:
        book.close()


def _read_openpyxl(path: Path, limits: ImportLimits) -> list[SheetData]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = []
        for sheet in book.worksheets:
            _check_shape(path, sheet.title, sheet.max_row or 0, sheet.max_column or 0, limits)
            rows = [list(row) for row in sheet.iter_rows(values_only=True)]
            _check_shape(path, sheet.title, len(rows), max(map(len, rows), default=0), limits)
            sheets.append(SheetData(sheet.title, _clean(path, sheet.title, rows, limits)))
        return sheets
    finally:
        book.close()


def read_csv(path: Path, limits: ImportLimits = DEFAULT_LIMITS) -> SheetData:
    """A text file's rows: its encoding from the BOM, its separator from the header."""
    text = _decode_text(path.read_bytes())
    dialect = _dialect(text)
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows: list[list[Any]] = []
    for row in reader:
        rows.append(row)
        if len(rows) > limits.max_rows + 1:
            _check_shape(path, path.stem, len(rows), 0, limits)
    _check_shape(path, path.stem, len(rows), max(map(len, rows), default=0), limits)
    return SheetData(path.stem, _clean(path, path.stem, rows, limits), text_only=True)


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),  # Excel's "Unicode Text"
    (b"\xfe\xff", "utf-16-be"),
)


def _decode_text(data: bytes) -> str:
    """UTF-8 or UTF-16 by the BOM (or UTF-16's zero bytes), else UTF-8, else GB18030."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    if len(data) >= 2 and data[0] and not data[1]:
        return data.decode("utf-16-le", errors="replace")
    if len(data) >= 2 and data[1] and not data[0]:
        return data.decode("utf-16-be", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _dialect(text: str) -> type[csv.Dialect]:
    """Excel's quoting, with the separator the header line uses most: tab, ; or ,."""
    counts = dict.fromkeys(("\t", ";", ","), 0)
    quoted = False
    for char in text[:65536]:
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            break
        elif char in counts and not quoted:
            counts[char] += 1
    separator = max(counts, key=lambda key: counts[key])
    if not counts[separator] or separator == ",":
        return csv.excel
    return csv.excel_tab if separator == "\t" else _Semicolon


class _Semicolon(csv.excel):
    delimiter = ";"


def _check_shape(path: Path, sheet: str, height: int, width: int, limits: ImportLimits) -> None:
    if height > limits.max_rows + 1:
        text = tr("sheet '{sheet}' of '{name}' has {rows:,} rows (limit {limit:,}); split the file")
        raise UnsafeWorkbook(
            text.format(sheet=sheet, name=path.name, rows=height, limit=limits.max_rows)
        )
    if width > limits.max_columns:
        text = tr("sheet '{sheet}' of '{name}' has {columns} columns (limit {limit})")
        raise UnsafeWorkbook(
            text.format(sheet=sheet, name=path.name, columns=width, limit=limits.max_columns)
        )


def _clean(path: Path, sheet: str, rows: list[list[Any]], limits: ImportLimits) -> list[list]:
    """Blank cells to None, trailing empty rows/columns dropped, cell length checked.

    Called on every cell of the file, so the common cases stay in C: a row with no
    blank text is kept as it is, and the length check looks at the text cells only.
    """
    cleaned: list[list[Any]] = []
    for row in rows:
        if "" in row:
            row = [None if cell == "" else cell for cell in row]
        elif not isinstance(row, list):
            row = list(row)
        while row and row[-1] is None:
            row.pop()
        cleaned.append(row)
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    _check_lengths(path, sheet, cleaned, limits.max_cell_chars)
    return cleaned


def _check_lengths(path: Path, sheet: str, rows: list[list[Any]], limit: int) -> None:
    """Refuse a text cell longer than ``limit`` (the first one, row by row)."""
    texts = (cell for cell in chain.from_iterable(rows) if cell.__class__ is str)
    if max(map(len, texts), default=0) <= limit:
        return
    for index, row in enumerate(rows):
        for col, cell in enumerate(row):
            if type(cell) is str and len(cell) > limit:
                text = tr(
                    "cell {cell} of sheet '{sheet}' in '{name}' "
                    "has {length:,} characters (limit {limit:,})"
                )
                raise UnsafeWorkbook(
                    text.format(
                        cell=f"{column_letter(col)}{index + 1}",
                        sheet=sheet,
                        name=path.name,
                        length=len(cell),
                        limit=limit,
                    )
                )
