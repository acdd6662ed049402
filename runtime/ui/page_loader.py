"""Loads pages, the count and the anchors of a record list on worker threads.

Why anchors: the service pages by keyset cursor, so reaching row 500,000 needs
the cursor just before it. The loader remembers the cursor at the start of every
page it has seen, plus an "anchor" cursor every 1,000 rows computed once per
query; a far page is then at most nine page reads away from a known start.

Pages run on a one-thread pool, newest request first (the user scrolled there);
a request that scrolled out of view before it started is skipped. A new query
bumps the generation: queued work is cleared and late results are dropped.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from runtime.store.query import Cursor
from runtime.store.repository import Record
from runtime.ui.record_source import LoadedPage, RecordSource

PAGE_SIZE = 100
ANCHOR_EVERY = 1000
#: At most this many pages are read in one step while walking to a far page.
WALK_STEP = ANCHOR_EVERY // PAGE_SIZE
#: How many of the latest requests count as "still wanted".
WANTED = 40


class _Task(QRunnable):
    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self.work = work

    def run(self) -> None:
        # RuntimeError: the loader was deleted while this ran, so nobody is listening.
        with contextlib.suppress(RuntimeError):
            self.work()


class _Relay(QObject):
    """Carries worker results to the GUI thread (queued connections)."""

    page = Signal(int, int, object)  # generation, page index, LoadedPage | None (skipped)
    count = Signal(int, int)  # generation, count
    failed = Signal(int, str)


class PageLoader(QObject):
    """Asynchronous reads of one :class:`RecordSource` at a time."""

    page_loaded = Signal(int, object)  # page index, LoadedPage
    page_skipped = Signal(int)
    counted = Signal(int)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pages = QThreadPool(self)
        self._pages.setMaxThreadCount(1)
        self._side = QThreadPool(self)  # count, then anchors: never behind page reads
        self._side.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.page.connect(self._on_page)
        self._relay.count.connect(self._on_count)
        self._relay.failed.connect(self._on_failed)
        self._lock = threading.Lock()
        self._generation = 0
        self._source: RecordSource | None = None
        self._starts: dict[int, Cursor | None] = {0: None}
        self._wanted: deque[int] = deque(maxlen=WANTED)
        self._priority = 0

    # -- GUI side -----------------------------------------------------------
    def set_source(self, source: RecordSource) -> None:
        """Forget everything about the previous query and count the new one."""
        self._pages.clear()
        self._side.clear()
        with self._lock:
            self._generation += 1
            self._starts = {0: None}
            self._wanted.clear()
        self._source = source
        generation = self._generation
        self._side.start(_Task(lambda: self._count(generation, source)))

    def request(self, page: int) -> None:
        """Load a page soon; the caller avoids asking twice for one in flight."""
        if self._source is None:
            return
        with self._lock:
            self._wanted.append(page)
        self._priority += 1
        generation, source = self._generation, self._source
        self._pages.start(_Task(lambda: self._load(generation, source, page)), self._priority)

    def wait(self, msecs: int = 5000) -> bool:
        """Block until queued work is done (closing, tests)."""
        return self._pages.waitForDone(msecs) and self._side.waitForDone(msecs)

    def shutdown(self) -> None:
        self._pages.clear()
        self._side.clear()
        with self._lock:
            self._generation += 1
        self.wait()

    def _on_page(self, generation: int, page: int, loaded: LoadedPage | None) -> None:
        if generation != self._generation:
            return
        if loaded is None:
            self.page_skipped.emit(page)
        else:
            self.page_loaded.emit(page, loaded)

    def _on_count(self, generation: int, count: int) -> None:
        if generation == self._generation:
            self.counted.emit(count)

    def _on_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.failed.emit(message)

    # -- worker side ----------------------------------------------------------
    def _count(self, generation: int, source: RecordSource) -> None:
        try:
            count = source.count()
            self._relay.count.emit(generation, count)
            if count > 2 * ANCHOR_EVERY and generation == self._generation:
                self._remember_anchors(generation, source.anchors(ANCHOR_EVERY))
        except Exception as error:  # reported in the list's status line
            self._relay.failed.emit(generation, str(error))

    def _remember_anchors(self, generation: int, anchors: list[Cursor]) -> None:
        with self._lock:
            if generation != self._generation:
                return
            for index, cursor in enumerate(anchors):
                self._starts[(index + 1) * ANCHOR_EVERY // PAGE_SIZE] = cursor

    def _load(self, generation: int, source: RecordSource, page: int) -> None:
        if not self._still_wanted(generation, page):
            self._relay.page.emit(generation, page, None)
            return
        try:
            self._relay.page.emit(generation, page, self._walk_to(generation, source, page))
        except Exception as error:
            self._relay.failed.emit(generation, str(error))
            self._relay.page.emit(generation, page, None)

    def _still_wanted(self, generation: int, page: int) -> bool:
        with self._lock:
            return generation == self._generation and page in self._wanted

    def _walk_to(self, generation: int, source: RecordSource, page: int) -> LoadedPage:
        """Read forward from the nearest known page start, remembering starts on the way."""
        start, cursor = self._nearest_start(page)
        while start < page:
            step = min(page - start, WALK_STEP)
            records, next_cursor = source.read(cursor, step * PAGE_SIZE)
            self._remember_starts(generation, source, start, records)
            if next_cursor is None:
                return LoadedPage([], None)  # the page is past the end
            start, cursor = start + step, next_cursor
        loaded = source.load(cursor, PAGE_SIZE)
        if loaded.next_cursor is not None:
            with self._lock:
                if generation == self._generation:
                    self._starts[page + 1] = loaded.next_cursor
        return loaded

    def _nearest_start(self, page: int) -> tuple[int, Cursor | None]:
        with self._lock:
            best = max(known for known in self._starts if known <= page)
            return best, self._starts[best]

    def _remember_starts(
        self, generation: int, source: RecordSource, start: int, records: list[Record]
    ) -> None:
        with self._lock:
            if generation != self._generation:
                return
            for offset in range(1, len(records) // PAGE_SIZE + 1):
                last = records[offset * PAGE_SIZE - 1]
                self._starts[start + offset] = source.cursor_of(last)
