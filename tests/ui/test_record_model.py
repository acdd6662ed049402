"""The record table model pages lazily through the service, off the GUI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView

from runtime.store.query import RecordQuery, Sort
from runtime.ui.page_loader import PageLoader
from runtime.ui.record_model import PLACEHOLDER, RECORD_ID_ROLE, RecordTableModel
from runtime.ui.record_source import RecordSource


def loaded(model: RecordTableModel, row: int) -> bool:
    return model.data(model.index(row, 0)) not in (PLACEHOLDER, None)


def test_rows_load_lazily_and_far_rows_arrive_from_the_worker(qtbot, repair, icu, add_devices):
    add_devices(repair, icu, 20_000)
    model = RecordTableModel(repair, repair.form("device"))
    assert model.rowCount() == 0  # nothing read on the GUI thread
    qtbot.waitUntil(lambda: model.count == 20_000, timeout=10_000)
    assert model.rowCount() == 20_000
    index = model.index(15_000, model.column_of("name"))
    assert model.data(index) == PLACEHOLDER  # not loaded: a placeholder, and a request
    qtbot.waitUntil(lambda: model.data(index) != PLACEHOLDER, timeout=10_000)
    assert model.data(index) == "设备15001"
    assert model.data(model.index(15_000, model.column_of("owner_dept"))) == "重症监护室"
    assert model.data(index, RECORD_ID_ROLE) == 15_001
    assert len(model._pages) <= 3  # only the pages asked for, not everything before them
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


def test_a_far_row_is_read_from_its_cursor_not_from_the_top(qtbot, repair, icu, add_devices):
    add_devices(repair, icu, 20_000)
    service, reads, located = repair.records, [], []
    page, cursor_at = service.page, service.cursor_at

    def counting_page(form, query=None, after=None, limit=100, *args, **kwargs):
        result = page(form, query, after, limit, *args, **kwargs)
        reads.append(len(result.records))
        return result

    def counting_cursor_at(form, query=None, row=0, *args, **kwargs):
        located.append(row)
        return cursor_at(form, query, row, *args, **kwargs)

    service.page, service.cursor_at = counting_page, counting_cursor_at
    model = RecordTableModel(repair, repair.form("device"))
    view = QTableView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.setModel(model)
    view.show()
    qtbot.waitUntil(lambda: model.count == 20_000, timeout=10_000)
    reads.clear()
    view.scrollTo(model.index(15_000, 0), QTableView.ScrollHint.PositionAtTop)
    name = model.column_of("name")
    qtbot.waitUntil(lambda: loaded(model, 15_000), timeout=10_000)
    assert model.data(model.index(15_000, name)) == "设备15001"
    assert located == [15_000]  # one narrow query finds where row 15,000 starts
    assert sum(reads) <= 200  # the page itself (and maybe the next), not 15,000 rows
    model.loader.shutdown()


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
    release = threading.Event()
    load = RecordSource.load

    def slow_for_the_old_query(self, after, limit):
        if self.query.search == "slow":
            release.wait(10)
        return load(self, after, limit)

    monkeypatch.setattr(RecordSource, "load", slow_for_the_old_query)
    model = RecordTableModel(repair, repair.form("device"))
    model.set_query(RecordQuery(search="slow"))
    qtbot.wait(50)  # its first page read is now running (and stuck)
    model.set_query(RecordQuery(search="设备1"))
    try:
        qtbot.waitUntil(lambda: model.count == 111 and loaded(model, 0), timeout=3000)
    finally:
        release.set()
    model.loader.shutdown()
