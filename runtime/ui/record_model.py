"""The record table model: an adapter that pages through the record service.

Nothing is read on the GUI thread: the pages, the count and the position marks
(which make far jumps short; ``indexed``) are read by a :class:`PageLoader` on
worker threads. Rows not loaded yet ask for their page; loaded pages stay in a small
LRU cache, so a list of a million rows costs the memory of a few thousand.

When the view asks for a page while no other page is being read (a jump, a scroll
to a new place), the model waits up to ``ARRIVAL_WAIT_MS`` for the worker, once per
page: a page read by key takes a few milliseconds, so the rows are painted in this
frame, instead of a frame of "…" now and the rows in the next (that frame costs as
much as the read, and a paint running Python slows the worker down: both need the
GIL). A page that takes longer shows "…" until it arrives. Only the view's requests
wait (``data``); ``row`` and ``record_id`` for code never do.

Reading starts on the next turn of the event loop after the columns or the query
change, so a burst of changes (building a list page sets its saved view right
after creating the model) costs one read of the final query, not one per change.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor

from runtime.services.query import RecordQuery, Sort
from runtime.spec.models import FormSpec
from runtime.ui.i18n import tr
from runtime.ui.page_loader import PAGE_SIZE, PageLoader
from runtime.ui.record_source import Column, LoadedPage, RecordSource, Row, list_columns
from runtime.ui.services import UiServices

PLACEHOLDER = "…"
#: Pages kept in memory (100 rows each).
CACHE_PAGES = 120
#: How long the view may wait for a page it asked for (under one 60 Hz frame).
ARRIVAL_WAIT_MS = 12
RECORD_ID_ROLE = Qt.ItemDataRole.UserRole + 1
PLACEHOLDER_COLOR = QColor("#9e9e9e")
Index = QModelIndex | QPersistentModelIndex
# Plain ints: data() is called several times per painted cell, so it compares ints.
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
_RECORD_ID = int(RECORD_ID_ROLE)
_SERVED_ROLES = frozenset({_DISPLAY, _TOOLTIP, _FOREGROUND, _RECORD_ID})


class RecordTableModel(QAbstractTableModel):
    """The records of one form for one :class:`RecordQuery`, in visible columns."""

    #: The exact number of matching records, once counted.
    count_changed = Signal(int)
    #: The position marks are in: a jump anywhere now skips only a few pages.
    indexed_changed = Signal(bool)
    load_failed = Signal(str)

    def __init__(
        self,
        services: UiServices,
        form: FormSpec,
        parent: QObject | None = None,
        *,
        paused: bool = False,
    ) -> None:
        """``paused``: read nothing until :meth:`resume` (a list page resumes once it
        has painted, so its window's first paint does not share the GIL with a read)."""
        super().__init__(parent)
        self.services = services
        self._paused = paused
        self.form = form
        self.all_columns = list_columns(form, services.registry)
        self.columns = [c for c in self.all_columns if c.spec is not None][:8]
        self._query = RecordQuery()
        self._rows = 0
        self._count: int | None = None
        self._indexed = False
        self._pages: OrderedDict[int, LoadedPage] = OrderedDict()
        self._hot: tuple[int, list[Row]] = (-1, [])  # the page data() last read
        self._in_flight: set[int] = set()
        self._waited: set[int] = set()  # pages the view has waited for (see _fetch)
        self.loader = PageLoader(self)
        self.loader.page_loaded.connect(self._on_page)
        self.loader.page_skipped.connect(self._on_skipped)
        self.loader.counted.connect(self._on_count)
        self.loader.indexed.connect(self._on_indexed)
        self.loader.failed.connect(self.load_failed)
        self._start_timer = QTimer(self, singleShot=True, interval=0)
        self._start_timer.timeout.connect(self._start_now)
        self._start()

    # -- what to show ---------------------------------------------------------
    @property
    def query(self) -> RecordQuery:
        return self._query

    @property
    def count(self) -> int | None:
        """The exact count, or None while it is being counted."""
        return self._count

    @property
    def indexed(self) -> bool:
        """Whether the current read has its position marks (see PageLoader)."""
        return self._indexed

    def set_query(self, query: RecordQuery) -> None:
        self.beginResetModel()
        self._query = query
        self._rows, self._count = 0, None
        self._start()
        self.endResetModel()

    def set_columns(self, keys: list[str], query: RecordQuery | None = None) -> None:
        """Show these columns (unknown keys are ignored) in this order, and maybe a query."""
        by_key = {column.key: column for column in self.all_columns}
        self.beginResetModel()
        self.columns = [by_key[key] for key in keys if key in by_key]
        if query is not None:
            self._query = query
            self._rows, self._count = 0, None
        self._start()
        self.endResetModel()

    def column_keys(self) -> list[str]:
        return [column.key for column in self.columns]

    def refresh(self) -> None:
        """Re-read everything, keeping the row count until the new count arrives."""
        self._start()

    def _start(self) -> None:
        """Forget the loaded pages and read again on the next event-loop turn."""
        self._pages.clear()
        self._hot = (-1, [])
        self._in_flight.clear()
        self._waited.clear()
        self._indexed = False
        self._start_timer.start()

    def resume(self) -> None:
        """Start reading, if the model was made ``paused``."""
        if self._paused:
            self._paused = False
            self._start_timer.start()

    def _start_now(self) -> None:
        if self._paused:
            return
        self.loader.set_source(self.source())
        self._request(0)
        if self._rows and self.columns:  # refresh: the view asks for its rows again
            last = self.index(self._rows - 1, len(self.columns) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def source(self) -> RecordSource:
        """A reader of the list as shown (query, columns, user), for worker threads."""
        services = self.services
        return RecordSource(
            services.records,
            services.actor,
            self.form,
            self.columns,
            self._query,
            services.references,
        )

    # -- Qt model -------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        """Cheap on purpose: the view asks ~7 roles per painted cell, this serves 4."""
        if role not in _SERVED_ROLES or not index.isValid():
            return None
        row = self.row(index.row(), True)
        if row is None:
            if role == _FOREGROUND:
                return PLACEHOLDER_COLOR
            return PLACEHOLDER if role != _RECORD_ID else None
        if role == _RECORD_ID:
            return row.id
        return None if role == _FOREGROUND else row.texts[index.column()]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return column_title(self.columns[section]) if section < len(self.columns) else None
        return str(section + 1)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by one column (ties by id): a new query, read from the start."""
        if not 0 <= column < len(self.columns):
            return
        desc = order == Qt.SortOrder.DescendingOrder
        sort = Sort(self.columns[column].key, desc)
        if sort != self._query.sort:
            self.set_query(replace(self._query, sort=sort))

    # -- rows -----------------------------------------------------------------
    def row(self, number: int, for_view: bool = False) -> Row | None:
        """The loaded row, or None (its page is requested). ``for_view``: the view is
        painting it, so its page may be waited for a moment (see module doc)."""
        page_number, offset = divmod(number, PAGE_SIZE)
        hot_number, rows = self._hot
        if page_number != hot_number:
            page = self._pages.get(page_number)
            if page is None:
                page = self._fetch(page_number, for_view)
                if page is None:
                    return None
            self._pages.move_to_end(page_number)
            rows = page.rows
            self._hot = (page_number, rows)
        return rows[offset] if offset < len(rows) else None

    def loaded_ids(self, first: int, last: int) -> list[int] | None:
        """The ids of rows ``first``…``last`` if all their pages are loaded, else
        None (nothing is requested)."""
        pages = range(first // PAGE_SIZE, last // PAGE_SIZE + 1)
        if any(page not in self._pages for page in pages):
            return None
        rows = [row for page in pages for row in self._pages[page].rows]
        start = first - pages[0] * PAGE_SIZE
        return [row.id for row in rows[start : start + last - first + 1]]

    def record_id(self, number: int) -> int | None:
        row = self.row(number)
        return None if row is None else row.id

    def column_of(self, key: str) -> int:
        return next((i for i, column in enumerate(self.columns) if column.key == key), -1)

    def _request(self, page: int) -> None:
        if self._paused or self._start_timer.isActive():
            return  # the read about to start asks for what the view shows
        if page not in self._in_flight:
            self._in_flight.add(page)
            self.loader.request(page)

    def _fetch(self, page: int, for_view: bool) -> LoadedPage | None:
        """Request a page; for the view, when no other page is being read, wait a
        moment for it (see module doc). A page is waited for once at most."""
        self._request(page)
        if not for_view or self._in_flight != {page} or page in self._waited:
            return None
        self._waited.add(page)
        loaded = self.loader.wait_for(page, ARRIVAL_WAIT_MS)
        if loaded is not None:
            self._in_flight.discard(page)  # its delivery follows; the next may wait too
            self._keep(page, loaded)
        return loaded

    def _keep(self, page: int, loaded: LoadedPage) -> None:
        self._pages[page] = loaded
        self._hot = (-1, [])
        while len(self._pages) > CACHE_PAGES:
            self._pages.popitem(last=False)

    def _on_skipped(self, page: int) -> None:
        self._in_flight.discard(page)
        self._waited.discard(page)

    def _on_page(self, page: int, loaded: LoadedPage) -> None:
        self._in_flight.discard(page)
        self._waited.discard(page)
        shown = self._pages.get(page) is loaded  # handed over by _fetch: the view has it
        self._keep(page, loaded)
        first = page * PAGE_SIZE
        if loaded.next_cursor is None:
            self._set_rows(first + len(loaded.rows))  # the last page: now we know exactly
        elif self._count is None:
            self._set_rows(max(self._rows, first + len(loaded.rows)))
        end = min(first + len(loaded.rows), self._rows) - 1
        if end >= first and self.columns and not shown:
            self.dataChanged.emit(self.index(first, 0), self.index(end, len(self.columns) - 1))

    def _on_count(self, count: int) -> None:
        self._count = count
        self._set_rows(count)
        self.count_changed.emit(count)

    def _on_indexed(self, _marks: int) -> None:
        self._indexed = True
        self.indexed_changed.emit(True)

    def _set_rows(self, rows: int) -> None:
        if rows > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, rows - 1)
            self._rows = rows
            self.endInsertRows()
        elif rows < self._rows:
            self.beginRemoveRows(QModelIndex(), rows, self._rows - 1)
            self._rows = rows
            self.endRemoveRows()


def column_title(column: Column) -> str:
    """A column's header: the app's own label, or a system column's in the UI language."""
    return column.label if column.spec is not None else tr(column.label)
