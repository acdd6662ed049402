"""Runtime UI benchmarks (issue #6): the record list's first screen, a jump, start-up.

    .venv/bin/python bench/bench_runtime_ui.py --quick       # smoke run, 50,000 rows
    .venv/bin/python bench/bench_runtime_ui.py               # 1,000,000 rows
    .venv/bin/python bench/bench_runtime_ui.py --profile     # + cProfile of GUI and worker threads

Each benchmark runs the engine path (the runtime's RecordListPage / RecordTableModel
on a real SQLite workspace) and a raw baseline in the same process, on the same
database file: a plain ``sqlite3`` keyset query of the same 100 rows in the same
order, shown in a ``QStandardItemModel`` + plain ``QTableView`` of the same size,
painted the same way (``viewport().repaint()``). It prints the ratio engine ÷ raw.

1. First screen: open the list of a form with N records, sorted by a date field,
   until the visible rows are painted with real data (not "…" placeholders). Like
   the engine's list, the raw view is shown (and exposed) first, then its rows are
   read and painted: a ``repaint()`` before the window is exposed paints nothing.
2. Jump to row N/2 and paint it, once the list is indexed: counted, and its
   position marks in (the page start of every 1,000th row at N = 1,000,000, found
   by one walk of the sort index after the count; the model says so with
   ``indexed_changed``). Timed: ``scrollTo`` → the visible rows painted with data
   (checked by asking for them as a paint does, ``data()``, which may wait a moment
   for a page being read).
   Row N/2 is a mark, so the engine reads the page by key from it, as the raw
   baseline reads the page by keyset at the key precomputed outside the timing (a
   row between marks adds one skip of under 1,000 index entries, ~0.2 ms). The note
   gives diagnostics: when the marks were ready after opening; the same jump made
   as soon as the count is known (no marks yet: the engine skips from the nearest
   page start it knows, ``cursor_at``, while the walk runs); and the raw cost of
   locating the key (``LIMIT 1 OFFSET`` on the sort index).
3. Start-up: QApplication created → first paint of the list in the runtime
   MainWindow of the equipment_repair sample app vs a bare QMainWindow with a
   QTableView, each in a fresh ``python -c`` child, alternating, median of 9. The
   target is judged on this "window start"; process start → first paint (imports
   included) is reported too.

Results and what changed between rounds are in bench/README.md. In short: the
jump reads from the nearest position mark (one walk of the sort index after the
count, on the driver's cursor so it does not hold the GIL against paints), and
the view waits up to 12 ms for a page it asked for instead of painting a frame
of "…"; start-up loads one icon font instead of twelve, builds the app's tables
on the first query, skips creating system tables of a current workspace, imports
no PostgreSQL dialect for SQLite, and a list starts reading after its first paint.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")

import argparse
import cProfile
import gc
import io
import json
import pstats
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import _common as common
import bench_store
from _common import Result, median
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QApplication, QTableView, QWidget

from runtime.services.actor import Actor
from runtime.services.records.service import RecordService
from runtime.spec.models import AppSpec
from runtime.store.accounts import insert_user, set_memberships
from runtime.store.query import RecordQuery, Sort
from runtime.store.workspace import Workspace
from runtime.ui import page_loader
from runtime.ui.record_list import RecordListPage
from runtime.ui.record_model import PLACEHOLDER, RecordTableModel
from runtime.ui.services import UiServices

ROOT = common.BENCH.parent
FORM = "item"
#: The 8 columns the list shows (the view names them), ``due`` being the sort.
SHOWN = ("title", "place", "note", "qty", "price", "due", "seen_at", "status")
PAGE = 100
WIDTH, HEIGHT = 1200, 800
ROW_HEIGHT, COLUMN_WIDTH = 28, 140  # as RecordListPage sets its table up
TIMEOUT_S = 300.0
#: The timeline being recorded (``--profile``), else None.
TRACE: Timeline | None = None


# -- the app and its data (shared with bench_store.py) --------------------------------
def app_spec() -> AppSpec:
    """The store benchmark's form, its view showing the list's columns."""
    return bench_store.app_spec(SHOWN)


def make_rows(count: int, chunk: int = 100_000) -> Iterator[dict[str, Any]]:
    """The store benchmark's rows as dicts, built a chunk at a time."""
    for start in range(0, count, chunk):
        for row in bench_store.make_rows(min(chunk, count - start), start):
            yield dict(zip(bench_store.KEYS, row, strict=True))


def admin_actor(workspace: Workspace) -> Actor:
    """A real user row that is a workspace administrator (sees everything)."""
    with workspace.engine.begin() as connection:
        user_id = insert_user(
            connection, "bench.admin", "Bench Admin", datetime(2024, 1, 1), is_admin=True
        )
    return Actor(user_id, "bench.admin", "Bench Admin", True)


class Subject:
    """The workspace with N records, its UiServices, and a raw sqlite3 connection."""

    def __init__(self, folder: Path, rows: int) -> None:
        self.rows = rows
        self.path = folder / "workspace.sqlite"
        self.workspace = Workspace.open(f"sqlite:///{self.path}")
        spec = app_spec()
        self.workspace.install(spec)
        records = RecordService(self.workspace, spec)
        actor = admin_actor(self.workspace)
        seconds, count = common.timed(lambda: records.bulk_create(FORM, make_rows(rows), actor))
        assert count == rows, count
        print(f"built {rows:,} records in {seconds:.1f} s", file=sys.stderr, flush=True)
        self.services = UiServices(records, actor)
        self.form = self.services.form(FORM)
        self.view = self.services.spec.views[0]
        self.table = records.repository.form_tables(FORM).table.name
        self.raw = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.raw.execute("PRAGMA journal_mode=WAL")
        columns = ", ".join(("id", *SHOWN))
        where = "deleted_at IS NULL AND due IS NOT NULL"
        base = f"SELECT {columns} FROM {self.table} WHERE {where}"
        self.first_sql = f"{base} ORDER BY due, id LIMIT {PAGE}"
        self.after_sql = f"{base} AND (due, id) > (?, ?) ORDER BY due, id LIMIT {PAGE}"
        for sql in (self.first_sql, self.after_sql):
            plan = self.raw.execute(f"EXPLAIN QUERY PLAN {sql}", (None, None)[: sql.count("?")])
            print("raw plan:", [row[-1] for row in plan], file=sys.stderr)

    def key_before(self, row: int) -> tuple:
        """(due, id) of row ``row - 1``: a page after it starts at ``row`` (not timed)."""
        sql = (
            f"SELECT due, id FROM {self.table} WHERE deleted_at IS NULL AND due IS NOT NULL "
            f"ORDER BY due, id LIMIT 1 OFFSET {row - 1}"
        )
        return tuple(self.raw.execute(sql).fetchone())

    def close(self) -> None:
        self.raw.close()
        self.workspace.dispose()


# -- waiting and painting ------------------------------------------------------------
def wait_until(condition: Callable[[], bool], signals: list, what: str) -> None:
    """Run the event loop (as the app does) until ``condition()``; it is checked on
    each of ``signals`` and every 20 ms."""
    if condition():
        return
    loop = QEventLoop()
    deadline = time.perf_counter() + TIMEOUT_S

    def check(*_args: object) -> None:
        if condition() or time.perf_counter() > deadline:
            loop.quit()

    timer = QTimer(interval=20)
    timer.timeout.connect(check)
    for signal in signals:
        signal.connect(check)
    timer.start()
    try:
        loop.exec()
    finally:
        timer.stop()
        for signal in signals:
            signal.disconnect(check)
    if not condition():
        raise TimeoutError(f"{what}: not done after {TIMEOUT_S:.0f} s")


def visible_rows(view: QTableView) -> range:
    model = view.model()
    rows = model.rowCount()
    if rows == 0:
        return range(0)
    top = max(view.rowAt(0), 0)
    bottom = view.rowAt(view.viewport().height() - 1)
    return range(top, (rows - 1 if bottom < 0 else bottom) + 1)


def painted_with_data(view: QTableView) -> None:
    """Fail unless every visible cell of the first column holds real data."""
    shown = visible_rows(view)
    assert len(shown) > 5, shown
    texts = [view.model().index(row, 0).data() for row in shown]
    assert PLACEHOLDER not in texts, texts


def settle() -> None:
    """Let queued events and deleteLater() run, then collect garbage (not timed)."""
    for _ in range(3):
        QApplication.processEvents()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


# -- the engine's list --------------------------------------------------------------
class ListRun:
    """One RecordListPage of the form's view, as the main window shows it; or with
    ``plain``, only its RecordTableModel (same columns and sort) in a plain QTableView."""

    def __init__(self, s: Subject, plain: bool = False) -> None:
        if plain:
            self.page = None
            self.model = RecordTableModel(s.services, s.form)
            self.model.set_columns(list(SHOWN), RecordQuery(sort=Sort("due")))
            self.view = plain_view()
            self.view.setModel(self.model)
            self.view.show()
        else:
            self.page = RecordListPage(s.services, s.form, s.view)
            self.page.resize(WIDTH, HEIGHT)
            self.page.show()
            self.model = self.page.model
            self.view = self.page.table
        model = self.model
        self.signals = [model.dataChanged, model.rowsInserted, model.modelReset]
        self.signals.append(model.indexed_changed)

    def loaded(self) -> bool:
        """The first and last visible rows have data when asked as the view asks
        (``data()``: like a paint, it may wait a moment for a page being read)."""
        shown = visible_rows(self.view)
        model = self.model
        return len(shown) > 0 and all(
            model.data(model.index(r, 0)) != PLACEHOLDER for r in (shown[0], shown[-1])
        )

    def paint_when_loaded(self, what: str) -> None:
        wait_until(self.loaded, self.signals, what)
        if TRACE is not None:
            TRACE.mark("visible rows loaded: repaint")
        self.view.viewport().repaint()
        if TRACE is not None:
            TRACE.mark("repaint returned")

    def counted(self) -> bool:
        """The count has reached the view: its scroll bar spans every row."""
        count = self.model.count
        return count is not None and self.view.verticalScrollBar().maximum() >= count // 2

    def indexed(self) -> bool:
        """The count is in and so are the position marks: a jump skips ≤ 1,000 rows."""
        return self.counted() and self.model.indexed

    def jump(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
        assert self.view.rowAt(0) == row, (self.view.rowAt(0), row)
        self.paint_when_loaded(f"jump to row {row:,}")

    def close(self) -> None:
        if self.page is None:
            self.model.loader.shutdown()
            close_view(self.view)  # deletes the model too
        else:
            self.page.close()
            self.page.deleteLater()
        settle()


def open_first_screen(s: Subject, plain: bool = False) -> ListRun:
    run = ListRun(s, plain)
    run.paint_when_loaded("first screen")
    return run


# -- the raw baseline -----------------------------------------------------------------
def plain_view() -> QTableView:
    view = QTableView()
    view.resize(WIDTH, HEIGHT)
    view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    view.horizontalHeader().setDefaultSectionSize(COLUMN_WIDTH)
    return view


def item_model(rows: list[tuple]) -> QStandardItemModel:
    model = QStandardItemModel(len(rows), len(SHOWN))
    model.setHorizontalHeaderLabels(list(SHOWN))
    for r, row in enumerate(rows):
        for c, value in enumerate(row[1:]):
            model.setItem(r, c, QStandardItem("" if value is None else str(value)))
    return model


class PaintSpy(QObject):
    """Notes that a widget got a paint event."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.painted = False
        widget.installEventFilter(self)

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.painted = True
        return False


def show_exposed(view: QTableView) -> None:
    """Show a view and process events until its first paint (it is exposed)."""
    spy = PaintSpy(view.viewport())
    view.show()
    deadline = time.perf_counter() + TIMEOUT_S
    while not spy.painted and time.perf_counter() < deadline:
        QApplication.processEvents()


def raw_first_screen(s: Subject) -> QTableView:
    """As the engine's list does it: show the table, then read the rows and paint."""
    view = plain_view()
    show_exposed(view)
    rows = s.raw.execute(s.first_sql).fetchall()
    view.setModel(item_model(rows))
    view.viewport().repaint()
    return view


def raw_page_at(s: Subject, view: QTableView, key: tuple) -> None:
    rows = s.raw.execute(s.after_sql, key).fetchall()
    view.setModel(item_model(rows))
    view.viewport().repaint()


def close_view(view: QTableView) -> None:
    model = view.model()
    view.close()
    view.deleteLater()
    if model is not None:
        model.deleteLater()
    settle()


# -- profiling (GUI thread and the loader's worker threads) --------------------------
class ThreadProfiles:
    """cProfile of the GUI thread (runcall) and of every loader task (worker threads)."""

    def __init__(self) -> None:
        self.gui = cProfile.Profile()
        self.workers: list[cProfile.Profile] = []
        self.lock = threading.Lock()
        self.original_run = page_loader._Task.run

    def __enter__(self) -> ThreadProfiles:
        profiles, original = self, self.original_run

        def run(task: page_loader._Task) -> None:
            profile = cProfile.Profile()
            try:
                profile.runcall(original, task)
            finally:
                with profiles.lock:
                    profiles.workers.append(profile)

        page_loader._Task.run = run
        return self

    def __exit__(self, *_exc: object) -> None:
        page_loader._Task.run = self.original_run

    def write(self, label: str) -> Path:
        out = io.StringIO()
        out.write(f"== {label}: GUI thread ==\n")
        stats = pstats.Stats(self.gui, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(20)
        if self.workers:
            out.write(f"== {label}: worker threads ({len(self.workers)} tasks) ==\n")
            stats = pstats.Stats(*self.workers, stream=out).strip_dirs()
            stats.sort_stats("cumulative").print_stats(35)
            stats.sort_stats("tottime").print_stats(20)
        common.RESULTS.mkdir(parents=True, exist_ok=True)
        path = common.RESULTS / f"profile-ui-{label}.txt"
        path.write_text(out.getvalue(), "utf-8")
        return path


def profile_runs(s: Subject, target: int) -> None:
    """One profiled first screen and one jump (once the list is indexed)."""
    with ThreadProfiles() as profiles:
        run = profiles.gui.runcall(open_first_screen, s)
    print("profile:", profiles.write("first-screen"), file=sys.stderr)
    wait_until(run.indexed, run.signals, "position marks")
    with ThreadProfiles() as profiles:
        profiles.gui.runcall(run.jump, target)
    print("profile:", profiles.write("jump"), file=sys.stderr)
    run.close()


# -- a wall-clock timeline of one run (which thread does what, when) ----------------
class Timeline:
    """Wraps the list's steps (GUI and worker side) to log when each starts and ends.

    Only this process's classes are patched, and only inside ``with``."""

    def __init__(self) -> None:
        from runtime.services.settings import WorkspaceSettings
        from runtime.ui.record_model import RecordTableModel
        from runtime.ui.record_source import RecordSource

        self.t0 = time.perf_counter()
        self.events: list[tuple[float, float, str, str]] = []
        self.lock = threading.Lock()
        self.targets = [
            (RecordListPage, "__init__"),
            (RecordListPage, "_apply_view"),
            (RecordTableModel, "_start"),
            (RecordTableModel, "_on_page"),
            (RecordTableModel, "_on_count"),
            (RecordSource, "count"),
            (RecordSource, "cursor_at"),
            (RecordSource, "position_marks"),
            (RecordSource, "read"),
            (RecordSource, "load"),
            (WorkspaceSettings, "get"),
            (WorkspaceSettings, "set"),
        ]
        self.saved: list[tuple[type, str, Any]] = []

    def __enter__(self) -> Timeline:
        global TRACE
        TRACE = self
        for owner, name in self.targets:
            original = owner.__dict__[name] if name in owner.__dict__ else getattr(owner, name)
            self.saved.append((owner, name, original))
            setattr(owner, name, self._wrap(f"{owner.__name__}.{name}", original))
        return self

    def __exit__(self, *_exc: object) -> None:
        global TRACE
        TRACE = None
        for owner, name, original in reversed(self.saved):
            setattr(owner, name, original)
        self.saved.clear()

    def _wrap(self, label: str, original: Callable) -> Callable:
        timeline = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                end = time.perf_counter()
                thread = (
                    "gui" if threading.current_thread() is threading.main_thread() else "worker"
                )
                with timeline.lock:
                    timeline.events.append((start, end, thread, label))

        return wrapper

    def watch(self, viewport: QWidget) -> None:
        """Log each paint event of a table's viewport (its start) and the forced repaint."""
        timeline = self

        class Paints(QObject):
            def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Paint:
                    timeline.mark("viewport paint event")
                return False

        self.filter = Paints(viewport)
        viewport.installEventFilter(self.filter)

    def mark(self, label: str) -> None:
        now = time.perf_counter()
        self.events.append((now, now, "gui", label))

    def text(self, title: str) -> str:
        lines = [f"== {title} (ms from start; thread; step; duration) =="]
        for start, end, thread, label in sorted(self.events):
            lines.append(
                f"{(start - self.t0) * 1e3:9.2f} → {(end - self.t0) * 1e3:9.2f}  "
                f"{thread:6s} {label:32s} {(end - start) * 1e3:8.2f} ms"
            )
        return "\n".join(lines) + "\n"


def trace_runs(s: Subject, target: int) -> Path:
    """One traced first screen and jump, written as a timeline."""
    parts = []
    with Timeline() as timeline:
        plain = ListRun(s, plain=True)
        timeline.mark("model + plain view built and shown")
        timeline.watch(plain.view.viewport())
        plain.paint_when_loaded("first screen")
        timeline.mark("first screen painted (forced repaint done)")
    parts.append(timeline.text("first screen, model only"))
    plain.close()
    with Timeline() as timeline:
        run = ListRun(s)
        timeline.mark("RecordListPage built and shown")
        timeline.watch(run.view.viewport())
        run.paint_when_loaded("first screen")
        timeline.mark("first screen painted (forced repaint done)")
    parts.append(timeline.text("first screen"))
    run.close()
    with Timeline() as timeline:
        run = ListRun(s)
        timeline.watch(run.view.viewport())
        run.paint_when_loaded("first screen")
        timeline.mark("first screen painted")
        wait_until(run.counted, run.signals, "count")
        timeline.mark("counted")
        wait_until(run.indexed, run.signals, "position marks")
        timeline.mark("indexed: jump")
        run.jump(target)
        timeline.mark(f"row {target:,} painted")
    parts.append(timeline.text("open, then jump once indexed"))
    run.close()
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    path = common.RESULTS / "trace-ui.txt"
    path.write_text("\n".join(parts), "utf-8")
    return path


# -- the benchmarks -------------------------------------------------------------------
def bench_first_screen(s: Subject, runs: int, plain: bool = False) -> Result:
    engine_times, raw_times = [], []
    for attempt in range(runs + 1):  # the first pair warms caches, untimed
        start = time.perf_counter()
        run = open_first_screen(s, plain)
        seconds = time.perf_counter() - start
        painted_with_data(run.view)
        run.close()
        start = time.perf_counter()
        view = raw_first_screen(s)
        raw_seconds = time.perf_counter() - start
        painted_with_data(view)
        close_view(view)
        if attempt:
            engine_times.append(seconds)
            raw_times.append(raw_seconds)
    spread = f"engine {min(engine_times) * 1e3:.1f}–{max(engine_times) * 1e3:.1f} ms"
    what = "RecordTableModel in a plain QTableView" if plain else "RecordListPage"
    return Result(
        f"first screen, {s.rows:,} rows" + (" (model only)" if plain else ""),
        "sqlite",
        median(engine_times),
        median(raw_times),
        "ms",
        "≤ 2× raw",
        median(engine_times) <= 2 * median(raw_times),
        f"median of {runs}; {spread}; {what} open → visible rows painted",
    )


def bench_repaint(s: Subject, runs: int) -> Result:
    """Diagnostic: repainting a screen whose rows are all loaded, nothing else running
    (the count and the walk for position marks are done)."""
    run = open_first_screen(s)
    wait_until(run.indexed, run.signals, "position marks")
    raw_view = raw_first_screen(s)
    settle()
    engine_times, raw_times = common.paired(
        run.view.viewport().repaint, raw_view.viewport().repaint, runs * 5
    )
    cells = len(visible_rows(run.view)) * run.model.columnCount()
    run.close()
    close_view(raw_view)
    return Result(
        "repaint of a loaded screen (diagnostic)",
        "sqlite",
        median(engine_times),
        median(raw_times),
        "ms",
        "report only",
        None,
        f"median of {runs * 5}; {cells} visible cells; RecordTableModel.data vs QStandardItemModel",
    )


def open_and_jump(s: Subject, row: int, ready: Callable[[ListRun], bool]) -> tuple[float, float]:
    """Open the list, wait until ``ready(run)``, then jump to ``row`` and paint it:
    (seconds from opening to ready, seconds of the jump)."""
    opened = time.perf_counter()
    run = open_first_screen(s)
    wait_until(lambda: ready(run), run.signals, "list ready to jump")
    waited = time.perf_counter() - opened
    start = time.perf_counter()
    run.jump(row)
    seconds = time.perf_counter() - start
    painted_with_data(run.view)
    run.close()
    return waited, seconds


def bench_jump(s: Subject, runs: int) -> Result:
    """Open the list, wait for its position marks, jump to the middle and paint it.

    Diagnostics in the note: the same jump made as soon as the count is known (no
    marks yet: the engine skips from the top), and when the marks were ready."""
    target = s.rows // 2
    key = s.key_before(target)
    locate_times = [common.timed(lambda: s.key_before(target))[0] for _ in range(3)]
    raw_view = plain_view()
    show_exposed(raw_view)
    engine_times, early_times, ready_times, raw_times = [], [], [], []
    for attempt in range(runs + 1):  # the first round warms caches, untimed
        _counted, early = open_and_jump(s, target, ListRun.counted)
        ready, seconds = open_and_jump(s, target, ListRun.indexed)
        start = time.perf_counter()
        raw_page_at(s, raw_view, key)
        raw_seconds = time.perf_counter() - start
        painted_with_data(raw_view)
        if attempt:
            engine_times.append(seconds)
            early_times.append(early)
            ready_times.append(ready)
            raw_times.append(raw_seconds)
    close_view(raw_view)
    engine, raw = median(engine_times), median(raw_times)
    spread = f"engine {min(engine_times) * 1e3:.1f}–{max(engine_times) * 1e3:.1f} ms"
    return Result(
        f"jump to row {target:,}",
        "sqlite",
        engine,
        raw,
        "ms",
        "≤ 2× raw",
        engine <= 2 * raw,
        f"median of {runs}; {spread}; jump once the list is indexed (position marks "
        f"ready {median(ready_times) * 1e3:.0f} ms after open); right after the count, "
        f"before the marks: {median(early_times) * 1e3:.1f} ms; raw locating the key "
        f"(OFFSET on the index) {median(locate_times) * 1e3:.1f} ms more",
    )


# -- start-up in fresh processes ---------------------------------------------------------
CHILD_HEAD = """\
import time
T0 = time.perf_counter()
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView
{imports}
app = QApplication(sys.argv[:1])
T1 = time.perf_counter()
{build}
class FirstPaint(QObject):
    at = None
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and self.at is None:
            self.at = time.perf_counter()
            loop.quit()
        return False
first = FirstPaint()
viewport.installEventFilter(first)
loop = QEventLoop()
QTimer.singleShot(60_000, loop.quit)
window.show()
if first.at is None:
    loop.exec()
T2 = first.at
{after}
print(json.dumps({{"import_to_app": T1 - T0, "app_to_paint": T2 - T1, "start_to_paint": T2 - T0,
                  "extra": extra}}))
sys.stdout.flush()
os._exit(0)
"""

BARE = {
    "imports": "",
    "build": (
        "window = QMainWindow()\n"
        "table = QTableView(window)\n"
        "window.setCentralWidget(table)\n"
        "window.resize(1280, 800)\n"
        "viewport = table.viewport()"
    ),
    "after": "extra = {}",
}

APP = {
    "imports": (
        "from runtime.api import open_workspace\n"
        "from runtime.services.actor import Actor\n"
        "from runtime.ui.main_window import MainWindow\n"
        "from runtime.ui.services import UiServices"
    ),
    "build": (
        "url, user, dept = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])\n"
        "handle = open_workspace(url)\n"
        "roles = {'equipment_repair': frozenset({'admin'})}\n"
        "actor = Actor(user, 'bench.nurse', '张伟', False, dept, frozenset({dept}), roles)\n"
        "services = UiServices(handle.app('equipment_repair').service, actor)\n"
        "window = MainWindow(services)\n"
        "viewport = window.current_page().table.viewport()"
    ),
    "after": (
        "page = window.current_page()\n"
        "loop = QEventLoop()\n"
        "timer = QTimer(interval=5)\n"
        "timer.timeout.connect(lambda: page.model.row(0) is not None and loop.quit())\n"
        "timer.start()\n"
        "loop.exec()\n"
        "viewport.repaint()\n"
        "extra = {'start_to_data_painted': time.perf_counter() - T0,\n"
        "         'rows': page.model.rowCount()}\n"
        "for p in window.pages.values():\n"
        "    p.model.loader.shutdown()"
    ),
}


def sample_workspace(folder: Path) -> tuple[str, int, int]:
    """The equipment_repair sample app with 200 devices and one app-admin user."""
    from runtime.api import open_workspace
    from runtime.store.schema import departments_table

    url = f"sqlite:///{folder / 'sample.sqlite'}"
    with open_workspace(url) as handle:
        handle.upgrade(ROOT / "sample_apps" / "equipment_repair", take_backup=False)
        with handle.workspace.engine.begin() as connection:
            dept = connection.execute(
                departments_table.insert().values(name="重症监护室", active=True)
            ).inserted_primary_key[0]
            user = insert_user(connection, "bench.nurse", "张伟", datetime(2024, 1, 1))
            set_memberships(connection, user, [dept])
        devices = (
            {
                "asset_no": f"EQ-{n:06d}",
                "name": f"设备{n}",
                "owner_dept": dept,
                "price": n,
                "in_service": n % 2 == 0,
            }
            for n in range(1, 201)
        )
        handle.app("equipment_repair").service.bulk_create("device", devices)
    return url, user, dept


def child(variant: dict[str, str], args: list[str]) -> dict[str, Any]:
    code = CHILD_HEAD.format(**variant)
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"start-up child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_startup(runs: int) -> list[Result]:
    with common.temp_folder() as folder:
        url, user, dept = sample_workspace(folder)
        app_args = [url, str(user), str(dept)]
        child(BARE, [])  # warm the file cache (.pyc, fonts) for both
        child(APP, app_args)
        bare, app = [], []
        for _ in range(runs):
            bare.append(child(BARE, []))
            app.append(child(APP, app_args))

    def med(results: list[dict], key: str) -> float:
        return median([r[key] for r in results])

    def extra(key: str) -> float:
        return median([r["extra"][key] for r in app])

    start, start_raw = med(app, "start_to_paint"), med(bare, "start_to_paint")
    qapp, qapp_raw = med(app, "app_to_paint"), med(bare, "app_to_paint")
    imports = f"imports+QApplication {med(app, 'import_to_app') * 1e3:.0f} ms vs "
    imports += f"{med(bare, 'import_to_app') * 1e3:.0f} ms"
    data = f"first rows painted {extra('start_to_data_painted') * 1e3:.0f} ms after start"
    return [
        Result(
            "start-up: process start → first paint",
            "sqlite",
            start,
            start_raw,
            "ms",
            "report only",
            None,
            f"median of {runs} fresh processes; {imports}; {data}",
        ),
        Result(
            "start-up: QApplication → first paint",
            "sqlite",
            qapp,
            qapp_raw,
            "ms",
            "≤ 2× raw",
            qapp <= 2 * qapp_raw,
            "window start: the app side opens the workspace and builds the window and list",
        ),
    ]


# -- main --------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 rows (smoke run)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs of the list benchmarks")
    parser.add_argument("--startup-runs", type=int, default=9, help="start-up children each")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up benchmark")
    parser.add_argument("--startup-only", action="store_true", help="only the start-up benchmark")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile GUI + worker threads to results/"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rows = 50_000
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    results: list[Result] = []
    if not args.startup_only:
        results += list_benchmarks(args)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if not args.no_startup:
        results += bench_startup(args.startup_runs)
    meta = {"rows": args.rows, "runs": args.runs, "peak_rss_mb": round(rss)}
    print(f"Runtime UI, {args.rows:,} rows (peak RSS {rss:,.0f} MB)\n{common.table(results)}")
    path = common.write_json("runtime-ui", meta, results)
    print(f"wrote {path}", file=sys.stderr)
    del app
    return 1 if any(r.passed is False for r in results) else 0


def list_benchmarks(args: argparse.Namespace) -> list[Result]:
    """First screen, jump and repaint on a workspace of ``args.rows`` records."""
    results: list[Result] = []
    with common.temp_folder() as folder:
        s = Subject(folder, args.rows)
        try:
            settle()
            results.append(bench_first_screen(s, args.runs))
            results.append(bench_first_screen(s, args.runs, plain=True))
            print(common.table(results), file=sys.stderr, flush=True)
            results.append(bench_jump(s, args.runs))
            results.append(bench_repaint(s, args.runs))
            print(common.table(results), file=sys.stderr, flush=True)
            if args.profile:
                profile_runs(s, s.rows // 2)
                print("timeline:", trace_runs(s, s.rows // 2), file=sys.stderr)
        finally:
            s.close()
    return results


if __name__ == "__main__":
    sys.exit(main())
