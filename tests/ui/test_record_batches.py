"""Deleting and restoring a selection of any size, rows loaded or not."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel
from PySide6.QtWidgets import QMessageBox

from runtime.services.errors import ServiceError
from runtime.store.query import RecordQuery, Sort
from runtime.ui.long_task import LongTask
from runtime.ui.record_batches import DELETING, apply_in_batches, ids_in_ranges
from runtime.ui.record_list import RecordListPage


@pytest.fixture
def big_page(qtbot, repair, icu, add_devices) -> RecordListPage:
    """1,200 devices, cheapest first; only the pages on screen get loaded."""
    add_devices(repair, icu, 1_200)
    page = RecordListPage(repair, repair.form("device"))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.model.count == 1_200, timeout=10_000)
    return page


@pytest.fixture
def answers(monkeypatch) -> list[str]:
    """Every delete question is answered Yes; the questions asked are kept."""
    asked = []

    def yes(_parent, _title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    return asked


def select_range(page: RecordListPage, first: int, last: int) -> None:
    model = page.model
    selection = QItemSelection(model.index(first, 0), model.index(last, 0))
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    page.table.selectionModel().select(selection, flags)


def wait_count(qtbot, page: RecordListPage, count: int) -> None:
    qtbot.waitUntil(lambda: page.model.count == count, timeout=10_000)


def test_ctrl_a_deletes_every_row_not_only_the_loaded_ones(qtbot, big_page, answers):
    assert big_page.selected_ids() == []
    big_page.table.selectAll()
    assert big_page.selected_ranges() == [(0, 1_199)]
    assert big_page.selected_ids() is None  # most pages were never read
    big_page.delete_selected()
    qtbot.waitUntil(lambda: answers == ["Move 1200 records to the trash?"], timeout=10_000)
    wait_count(qtbot, big_page, 0)
    big_page.set_trash(True)
    wait_count(qtbot, big_page, 1_200)


def test_a_range_across_unloaded_pages_deletes_exactly_those_rows(qtbot, big_page, repair, answers):
    select_range(big_page, 50, 949)
    big_page.delete_selected()
    wait_count(qtbot, big_page, 300)
    left = repair.records.page("device", RecordQuery(sort=Sort("price")), None, 300, repair.actor)
    prices = [int(record.values["price"]) for record in left.records]
    assert prices == [*range(1, 51), *range(951, 1_201)]
    assert answers == ["Move 900 records to the trash?"]


def test_restore_brings_back_a_large_selection_from_the_trash(qtbot, big_page, answers):
    big_page.table.selectAll()
    big_page.delete_selected()
    wait_count(qtbot, big_page, 0)
    big_page.set_trash(True)
    wait_count(qtbot, big_page, 1_200)
    select_range(big_page, 0, 699)
    big_page.restore_selected()
    wait_count(qtbot, big_page, 500)
    big_page.set_trash(False)
    wait_count(qtbot, big_page, 700)


def test_loaded_rows_are_deleted_without_reading_them_again(qtbot, big_page, answers, monkeypatch):
    qtbot.waitUntil(lambda: big_page.model.row(3) is not None)
    monkeypatch.setattr(
        "runtime.ui.record_list.ids_in_ranges",
        lambda *_: pytest.fail("loaded ids must not be read again"),
    )
    select_range(big_page, 1, 3)
    assert big_page.selected_ids() is not None
    big_page.delete_selected()
    wait_count(qtbot, big_page, 1_197)
    assert answers == ["Move 3 records to the trash?"]


def test_ids_follow_the_list_order_and_skip_rows_past_the_end(repair, icu, add_devices):
    add_devices(repair, icu, 250)
    page = RecordListPage(repair, repair.form("device"))
    page.model.set_query(RecordQuery(sort=Sort("price", desc=True)))
    source = page.model.source()
    ids = LongTask(ids_in_ranges(source, [(240, 260), (0, 1)]), "t", synchronous=True)
    ids.start()
    prices = [
        int(repair.records.get("device", ident, repair.actor).values["price"])
        for ident in ids.result
    ]
    assert prices == [250, 249, *range(10, 0, -1)]


def live_ids(repair, count: int) -> list[int]:
    page = repair.records.page("device", RecordQuery(sort=Sort("price")), None, count, repair.actor)
    return [record.id for record in page.records]


def test_a_refusal_keeps_the_records_before_it_and_says_how_far_it_got(repair, icu, add_devices):
    add_devices(repair, icu, 5)
    ids = live_ids(repair, 5)
    repair.records.delete("device", ids[2], repair.actor)  # someone else was quicker

    def delete(chunk: list[int]) -> None:
        repair.records.delete_many("device", chunk, repair.actor)

    steps = apply_in_batches(ids, delete, DELETING, batch=5)
    with pytest.raises(ServiceError, match=rf"Stopped after 2 of 5 records\. Record {ids[2]}: "):
        next(steps)
    remaining = live_ids(repair, 5)
    assert remaining == ids[3:]  # the two before it are in the trash, the rest untouched


def test_a_batch_is_one_transaction_all_or_none(repair, icu, add_devices):
    add_devices(repair, icu, 4)
    ids = live_ids(repair, 4)
    repair.records.delete("device", ids[3], repair.actor)
    with pytest.raises(ServiceError, match=f"record {ids[3]} "):
        repair.records.delete_many("device", ids, repair.actor)
    assert live_ids(repair, 4) == ids[:3]  # nothing of the batch was written
    repair.records.delete_many("device", ids[:3], repair.actor)
    assert live_ids(repair, 4) == []
    assert [a.action for a in repair.records.history("device", ids[0], repair.actor)][
        -1
    ] == "delete"


def test_progress_comes_per_batch_and_cancelling_keeps_what_was_done(repair, icu, add_devices):
    add_devices(repair, icu, 7)
    ids = live_ids(repair, 7)

    def delete(chunk: list[int]) -> None:
        repair.records.delete_many("device", chunk, repair.actor)

    steps = apply_in_batches(ids, delete, DELETING, batch=3)
    assert [next(steps).done, next(steps).done] == [3, 6]
    steps.close()  # what Cancel does
    assert live_ids(repair, 7) == ids[6:]


def test_a_refused_batch_shows_its_message_and_reads_the_list_again(
    qtbot, big_page, repair, answers
):
    shown = []
    big_page.run_dialog = lambda box: shown.append(box.text())
    select_range(big_page, 0, 4)
    ids = big_page.selected_ids()
    repair.records.delete("device", ids[3], repair.actor)
    big_page.delete_selected()
    qtbot.waitUntil(lambda: shown != [], timeout=10_000)
    assert shown[0].startswith(f"Stopped after 3 of 5 records. Record {ids[3]}: ")
    wait_count(qtbot, big_page, 1_196)  # three by the batch, one before it
    assert big_page.selected_ranges() == []
