"""The record table model pages lazily through the service, off the GUI thread."""

from __future__ import annotations

import threading
import time

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView

from runtime.store.query import RecordQuery, Sort
from runtime.ui import record_model
from runtime.ui.page_loader import PAGE_SIZE, PageLoader
from runtime.ui.record_model import PLACEHOLDER, RECORD_ID_ROLE, RecordTableModel
from runtime.ui.record_source import RecordSource


def slow_loads(monkeypatch, when) -> threading.Event:
    """Page reads for which ``when(source, after)`` holds wait (up to 10 s) until
    the returned event is set."""
    release = threading.Event()
    load = RecordSource.load

    def held_back(self, after, limit):
        if when(self, after):
            release.wait(10)
        return load(self, after, limit)

    monkeypatch.setattr(RecordSource, "load", held_back)
    return release


def loaded(model: RecordTableModel, row: int) -> bool:
    return model.data(model.index(row, 0)) not in (PLACEHOLDER, None)


def test_rows_load_lazily_and_far_rows_arrive_from_the_worker(
    qtbot, repair, icu, add_devices, monkeypatch
):
    add_devices(repair, icu, 20_000)
    on_gui_thread = []
    load = RecordSource.load

    def noting_the_thread(self, after, limit):
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return load(self, after, limit)

    monkeypatch.setattr(RecordSource, "load", noting_the_thread)
    model = RecordTableModel(repair, repair.form("device"))
    assert model.rowCount() == 0  # nothing read on the GUI thread
    qtbot.waitUntil(lambda: model.count == 20_000, timeout=10_000)
    assert model.rowCount() == 20_000
    index = model.index(15_000, model.column_of("name"))
    qtbot.waitUntil(lambda: model.data(index) != PLACEHOLDER, timeout=10_000)
    assert model.data(index) == "设备15001"
    assert model.data(model.index(15_000, model.column_of("owner_dept"))) == "重症监护室"
    assert model.data(index, RECORD_ID_ROLE) == 15_001
    assert len(model._pages) <= 3  # only the pages asked for, not everything before them
    assert on_gui_thread and not any(on_gui_thread)  # every page was read by a worker
    model.loader.shutdown()


def test_a_page_asked_for_when_idle_is_waited_for_and_painted_once(
    qtbot, repair, icu, add_devices, monkeypatch
):
    add_devices(repair, icu, 3_000)
    monkeypatch.setattr(record_model, "ARRIVAL_WAIT_MS", 10_000)  # the worker always wins
    model = RecordTableModel(repair, repair.form("device"))
    qtbot.waitUntil(lambda: model.count == 3_000, timeout=10_000)
    assert model.record_id(1_234) is None  # code (not the view) never waits: a request
    qtbot.waitUntil(lambda: model.record_id(1_234) == 1_235, timeout=10_000)
    changed = []
    model.dataChanged.connect(lambda first, last: changed.append((first.row(), last.row())))
    with qtbot.waitSignal(model.loader.page_loaded, timeout=10_000):
        # the worker reads the page while the GUI thread waits: the row is there at once
        assert model.data(model.index(2_345, model.column_of("name"))) == "设备2346"
    assert changed == []  # its delivery does not repaint rows the view already has
    model.loader.shutdown()


def test_a_slow_page_shows_placeholders_after_a_short_wait(
    qtbot, repair, icu, add_devices, monkeypatch
):
    add_devices(repair, icu, 3_000)
    monkeypatch.setattr(record_model, "ARRIVAL_WAIT_MS", 200)
    release = slow_loads(monkeypatch, lambda source, after: after is not None and after.id >= 2_000)
    model = RecordTableModel(repair, repair.form("device"))
    qtbot.waitUntil(lambda: model.count == 3_000, timeout=10_000)
    name = model.column_of("name")
    try:
        started = time.monotonic()
        assert model.data(model.index(2_500, name)) == PLACEHOLDER  # waited, gave up
        waited = time.monotonic() - started
        assert 0.15 < waited < 5
        started = time.monotonic()
        assert model.data(model.index(1_500, name)) == PLACEHOLDER  # a read is under way:
        assert time.monotonic() - started < 0.15  # no second wait
        assert model.data(model.index(2_500, name)) == PLACEHOLDER  # asked already: no wait
    finally:
        release.set()
    qtbot.waitUntil(lambda: model.data(model.index(2_500, name)) == "设备2501", timeout=10_000)
    qtbot.waitUntil(lambda: model.data(model.index(1_500, name)) == "设备1501", timeout=10_000)
    model.loader.shutdown()


def test_rows_show_as_they_become_known_before_the_count(qtbot, repair, icu, add_devices):
    add_devices(repair, icu, 250)
    model = RecordTableModel(repair, repair.form("device"))
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    assert model.rowCount() in (100, 250)  # the first page, or the count if it came first
    qtbot.waitUntil(lambda: model.count == 250)
    assert model.rowCount() == 250


def test_clicking_a_header_sorts_by_that_column(qtbot, repair, icu, add_devices):
    add_devices(repair, icu, 300)
    model = RecordTableModel(repair, repair.form("device"))
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setSortingEnabled(True)
    column = model.column_of("price")
    view.horizontalHeader().setSortIndicator(column, Qt.SortOrder.DescendingOrder)
    assert model.query.sort == Sort("price", desc=True)
    qtbot.waitUntil(lambda: loaded(model, 0))
    assert model.data(model.index(0, column)) == "300.00 元"
    view.horizontalHeader().setSortIndicator(column, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: loaded(model, 0))
    assert model.data(model.index(0, column)) == "1.00 元"


def test_a_new_query_drops_stale_pages(qtbot, repair, icu, add_devices):
    add_devices(repair, icu, 500)
    model = RecordTableModel(repair, repair.form("device"))
    model.set_query(RecordQuery(search="设备49"))
    qtbot.waitUntil(lambda: model.count is not None)
    assert model.count == 11  # 49, 490-499
    qtbot.waitUntil(lambda: loaded(model, 0))
    names = {model.data(model.index(row, model.column_of("name"))) for row in range(11)}
    assert all(name.startswith("设备49") for name in names)


def spy_on_reads(service) -> tuple[list[int], list[int]]:
    """Rows read per page, and rows skipped per ``cursor_at``, from now on."""
    reads, skipped = [], []
    page, cursor_at = service.page, service.cursor_at

    def counting_page(form, query=None, after=None, limit=100, *args, **kwargs):
        result = page(form, query, after, limit, *args, **kwargs)
        reads.append(len(result.records))
        return result

    def counting_cursor_at(form, query=None, row=0, *args, **kwargs):
        skipped.append(row)
        return cursor_at(form, query, row, *args, **kwargs)

    service.page, service.cursor_at = counting_page, counting_cursor_at
    return reads, skipped


def shown_model(qtbot, services) -> tuple[RecordTableModel, QTableView]:
    model = RecordTableModel(services, services.form("device"))
    view = QTableView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.setModel(model)
    view.show()
    return model, view


def ids_from(model: RecordTableModel, first: int, count: int) -> list[int]:
    return [model.data(model.index(row, 0), RECORD_ID_ROLE) for row in range(first, first + count)]


def test_a_far_row_is_read_from_its_cursor_not_from_the_top(qtbot, repair, icu, add_devices):
    add_devices(repair, icu, 20_000)
    reads, skipped = spy_on_reads(repair.records)
    model, view = shown_model(qtbot, repair)
    model.loader.mark_every = lambda _count: 10**9  # no position marks: the fallback
    qtbot.waitUntil(lambda: model.count == 20_000, timeout=10_000)
    reads.clear()
    view.scrollTo(model.index(15_000, 0), QTableView.ScrollHint.PositionAtTop)
    name = model.column_of("name")
    qtbot.waitUntil(lambda: loaded(model, 15_000), timeout=10_000)
    assert model.data(model.index(15_000, name)) == "设备15001"
    # one narrow query skips from the start of page 1 (known: the end of page 0)
    assert skipped == [14_900]
    assert sum(reads) <= 200  # the page itself (and maybe the next), not 15,000 rows
    model.loader.shutdown()


def test_once_indexed_a_jump_skips_only_from_the_nearest_mark(qtbot, repair, icu, add_devices):
    add_devices(repair, icu, 20_000)
    reads, skipped = spy_on_reads(repair.records)
    model, view = shown_model(qtbot, repair)
    with qtbot.waitSignal(model.indexed_changed, timeout=10_000):
        pass
    assert model.indexed and model.count == 20_000
    reads.clear()
    view.scrollTo(model.index(15_550, 0), QTableView.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: loaded(model, 15_550), timeout=10_000)
    assert model.data(model.index(15_550, model.column_of("name"))) == "设备15551"
    assert skipped == [500]  # from the mark at row 15,000 (one every 1,000 rows)
    assert sum(reads) <= 200
    model.loader.shutdown()


def test_a_jump_after_marks_shows_the_rows_of_reading_in_order(qtbot, repair, icu, add_devices):
    add_devices(repair, icu, 3_000)
    query = RecordQuery(search="设备", sort=Sort("in_service", desc=True))  # ties: id order
    in_order = [r.id for r in repair.records.iter_records("device", query, repair.actor)]
    model, view = shown_model(qtbot, repair)
    model.loader.mark_every = lambda _count: 3 * PAGE_SIZE
    model.set_query(query)
    qtbot.waitUntil(lambda: model.indexed, timeout=10_000)
    view.scrollTo(model.index(1_234, 0), QTableView.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: loaded(model, 1_234) and loaded(model, 1_299), timeout=10_000)
    assert ids_from(model, 1_200, 100) == in_order[1_200:1_300]
    view.scrollTo(model.index(2_950, 0), QTableView.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: loaded(model, 2_999), timeout=10_000)
    assert ids_from(model, 2_900, 100) == in_order[2_900:]
    model.loader.shutdown()


def test_marks_of_a_retired_query_never_reach_the_new_one(
    qtbot, repair, icu, add_devices, monkeypatch
):
    """The old query's walk is asked to stop; even if it then finished, its marks
    (another order) must not place the new query's pages."""
    add_devices(repair, icu, 3_000)
    walking, stop_seen = threading.Event(), threading.Event()
    position_marks = RecordSource.position_marks

    def slow_for_the_old_query(self, every, stopped):
        if self.query.sort.desc:
            walking.set()
            if wait_for(stopped, seconds=10):
                stop_seen.set()
            return position_marks(self, every, lambda: False)  # as if it had just finished
        return position_marks(self, every, stopped)

    monkeypatch.setattr(RecordSource, "position_marks", slow_for_the_old_query)
    model, view = shown_model(qtbot, repair)
    model.loader.mark_every = lambda _count: 3 * PAGE_SIZE
    model.set_query(RecordQuery(sort=Sort("price", desc=True)))
    qtbot.waitUntil(walking.is_set, timeout=10_000)
    model.set_query(RecordQuery(sort=Sort("price")))
    qtbot.waitUntil(lambda: model.indexed, timeout=10_000)
    assert stop_seen.wait(5)
    view.scrollTo(model.index(1_234, 0), QTableView.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: loaded(model, 1_234), timeout=10_000)
    assert model.data(model.index(1_234, model.column_of("name"))) == "设备1235"
    model.loader.shutdown()


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_building_then_changing_the_query_reads_once(qtbot, repair, icu, add_devices, monkeypatch):
    add_devices(repair, icu, 300)
    sources = []
    set_source = PageLoader.set_source
    monkeypatch.setattr(
        PageLoader,
        "set_source",
        lambda self, source: (sources.append(source), set_source(self, source)),
    )
    model = RecordTableModel(repair, repair.form("device"))
    model.set_columns(["name", "price"], RecordQuery(sort=Sort("price", desc=True)))
    model.set_query(RecordQuery(search="设备2", sort=Sort("price", desc=True)))
    qtbot.waitUntil(lambda: model.count is not None)
    assert [source.query.search for source in sources] == ["设备2"]  # only the final query
    qtbot.waitUntil(lambda: loaded(model, 0))
    assert model.data(model.index(0, 0)) == "设备299"
    model.loader.shutdown()


def test_a_slow_stale_read_does_not_hold_up_the_new_query(
    qtbot, repair, icu, add_devices, monkeypatch
):
    add_devices(repair, icu, 300)
    release = slow_loads(monkeypatch, lambda source, _after: source.query.search == "slow")
    model = RecordTableModel(repair, repair.form("device"))
    model.set_query(RecordQuery(search="slow"))
    qtbot.wait(50)  # its first page read is now running (and stuck)
    model.set_query(RecordQuery(search="设备1"))
    try:
        qtbot.waitUntil(lambda: model.count == 111 and loaded(model, 0), timeout=3000)
    finally:
        release.set()
    model.loader.shutdown()


def test_a_model_deleted_while_the_index_walk_runs_outlives_its_reports(
    qtbot, repair, icu, add_devices, monkeypatch
):
    """Deleting the model (closing its page) while a worker still walks the index:
    the worker's report goes through a relay that is still alive, then nowhere.
    (A relay deleted before the worker was done crashed the process mid-emit.)"""
    add_devices(repair, icu, 300)
    walking, release = threading.Event(), threading.Event()
    relay_alive_at_report = []
    position_marks = RecordSource.position_marks

    def held_walk(self, every, stopped):
        walking.set()
        release.wait(10)
        time.sleep(0.05)  # the GUI thread is deleting the model by now
        relay_alive_at_report.append(shiboken6.isValid(relay))
        return position_marks(self, every, stopped)

    monkeypatch.setattr(RecordSource, "position_marks", held_walk)
    model = RecordTableModel(repair, repair.form("device"))
    qtbot.waitUntil(walking.is_set, timeout=10_000)
    relay = model.loader._session.relay
    threading.Timer(0.2, release.set).start()
    shiboken6.delete(model)  # returns once the walk is done: the pools wait for it
    assert relay_alive_at_report == [True]
    assert not shiboken6.isValid(relay)
