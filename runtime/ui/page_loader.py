"""Loads the pages and the count of a record list on worker threads.

Reaching a far page: the service pages by keyset cursor, so a page needs the cursor
just before its first row. The loader remembers the cursor at the start of every
page after one it has read (that page's end); for any other page it asks the
service (``cursor_at``: one narrow query over the sort index), so row 500,000 is
one small query plus one page read away, never a walk from the top.

Order of work: the first page, then the count. The count starts a moment after the
first page has landed, once the view has painted it: a worker running Python while
the GUI thread paints slows the paint down (both need the GIL).

Stale work never blocks new work: each query gets its own worker threads (a
:class:`_Session`). A new query retires the old session: its queued tasks are
dropped, a read already running finishes on its own thread and is ignored. Page
reads run newest request first (the user scrolled there); a request that scrolled
out of view before it started is skipped.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from runtime.store.query import Cursor
from runtime.ui.record_source import LoadedPage, RecordSource

PAGE_SIZE = 100
#: How many of the latest requests count as "still wanted".
WANTED = 40
#: Delay between the first page landing and the count starting (see module doc).
COUNT_DELAY_MS = 30


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


class _Session:
    """One query's worker threads and what is known about its page starts."""

    def __init__(self, generation: int, source: RecordSource, parent: QObject) -> None:
        self.generation = generation
        self.source = source
        self.pages = _one_thread_pool(parent)
        self.side = _one_thread_pool(parent)  # the count: never queued behind page reads
        self.count_scheduled = False
        self._lock = threading.Lock()
        self._starts: dict[int, Cursor | None] = {0: None}
        self._wanted: deque[int] = deque(maxlen=WANTED)

    @property
    def pools(self) -> tuple[QThreadPool, QThreadPool]:
        return self.pages, self.side

    def want(self, page: int) -> None:
        with self._lock:
            self._wanted.append(page)

    def still_wanted(self, page: int) -> bool:
        with self._lock:
            return page in self._wanted

    def start_of(self, page: int) -> tuple[bool, Cursor | None]:
        """(known, cursor just before the page's first row)."""
        with self._lock:
            return page in self._starts, self._starts.get(page)

    def remember(self, page: int, start: Cursor | None, end: Cursor | None) -> None:
        with self._lock:
            self._starts[page] = start
            if end is not None:
                self._starts[page + 1] = end

    def stop(self) -> None:
        """Drop queued work; a task already running finishes and is ignored."""
        for pool in self.pools:
            pool.clear()

    def idle(self) -> bool:
        return all(pool.activeThreadCount() == 0 for pool in self.pools)


def _one_thread_pool(parent: QObject) -> QThreadPool:
    pool = QThreadPool(parent)
    pool.setMaxThreadCount(1)
    return pool


class PageLoader(QObject):
    """Asynchronous reads of one :class:`RecordSource` at a time."""

    page_loaded = Signal(int, object)  # page index, LoadedPage
    page_skipped = Signal(int)
    counted = Signal(int)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._relay = _Relay(self)
        self._relay.page.connect(self._on_page)
        self._relay.count.connect(self._on_count)
        self._relay.failed.connect(self._on_failed)
        self._generation = 0
        self._session: _Session | None = None
        self._retired: list[_Session] = []
        self._priority = 0

    # -- GUI side -----------------------------------------------------------
    def set_source(self, source: RecordSource) -> None:
        """Forget the previous query; read this one (its count follows its first page)."""
        self._retire()
        self._generation += 1
        self._session = _Session(self._generation, source, self)

    def request(self, page: int) -> None:
        """Load a page soon; the caller avoids asking twice for one in flight."""
        session = self._session
        if session is None:
            return
        session.want(page)
        self._priority += 1
        session.pages.start(_Task(lambda: self._load(session, page)), self._priority)

    def wait(self, msecs: int = 5000) -> bool:
        """Block until every worker is done (closing, tests)."""
        sessions = [*self._retired, *([self._session] if self._session else [])]
        return all(pool.waitForDone(msecs) for s in sessions for pool in s.pools)

    def shutdown(self) -> None:
        self._retire()
        self._generation += 1
        self.wait()

    def _retire(self) -> None:
        """Stop the current session; delete retired ones whose threads are idle."""
        if self._session is not None:
            self._session.stop()
            self._retired.append(self._session)
            self._session = None
        for session in [s for s in self._retired if s.idle()]:
            self._retired.remove(session)
            for pool in session.pools:
                pool.deleteLater()

    def _current(self, generation: int) -> _Session | None:
        session = self._session
        return session if session is not None and session.generation == generation else None

    def _on_page(self, generation: int, page: int, loaded: LoadedPage | None) -> None:
        session = self._current(generation)
        if session is None:
            return
        if loaded is None:
            self.page_skipped.emit(page)
        else:
            self.page_loaded.emit(page, loaded)
        if not session.count_scheduled:
            session.count_scheduled = True
            QTimer.singleShot(COUNT_DELAY_MS, self, lambda: self._start_count(generation))

    def _start_count(self, generation: int) -> None:
        session = self._current(generation)
        if session is not None:
            session.side.start(_Task(lambda: self._count(session)))

    def _on_count(self, generation: int, count: int) -> None:
        if self._current(generation) is not None:
            self.counted.emit(count)

    def _on_failed(self, generation: int, message: str) -> None:
        if self._current(generation) is not None:
            self.failed.emit(message)

    # -- worker side ----------------------------------------------------------
    def _count(self, session: _Session) -> None:
        try:
            self._relay.count.emit(session.generation, session.source.count())
        except Exception as error:  # reported in the list's status line
            self._relay.failed.emit(session.generation, str(error))

    def _load(self, session: _Session, page: int) -> None:
        if not session.still_wanted(page):
            self._relay.page.emit(session.generation, page, None)
            return
        try:
            loaded = self._read(session, page)
        except Exception as error:
            self._relay.failed.emit(session.generation, str(error))
            loaded = None
        self._relay.page.emit(session.generation, page, loaded)

    @staticmethod
    def _read(session: _Session, page: int) -> LoadedPage:
        """Read a page from its known start, else from where the service locates it."""
        known, start = session.start_of(page)
        if not known:
            start = session.source.cursor_at(page * PAGE_SIZE)
            if start is None:
                return LoadedPage([], None)  # the page is past the end
        loaded = session.source.load(start, PAGE_SIZE)
        session.remember(page, start, loaded.next_cursor)
        return loaded
