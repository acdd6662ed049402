"""One-sheet .xlsx exports through rustpy-xlsxwriter, when its wheel is installed.

rustpy-xlsxwriter binds the Rust ``rust_xlsxwriter``: it writes the same cells
several times faster than xlsxwriter, in constant memory. :func:`rust_writer`
gives the module, or ``None`` when the wheel is missing (a platform without one):
the export then writes with xlsxwriter, as it does for every export this writer
cannot take (:func:`takes`): subtables on their own sheets (it writes a sheet
from one iterator, start to end) and repeated column labels (its rows are dicts
keyed by header).

Cells are what :mod:`runtime.services.excel.cells` writes: values pass through
``cells.cell_value`` (a Decimal as a float, a time as its fraction of a day, text
cut to Excel's limit), and each column gets one number format
(``cells.column_number_format``). Text is written as text: the writer has no
formula conversion of strings (``=1+1`` stays the text ``=1+1``).

The writer pulls its rows from an iterator, so it runs on a worker thread fed a
page at a time through a small queue: the export stays a generator of ``Progress``
that reads the database on the caller's thread, and closing it stops the writer.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from runtime.services.excel.cells import (
    AS_IS,
    Cells,
    cell_value,
    column_number_format,
    open_workbook,
)
from runtime.services.excel.common import sheet_title, sibling_temp

#: Pages waiting for the writer: bounds the memory the two threads hold between them.
QUEUE_PAGES = 4
#: The header's look, as the xlsxwriter export draws it.
HEADER_FILL = "#DDEBF7"

_DONE = object()
_CANCEL = object()


class Cancelled(Exception):
    """Raised inside the writer's row iterator to stop it (the export was closed)."""


def rust_writer() -> Any:
    """The ``rustpy_xlsxwriter`` module, or ``None`` when it is not installed."""
    try:
        import rustpy_xlsxwriter
    except ImportError:
        return None
    return rustpy_xlsxwriter


def takes(labels: Sequence[str], sheets: int) -> bool:
    """Whether this writer can write an export of ``sheets`` sheets with ``labels``."""
    return sheets == 1 and len(set(labels)) == len(labels) and rust_writer() is not None


class RustXlsxOut:
    """One sheet written by rustpy-xlsxwriter on a worker thread, a page at a time.

    The same surface as the export's xlsxwriter output: ``add_part`` (once),
    ``set_widths``, ``write`` (pages of lines), ``commit``, ``temp_paths``, ``close``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.temp = sibling_temp(path)
        self.module = rust_writer()
        self.title = ""
        self.labels: list[str] = []
        self.number_formats: list[str | None] = []
        self.widths: list[float] | None = None
        self.pages: queue.Queue = queue.Queue(maxsize=QUEUE_PAGES)
        self.thread: threading.Thread | None = None
        self.failure: BaseException | None = None

    def add_part(self, title: str, columns: Sequence[Any]) -> int:
        self.title = sheet_title(title)
        self.labels = [column.label for column in columns]
        self.number_formats = [column.number_format() for column in columns]
        return 0

    def set_widths(self, part: int, widths: list[int]) -> None:
        self.widths = [float(width) for width in widths]

    def write(self, part: int, lines: Sequence[Sequence[Any]]) -> None:
        if not lines:
            return
        if self.thread is None:
            self._start(lines)
        self._put(lines)

    def commit(self) -> list[str]:
        if self.thread is None:  # no rows: the header alone, as xlsxwriter writes it
            self._write_header_only()
        else:
            self._put(_DONE)
            self.thread.join()
            if self.failure is not None:
                raise self.failure
        os.replace(self.temp, self.path)
        return [self.title]

    def temp_paths(self) -> list[Path]:
        self.close()
        return [self.temp]

    def close(self) -> None:
        """Stop the writer if it still runs (a cancelled or failed export)."""
        if self.thread is not None and self.thread.is_alive():
            self._put(_CANCEL)
            self.thread.join()

    # -- the worker ----------------------------------------------------------------
    def _start(self, first: Sequence[Sequence[Any]]) -> None:
        formats = [
            column_number_format(number_format, (line[col] for line in first))
            for col, number_format in enumerate(self.number_formats)
        ]
        self.thread = threading.Thread(
            target=self._run, args=(formats,), name="xlsx-writer", daemon=True
        )
        self.thread.start()

    def _put(self, item: Any) -> None:
        """Hand a page (or an end) to the writer, unless it has stopped already."""
        while self.thread is not None and self.thread.is_alive():
            try:
                self.pages.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        if item is not _CANCEL and self.failure is not None:
            raise self.failure

    def _rows(self) -> Iterator[dict[str, Any]]:
        labels = self.labels
        while True:
            page = self.pages.get()
            if page is _DONE:
                return
            if page is _CANCEL:
                raise Cancelled
            for line in page:
                yield dict(
                    zip(
                        labels,
                        [value if type(value) in AS_IS else cell_value(value) for value in line],
                        strict=True,
                    )
                )

    def _run(self, formats: list[str | None]) -> None:
        module = self.module
        column_formats = [
            None if number_format is None else module.Format().set_num_format(number_format)
            for number_format in formats
        ]
        try:
            module.write_worksheet(
                self._rows(),
                str(self.temp),
                sheet_name=self.title,
                freeze_row=1,
                column_widths=self.widths,
                column_formats=column_formats,
                header_format=module.Format().set_bold().set_background_color(HEADER_FILL),
                datetime_format="yyyy-mm-dd hh:mm",
            )
        except BaseException as error:  # raised again on the caller's thread (commit)
            self.failure = error
            while True:  # drain, so that a producer waiting on a full queue goes on
                try:
                    self.pages.get_nowait()
                except queue.Empty:
                    break

    def _write_header_only(self) -> None:
        book = open_workbook(str(self.temp))
        sheet = book.add_worksheet(self.title)
        header = Cells(book).format(style=(("bold", True), ("bg_color", HEADER_FILL)))
        for col, label in enumerate(self.labels):
            sheet.write_string(0, col, label, header)
            if self.widths:
                sheet.set_column(col, col, self.widths[col])
        sheet.freeze_panes(1, 0)
        book.close()
