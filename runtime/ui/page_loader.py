"""Loads the pages, the count and the position marks of a record list on worker threads.

Reaching a far page: the service pages by keyset cursor, so a page needs the cursor
just before its first row. The loader keeps the page starts it knows: the top, the
start of every page it has read and of the page after it (that page's end), and the
position marks. A page read starts from the nearest known start at or before the
page and asks the service to skip the rows in between (``cursor_at``: one narrow
query over the sort index), so row 500,000 is never a walk from the top, and a page
near a loaded one or a mark is a skip of a few hundred rows.

Position marks: once the count is known, the same side task walks the sort index
once (``position_marks``: chained skips) and learns the start of every
``marks_every(count)`` rows — whole pages, at least ten, at most ~1,000 marks — so
from then on a jump skips fewer rows than that. The walk costs about two counts
(~0.12 s for 1,000,000 rows on SQLite), off the GUI thread.

Order of work: the first page, then the count, then the marks (``indexed`` says they
are in). The count starts a moment after the first page has landed, once the view
has painted it: a worker running Python while the GUI thread paints slows the paint
down (both need the GIL). The marks wait for the count: both are full passes, and
the count sizes the gap between marks.

A page a view is waiting for: the GUI thread may wait a moment for a page it just
asked for (``wait_for``) without holding the GIL, so the worker reads it at full
speed; the page is handed over directly, and its queued delivery follows as usual.

Stale work never blocks new work: each query gets its own worker threads (a
:class:`_Session`). A new query retires the old session: its queued tasks are
dropped, a walk of the index stops at its next step, and a read already running
finishes on its own thread and is ignored. Page reads run newest request first (the
user scrolled there); a request that scrolled out of view before it started is skipped.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import math
import threading
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from runtime.services.errors import database_problem_in
from runtime.services.query import Cursor
from runtime.ui.record_source import LoadedPage, RecordSource

PAGE_SIZE = 100
#: How many of the latest requests count as "still wanted".
WANTED = 40
#: Delay between the first page landing and the count starting (see module doc).
COUNT_DELAY_MS = 30
#: Position marks: at least this many pages apart, and at most about this many.
MARK_PAGES = 10
MOST_MARKS = 1000

log = logging.getLogger(__name__)


def marks_every(count: int) -> int:
    """Rows between two position marks for a list of ``count`` rows (whole pages)."""
    return max(MARK_PAGES, math.ceil(count / MOST_MARKS / PAGE_SIZE)) * PAGE_SIZE


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
    indexed = Signal(int, int)  # generation, number of position marks
    failed = Signal(int, str)


class _Session:
    """One query's worker threads and what is known about its page starts.

    Its workers report through its own ``relay``, made after its pools: a QObject's
    children die in the order they were made, and a pool's destructor waits for the
    task it runs, so the relay outlives every task that emits on it, even when the
    loader is deleted while a read or the walk of the index is still on.
    """

    def __init__(self, generation: int, source: RecordSource, parent: QObject) -> None:
        self.generation = generation
        self.source = source
        self.pages = _one_thread_pool(parent)
        self.side = _one_thread_pool(parent)  # count, marks: never queued behind page reads
        self.relay = _Relay(parent)
        self.count_scheduled = False
        self._lock = threading.Lock()
        self._starts: dict[int, Cursor | None] = {0: None}
        self._known = [0]  # the pages of _starts, in order
        self._wanted: deque[int] = deque(maxlen=WANTED)
        self._stopping = threading.Event()
        #: Pages read but not yet delivered to the GUI thread (None: skipped or failed).
        self._landed: dict[int, LoadedPage | None] = {}
        self._arrival = threading.Condition(self._lock)

    @property
    def pools(self) -> tuple[QThreadPool, QThreadPool]:
        return self.pages, self.side

    def want(self, page: int) -> None:
        with self._lock:
            self._wanted.append(page)

    def still_wanted(self, page: int) -> bool:
        with self._lock:
            return page in self._wanted

    def nearest_start(self, page: int) -> tuple[int, Cursor | None]:
        """The known page start at or before ``page``: (its page, the cursor just
        before its first row)."""
        with self._lock:
            known = self._known[bisect.bisect_right(self._known, page) - 1]
            return known, self._starts[known]

    def remember(self, page: int, start: Cursor | None, end: Cursor | None) -> None:
        with self._lock:
            self._learn(page, start)
            if end is not None:
                self._learn(page + 1, end)

    def remember_marks(self, pages_apart: int, marks: list[Cursor]) -> None:
        """Mark ``n`` is the start of page ``n * pages_apart`` (n = 1, 2, …)."""
        with self._lock:
            for number, mark in enumerate(marks, start=1):
                self._learn(number * pages_apart, mark)

    def _learn(self, page: int, start: Cursor | None) -> None:
        """Note a page start (the caller holds the lock)."""
        if page not in self._starts:
            bisect.insort(self._known, page)
        self._starts[page] = start

    def land(self, page: int, loaded: LoadedPage | None) -> None:
        """A worker finished a page (None: skipped or failed): wake whoever waits."""
        with self._lock:
            self._landed[page] = loaded
            self._arrival.notify_all()

    def wait_landed(self, page: int, seconds: float) -> LoadedPage | None:
        """The page once it lands, if that is within ``seconds`` (and take it)."""
        with self._arrival:
            self._arrival.wait_for(lambda: page in self._landed, seconds)
            return self._landed.pop(page, None)

    def delivered(self, page: int) -> None:
        with self._lock:
            self._landed.pop(page, None)

    def stopped(self) -> bool:
        """Whether the session was retired (work still running should give up)."""
        return self._stopping.is_set()

    def stop(self) -> None:
        """Drop queued work; a walk of the index stops at its next step, any other
        task already running finishes and is ignored."""
        self._stopping.set()
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
    #: The position marks are in (their number): far jumps are now short skips.
    indexed = Signal(int)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._session: _Session | None = None
        self._retired: list[_Session] = []
        self._priority = 0
        #: Rows between position marks for a count, a multiple of PAGE_SIZE (tests
        #: make it small).
        self.mark_every: Callable[[int], int] = marks_every

    # -- GUI side -----------------------------------------------------------
    def set_source(self, source: RecordSource) -> None:
        """Forget the previous query; read this one (its count follows its first page)."""
        self._retire()
        self._generation += 1
        self._session = _Session(self._generation, source, self)
        relay = self._session.relay
        relay.page.connect(self._on_page)
        relay.count.connect(self._on_count)
        relay.indexed.connect(self._on_indexed)
        relay.failed.connect(self._on_failed)

    def request(self, page: int) -> None:
        """Load a page soon; the caller avoids asking twice for one in flight."""
        session = self._session
        if session is None:
            return
        session.want(page)
        self._priority += 1
        session.pages.start(_Task(lambda: self._load(session, page)), self._priority)

    def wait_for(self, page: int, msecs: int) -> LoadedPage | None:
        """A page just requested, if a worker reads it within ``msecs`` (GUI thread;
        the GIL is free meanwhile). Its ``page_loaded`` still follows."""
        session = self._session
        return None if session is None else session.wait_landed(page, msecs / 1000)

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
            session.relay.deleteLater()

    def _current(self, generation: int) -> _Session | None:
        session = self._session
        return session if session is not None and session.generation == generation else None

    def _on_page(self, generation: int, page: int, loaded: LoadedPage | None) -> None:
        session = self._current(generation)
        if session is None:
            return
        session.delivered(page)
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

    def _on_indexed(self, generation: int, marks: int) -> None:
        if self._current(generation) is not None:
            self.indexed.emit(marks)

    def _on_failed(self, generation: int, message: str) -> None:
        if self._current(generation) is not None:
            self.failed.emit(message)

    # -- worker side ----------------------------------------------------------
    def _count(self, session: _Session) -> None:
        """Count, then mark positions across the list (see module doc)."""
        try:
            count = session.source.count()
        except Exception as error:  # reported in the list's status line
            session.relay.failed.emit(session.generation, _error_text(error))
            return
        session.relay.count.emit(session.generation, count)
        self._mark_positions(session, self.mark_every(count))

    def _mark_positions(self, session: _Session, every: int) -> None:
        try:
            marks = session.source.position_marks(every, session.stopped)
        except Exception:
            # Not reported: the marks only make jumps shorter. Without them a page is
            # still read from the nearest page start known, and a database that fails
            # here fails the page reads too, which report it.
            log.warning("position marks failed; jumps skip from loaded pages", exc_info=True)
            return
        if not session.stopped():
            session.remember_marks(every // PAGE_SIZE, marks)
            session.relay.indexed.emit(session.generation, len(marks))

    def _load(self, session: _Session, page: int) -> None:
        loaded = None
        if session.still_wanted(page):
            try:
                loaded = self._read(session, page)
            except Exception as error:
                session.relay.failed.emit(session.generation, _error_text(error))
        session.land(page, loaded)
        session.relay.page.emit(session.generation, page, loaded)

    @staticmethod
    def _read(session: _Session, page: int) -> LoadedPage:
        """Read a page from its start: known, or skipped to from the nearest known one."""
        known, start = session.nearest_start(page)
        if known != page:
            start = session.source.cursor_at((page - known) * PAGE_SIZE, start)
            if start is None:
                return LoadedPage([], None)  # the page is past the end
        loaded = session.source.load(start, PAGE_SIZE)
        session.remember(page, start, loaded.next_cursor)
        return loaded


def _error_text(error: Exception) -> str:
    """For the list's status line: a database error's plain sentence, never its SQL."""
    return database_problem_in(error) or " ".join(str(error).split())
