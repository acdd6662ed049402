"""Cyclic garbage is collected on the GUI thread, never on a worker."""

from __future__ import annotations

import gc
import threading

import pytest
from PySide6.QtCore import QObject

from runtime.ui.gc_guard import GuiThreadCollector, collect_on_gui_thread


@pytest.fixture
def collector(qapp):
    collector = GuiThreadCollector(qapp, interval_ms=20)
    return collector


class Cycle(QObject):
    """A Qt object caught in a reference cycle, noting the thread it dies on."""

    died_on: list[str] = []

    def __init__(self) -> None:
        super().__init__()
        self.me = self

    def __del__(self) -> None:
        Cycle.died_on.append(threading.current_thread().name)


def test_a_qt_object_in_a_cycle_dies_on_the_gui_thread(qtbot, collector):
    Cycle.died_on.clear()
    Cycle()

    def allocate_a_lot() -> None:  # would trigger an automatic collection here
        for _ in range(50_000):
            cycle = []
            cycle.append(cycle)

    worker = threading.Thread(target=allocate_a_lot, name="worker")
    worker.start()
    worker.join()
    assert not gc.isenabled()
    qtbot.waitUntil(lambda: Cycle.died_on != [], timeout=5000)
    assert Cycle.died_on == [threading.main_thread().name]


def test_collect_runs_the_generation_that_is_due(collector):
    gc.collect()
    assert GuiThreadCollector.collect() == -1
    garbage = [[] for _ in range(gc.get_threshold()[0] + 10)]
    assert GuiThreadCollector.collect() == 0
    del garbage


def test_the_app_gets_one_collector(qapp, collector):
    assert collect_on_gui_thread(qapp) is collector


def test_stopping_gives_collection_back_to_python(collector):
    collector.stop()
    assert gc.isenabled()
