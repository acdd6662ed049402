"""Typed cells in an xlsxwriter workbook: the one place a value becomes a cell.

Export rows and subtable sheets, error workbooks and import templates all write
their cells here, so a value is written the same way wherever it goes:

- text with ``write_string``, always: never a formula, a link or a number, whatever
  it starts with (``=``, ``+``, ``-``, ``@``... — see ``common.DANGEROUS_PREFIXES``);
  every workbook is opened with :data:`SAFE_OPTIONS` too, so no other call turns
  text into a formula either;
- ``int``, ``float`` and ``Decimal`` as numbers in the column's number format;
- ``bool`` as a boolean;
- ``date``, ``datetime`` and ``time`` as Excel serial dates in the column's number
  format, or the kind's default (``common.DEFAULT_FORMATS``) when it names none;
- ``None`` as nothing (or a blank cell that carries a style, such as a highlight);
- anything else as its ``str`` text.

A :class:`Cells` belongs to one workbook and adds each (number format, style) once.
:meth:`Cells.writer` returns the writer of one column, its formats looked up when
it is made. :class:`SheetRows` writes many rows into one sheet (an export's pages):
each column learns the type of its first value and from then on sends values of
that type straight to xlsxwriter's typed call (``write_string``, ``write_number``…)
with the format chosen for it, so a cell of a million-row export costs one type
test and one xlsxwriter call; a value of another type goes through the column's
full writer, written just as correctly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from runtime.services.excel.common import DEFAULT_FORMATS

#: Workbook options that keep text as text: no formulas, links or numbers from strings.
SAFE_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}

#: A cell style beside its number format, as xlsxwriter format properties in a
#: hashable form: ``(("bg_color", "#FFC7CE"), ("font_color", "#9C0006"))``.
Style = tuple[tuple[str, Any], ...]

#: Writes one value at (row, col) of a worksheet.
CellWrite = Callable[[Any, int, int, Any], None]

#: How a value of each type becomes a cell: the worksheet's typed call, and what
#: the value is turned into first (``None``: nothing). Text is ``write_string``
#: always, never ``write``/``write_formula``.
CALLS: dict[type, tuple[str, Callable[[Any], Any] | None]] = {
    str: ("write_string", None),
    bool: ("write_boolean", None),
    int: ("write_number", None),
    float: ("write_number", None),
    Decimal: ("write_number", float),
    dt.date: ("write_datetime", None),
    dt.datetime: ("write_datetime", None),
    dt.time: ("write_datetime", None),
}

#: Value types written as numbers, in the column's number format.
NUMBERS = frozenset({int, float, Decimal})

#: Per value type: (the typed call's name, the conversion, the cell format).
_Plan = dict[type, tuple[str, Callable[[Any], Any] | None, Any]]


def open_workbook(target: Any, *, constant_memory: bool = False) -> Any:
    """An xlsxwriter workbook on ``target`` (a path or a file) that keeps text as text."""
    import xlsxwriter

    options = {**SAFE_OPTIONS, "constant_memory": constant_memory}
    return xlsxwriter.Workbook(target, options)


class Cells:
    """Writes typed values into the sheets of one workbook; formats added once."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self._formats: dict[tuple[str | None, Style | None], Any] = {}
        self._plans: dict[tuple[str | None, Style | None], _Plan] = {}
        self._writers: dict[tuple[str | None, Style | None], CellWrite] = {}

    def format(self, number_format: str | None = None, style: Style | None = None) -> Any:
        """The workbook's format for a number format and a style (None: no format)."""
        if number_format is None and not style:
            return None
        key = (number_format, style)
        made = self._formats.get(key)
        if made is None:
            properties = dict(style or ())
            if number_format is not None:
                properties["num_format"] = number_format
            made = self._formats[key] = self.book.add_format(properties)
        return made

    def cell_format(self, kind: type, number_format: str | None, style: Style | None) -> Any:
        """The format of a ``kind`` value in a column in ``number_format``: numbers
        take it, dates take it or their kind's default, text and booleans none."""
        if kind in DEFAULT_FORMATS:
            return self.format(number_format or DEFAULT_FORMATS[kind], style)
        if kind in NUMBERS:
            return self.format(number_format, style)
        return self.format(None, style)

    def plan(self, number_format: str | None = None, style: Style | None = None) -> _Plan:
        """How each value type is written in a column in ``number_format`` (and ``style``)."""
        key = (number_format, style)
        made = self._plans.get(key)
        if made is None:
            made = self._plans[key] = {
                kind: (name, convert, self.cell_format(kind, number_format, style))
                for kind, (name, convert) in CALLS.items()
            }
        return made

    def writer(self, number_format: str | None = None, style: Style | None = None) -> CellWrite:
        """The writer of a column in ``number_format`` (and ``style``), made once."""
        key = (number_format, style)
        made = self._writers.get(key)
        if made is None:
            made = self._writers[key] = self._make_writer(number_format, style)
        return made

    def write(
        self,
        sheet: Any,
        row: int,
        col: int,
        value: Any,
        number_format: str | None = None,
        style: Style | None = None,
    ) -> None:
        """One cell: :meth:`writer` for a single value."""
        self.writer(number_format, style)(sheet, row, col, value)

    def _make_writer(self, number_format: str | None, style: Style | None) -> CellWrite:
        plan = self.plan(number_format, style)
        plain = self.format(None, style)  # blanks and the text of other values

        def write(sheet: Any, row: int, col: int, value: Any) -> None:
            entry = plan.get(type(value))
            if entry is not None:
                name, convert, cell_format = entry
                if convert is not None:
                    value = convert(value)
                getattr(sheet, name)(row, col, value, cell_format)
            elif value is None:
                if plain is not None:
                    sheet.write_blank(row, col, None, plain)
            else:
                sheet.write_string(row, col, str(value), plain)

        return write


class SheetRows:
    """Rows of values written into one sheet below ``first_row``, a writer per column."""

    def __init__(
        self, cells: Cells, sheet: Any, number_formats: Sequence[str | None], first_row: int = 0
    ) -> None:
        self.sheet = sheet
        self.row = first_row
        self._plans = [cells.plan(number_format) for number_format in number_formats]
        self._writers = [cells.writer(number_format) for number_format in number_formats]
        #: Per column: (the type it learnt, the worksheet call for it, its format).
        self._direct: list[tuple[type, Callable[..., Any], Any]] = [
            (_NoneType, _never, None) for _ in number_formats
        ]

    def write(self, lines: Iterable[Sequence[Any]]) -> None:
        """Write ``lines`` (a value per column; ``None`` leaves the cell empty)."""
        sheet, row, direct, writers = self.sheet, self.row, self._direct, self._writers
        for line in lines:
            for col, value in enumerate(line):
                if value is None:
                    continue
                kind, call, cell_format = direct[col]
                if type(value) is kind:
                    call(row, col, value, cell_format)
                else:
                    writers[col](sheet, row, col, value)
                    if kind is _NoneType:
                        direct[col] = self._learn(col, type(value))
            row += 1
        self.row = row

    def _learn(self, col: int, kind: type) -> tuple[type, Callable[..., Any], Any]:
        """The direct call for ``kind`` values in column ``col``: the typed worksheet
        call of the column's plan (after its conversion: Decimal to float), or for
        a type without one, the column's writer."""
        entry = self._plans[col].get(kind)
        if entry is None:  # a type without its own call: the text the writer makes of it
            write, sheet = self._writers[col], self.sheet

            def written(row: int, col: int, value: Any, _cell_format: Any) -> None:
                write(sheet, row, col, value)

            return kind, written, None
        name, convert, cell_format = entry
        typed = getattr(self.sheet, name)
        if convert is None:
            return kind, typed, cell_format

        def converted(row: int, col: int, value: Any, cell_format: Any) -> None:
            typed(row, col, convert(value), cell_format)

        return kind, converted, cell_format


_NoneType = type(None)


def _never(*_args: Any) -> None:  # pragma: no cover - a None value is skipped before
    raise AssertionError("no value is written directly before its column learnt its type")
