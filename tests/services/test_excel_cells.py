"""The one cell writer (services/excel/cells.py): every value type, styles, rows."""

from __future__ import annotations

import datetime as dt
import uuid
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from runtime.services.excel.cells import Cells, SheetRows, open_workbook
from runtime.services.excel.errors import BAD, CellError, write_error_workbook
from runtime.services.excel.read import SheetData

FORMULA_LOOKING = ["=1+1", "+A1", "-2", "@SUM(A1:A3)", '=HYPERLINK("http://x","y")', "'q"]


def _written(tmp_path, write, constant_memory=True):
    """Write one sheet with ``write(cells, sheet)``; the sheet read back (openpyxl)."""
    path = tmp_path / f"cells{uuid.uuid4().hex[:6]}.xlsx"
    book = open_workbook(str(path), constant_memory=constant_memory)
    cells = Cells(book)
    write(cells, book.add_worksheet("s"))
    book.close()
    return openpyxl.load_workbook(path).worksheets[0], path


@pytest.mark.parametrize("constant_memory", [True, False])
def test_each_value_type_becomes_its_cell(tmp_path, constant_memory):
    values = [
        (dt.date(2024, 2, 29), None),
        (dt.datetime(2024, 2, 29, 13, 45), None),
        (dt.time(8, 30), None),
        (dt.date(2024, 3, 1), "dd/mm/yyyy"),
        (Decimal("1234.56"), "0.00"),
        (Decimal("-0.1"), None),
        (42, "0"),
        (1.5, None),
        (True, None),
        (False, "0.00"),  # a boolean takes no number format
        (None, None),
        ("重症监护室 ICU", None),
        (uuid.UUID(int=7), None),  # a type without its own call: its text
        *((text, None) for text in FORMULA_LOOKING),
    ]

    def write(cells, sheet):
        for col, (value, number_format) in enumerate(values):
            cells.write(sheet, 0, col, value, number_format)

    sheet, _path = _written(tmp_path, write, constant_memory)
    row = list(next(sheet.iter_rows(min_row=1, max_row=1, max_col=len(values))))
    date, moment, clock, other_date, amount, small, whole, real, yes, no = row[:10]
    assert (date.value, date.is_date, date.number_format) == (
        dt.datetime(2024, 2, 29),
        True,
        "yyyy-mm-dd",
    )
    assert (moment.value, moment.number_format) == (
        dt.datetime(2024, 2, 29, 13, 45),
        "yyyy-mm-dd hh:mm",
    )
    assert (clock.value, clock.number_format) == (dt.time(8, 30), "hh:mm")
    assert (other_date.value, other_date.number_format) == (dt.datetime(2024, 3, 1), "dd/mm/yyyy")
    assert (amount.data_type, amount.value, amount.number_format) == ("n", 1234.56, "0.00")
    assert (small.data_type, small.value) == ("n", -0.1)
    assert (whole.value, whole.number_format) == (42, "0")
    assert real.value == 1.5
    assert (yes.data_type, yes.value, no.value, no.number_format) == ("b", True, False, "General")
    empty, cjk, other, *texts = row[10:]
    assert empty.value is None
    assert (cjk.data_type, cjk.value) == ("s", "重症监护室 ICU")
    assert (other.data_type, other.value) == ("s", str(uuid.UUID(int=7)))
    for cell, text in zip(texts, FORMULA_LOOKING, strict=True):
        assert (cell.data_type, cell.value) == ("s", text)  # text, never a formula


def test_sheet_rows_write_what_the_cell_writer_writes(tmp_path):
    """The learnt direct calls give the same XML as the writer, cell by cell,
    also when a column's type changes after its first value."""
    formats = ["0", "0.00", None, None, "yyyy-mm-dd hh:mm", None]
    lines = [
        [1, Decimal("1.50"), "=1+1", dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4), None],
        [2, None, "text", None, None, True],
        [3.5, Decimal("-2"), 7, dt.datetime(2024, 5, 6, 7, 8), None, "mixed"],
        [None, Decimal("0.01"), uuid.UUID(int=1), dt.time(9, 15), dt.date(2024, 1, 1), False],
    ]

    def by_rows(cells, sheet):
        rows = SheetRows(cells, sheet, formats, first_row=1)
        rows.write(lines[:2])
        rows.write(lines[2:])
        assert rows.row == 1 + len(lines)

    def by_cells(cells, sheet):
        for row, line in enumerate(lines, start=1):
            for col, value in enumerate(line):
                cells.write(sheet, row, col, value, formats[col])

    _sheet, rows_path = _written(tmp_path, by_rows)
    _sheet, cells_path = _written(tmp_path, by_cells)
    for part in ("xl/worksheets/sheet1.xml", "xl/styles.xml"):
        assert _part(rows_path, part) == _part(cells_path, part), part


def _part(path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def test_styles_and_formats_are_made_once(tmp_path):
    highlight = (("bg_color", "#FFC7CE"),)

    def write(cells, sheet):
        assert cells.format() is None
        assert cells.format("0.00") is cells.format("0.00")
        assert cells.format("0.00", highlight) is not cells.format("0.00")
        assert cells.writer("0") is cells.writer("0")
        cells.write(sheet, 0, 0, None, style=highlight)  # a blank that shows the style
        cells.write(sheet, 0, 1, Decimal("2.5"), "0.00", highlight)
        cells.write(sheet, 0, 2, dt.date(2024, 1, 1), None, highlight)
        cells.write(sheet, 0, 3, None)  # nothing at all

    sheet, _path = _written(tmp_path, write, constant_memory=False)
    blank, amount, date = sheet["A1"], sheet["B1"], sheet["C1"]
    for cell in (blank, amount, date):
        assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert blank.value is None
    assert (amount.value, amount.number_format) == (2.5, "0.00")
    assert (date.is_date, date.number_format) == (True, "yyyy-mm-dd")
    assert sheet.max_column == 3


def test_error_workbook_writes_cells_through_the_cell_writer(tmp_path):
    """Decimals are numbers there too (the error workbook had no Decimal branch),
    bad cells keep their type and number format, text stays text."""
    source = SheetData(
        "Data",
        [
            ["Code", "Amount", "Day", "Note"],
            ["A1", Decimal("12.50"), dt.date(2024, 2, 1), "=1+1"],
            ["A2", Decimal("3"), dt.datetime(2024, 2, 1, 8, 0), None],
        ],
    )
    errors = [
        CellError("Data", 2, "B", "Amount", "too large"),
        CellError("Data", 3, "D", "Note", "required"),
    ]
    path = write_error_workbook(source, [0], 1, errors, tmp_path / "errors.xlsx")
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in sheet[1]] == ["Code", "Amount", "Day", "Note", "errors"]
    amount, day, note = sheet["B2"], sheet["C2"], sheet["D2"]
    assert (amount.data_type, amount.value) == ("n", 12.5)
    assert amount.fill.fgColor.rgb.endswith(dict(BAD)["bg_color"].lstrip("#"))
    assert (day.is_date, day.number_format) == (True, "yyyy-mm-dd")
    assert (note.data_type, note.value) == ("s", "=1+1")
    assert sheet["C3"].number_format == "yyyy-mm-dd hh:mm"
    blank = sheet["D3"]  # an empty bad cell is highlighted all the same
    assert blank.value is None and blank.fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet["E2"].value == "Amount: too large"
