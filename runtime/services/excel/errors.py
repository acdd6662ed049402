"""The problems an import finds, and the workbook that shows them to the user.

A :class:`CellError` names one bad cell (or row, or the whole file) in the words
of the sheet — row number, column letter, header text — so a user can find and fix
it. :func:`write_error_workbook` copies the source rows into a new workbook with an
"errors" column and the bad cells highlighted: the file to correct and import again.

Kept apart from :mod:`excel_import` because every step of an import (mapping,
conversion, checks) reports these errors, and the workbook is only about showing
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resources.messages import tr
from runtime.services.excel.cells import Cells, Style, open_workbook
from runtime.services.excel.common import (
    ExcelError,
    column_letter,
    removing_on_failure,
    sibling_temp,
)
from runtime.services.excel.read import SheetData
from widgets.protected_files import refuse_database_file

#: How a cell with a problem is shown: Excel's "bad" style, light red with dark red text.
BAD: Style = (("bg_color", "#FFC7CE"), ("font_color", "#9C0006"))


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

    refuse_database_file(path, ExcelError, writing=True)
    by_row: dict[int, list[CellError]] = {}
    for error in errors:
        by_row.setdefault(error.row, []).append(error)
    temp = sibling_temp(path)
    with removing_on_failure(temp):
        book = open_workbook(str(temp), constant_memory=True)
        cells = Cells(book)
        bad = cells.format(style=BAD)
        bold = book.add_format({"bold": True})
        out = book.add_worksheet(sheet.name[:31])
        width = max((len(r) for r in sheet.rows), default=0)
        general = [e for e in errors if e.row == 0]
        line = 0
        if general:
            out.write_string(line, 0, "; ".join(str(e) for e in general), bad)
            line += 1
        errors_header = tr("errors")
        for index in header_rows:
            _write_cells(cells, out, line, sheet.rows[index], set())
            out.write_string(line, width, errors_header, bold)
            line += 1
        out.freeze_panes(line, 0)
        for offset, row in enumerate(sheet.rows[data_start:]):
            number = data_start + offset + 1
            problems = by_row.get(number, [])
            if only_invalid and not problems:
                continue
            marked = {e.column for e in problems}
            _write_cells(cells, out, line, row, marked)
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


def _write_cells(cells: Cells, out, line: int, row: list[Any], marked: set[str]) -> None:
    """One source row, typed as it was read; the ``marked`` column letters highlighted."""
    plain, flagged = cells.writer(), cells.writer(style=BAD)
    for col, value in enumerate(row):
        write = flagged if marked and column_letter(col) in marked else plain
        write(out, line, col, value)
