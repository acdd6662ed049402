"""The list page: search, filter builder, columns, saved views, trash and restore."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox

from runtime.store.query import AnyOf, Condition
from runtime.ui.filter_dialog import FilterDialog
from runtime.ui.record_list import RecordListPage


@pytest.fixture
def page(qtbot, repair, icu, add_devices) -> RecordListPage:
    add_devices(repair, icu, 30)
    widget = RecordListPage(repair, repair.form("device"))
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.model.count == 30)
    return widget


def wait_count(qtbot, page: RecordListPage, count: int) -> None:
    qtbot.waitUntil(lambda: page.model.count == count, timeout=5000)


def names(qtbot, page: RecordListPage) -> list[str]:
    column = page.model.column_of("name")
    qtbot.waitUntil(lambda: page.model.row(0) is not None)
    return [page.model.data(page.model.index(r, column)) for r in range(page.model.rowCount())]


def select_rows(page: RecordListPage, *rows: int) -> None:
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        page.table.selectionModel().select(page.model.index(row, 0), flags)


def test_status_line_counts_records(page):
    assert page.status.text() == "30 records"


def test_search_is_debounced_and_filters(qtbot, page):
    page.search_box.setText("设备")  # (QTest cannot type Chinese characters)
    qtbot.keyClicks(page.search_box, "2")
    assert page.model.query.search == ""  # not on every keystroke
    qtbot.waitUntil(lambda: page.model.query.search == "设备2", timeout=2000)
    wait_count(qtbot, page, 11)
    assert page.status.text() == "11 records"


def test_filter_builder_builds_and_or_conditions(qtbot, page, monkeypatch):
    def configure(dialog: FilterDialog) -> int:
        first = dialog.rows()[0]
        first.field_box.setCurrentIndex(first.field_box.findData("price"))
        first.op_box.setCurrentIndex(first.op_box.findData("gt"))
        first.values[0].set_value(Decimal(27))
        second = dialog.add_condition()
        second.field_box.setCurrentIndex(second.field_box.findData("name"))
        second.op_box.setCurrentIndex(second.op_box.findData("eq"))
        second.values[0].set_value("设备3")
        dialog.match_any.setChecked(True)
        return 1

    monkeypatch.setattr(FilterDialog, "exec", configure)
    page.edit_filter()
    assert page.model.query.filter == AnyOf(
        (Condition("price", "gt", Decimal(27)), Condition("name", "eq", "设备3"))
    )
    wait_count(qtbot, page, 4)
    assert sorted(names(qtbot, page)) == ["设备28", "设备29", "设备3", "设备30"]
    assert page.filter_button.text() == "Filter ✓"


def test_filter_dialog_shows_the_current_filter_and_between(qtbot, page):
    current = Condition("price", "between", (Decimal(3), Decimal(5)))
    dialog = FilterDialog(page.form, current)
    qtbot.addWidget(dialog)
    row = dialog.rows()[0]
    assert row.op == "between" and len(row.values) == 2
    assert dialog.filter() == current
    page.set_filter(dialog.filter())
    wait_count(qtbot, page, 3)


def test_operators_follow_the_field_type(qtbot, page):
    dialog = FilterDialog(page.form)
    qtbot.addWidget(dialog)
    row = dialog.rows()[0]
    row.field_box.setCurrentIndex(row.field_box.findData("purchased"))
    ops = [row.op_box.itemData(i) for i in range(row.op_box.count())]
    assert ops == ["eq", "before", "after", "between", "is_empty", "not_empty"]
    row.op_box.setCurrentIndex(row.op_box.findData("is_empty"))
    assert row.values == [] and dialog.filter() == Condition("purchased", "is_empty")


def test_column_chooser_shows_and_hides_columns(qtbot, page, repair):
    page._fill_columns_menu()
    actions = {action.text(): action for action in page.columns_menu.actions()}
    assert page.model.column_keys() == ["asset_no", "name", "owner_dept", "in_service"]
    assert actions["设备名称"].isChecked() and not actions["型号"].isChecked()
    actions["设备名称"].setChecked(False)
    actions["型号"].setChecked(True)
    actions["Last changed"].setChecked(True)
    assert page.model.column_keys() == [
        "asset_no", "owner_dept", "in_service", "model", "updated_at",
    ]  # fmt: skip
    saved = repair.view_settings.load(repair.actor.user_id, "equipment_repair.device")
    assert saved["current"]["columns"] == page.model.column_keys()


def test_saved_views_are_per_user(qtbot, page, handle, repair, settings):
    from tests.ui.conftest import add_user, services_for

    page.set_filter(Condition("in_service", "eq", True))
    page.save_view("在用设备")
    page.set_filter(None)
    wait_count(qtbot, page, 30)
    page.load_view("在用设备")
    wait_count(qtbot, page, 15)
    other = services_for(handle, "equipment_repair", add_user(handle, "b", "王芳", 1), settings)
    other_page = RecordListPage(other, other.form("device"))
    qtbot.addWidget(other_page)
    other_page.show()  # a list reads once it is on screen
    assert other_page.current_view().filter is None
    assert "在用设备" not in settings.load(other.actor.user_id, other_page.scope).get("views", {})


def test_settings_restore_columns_sort_and_filter(qtbot, page, repair):
    page.set_columns(["name", "price"])
    page.table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.DescendingOrder)
    page.set_filter(Condition("price", "lt", Decimal(10)))
    again = RecordListPage(repair, repair.form("device"))
    qtbot.addWidget(again)
    again.show()  # a list reads once it is on screen
    assert again.model.column_keys() == ["name", "price"]
    assert again.model.query.sort.field == "price" and again.model.query.sort.desc
    wait_count(qtbot, again, 9)


def test_delete_goes_to_trash_and_restore_brings_back(qtbot, page, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: page.model.row(1) is not None)
    select_rows(page, 0, 1)
    page.delete_selected()
    wait_count(qtbot, page, 28)
    page.set_trash(True)
    wait_count(qtbot, page, 2)
    assert page.restore_button.isVisible() and "in the trash" in page.status.text()
    qtbot.waitUntil(lambda: page.model.row(0) is not None)
    select_rows(page, 0)
    page.restore_selected()
    wait_count(qtbot, page, 1)
    page.set_trash(False)
    wait_count(qtbot, page, 29)


def test_double_click_opens_the_record_and_saving_refreshes(qtbot, page):
    qtbot.waitUntil(lambda: page.model.row(0) is not None)
    with qtbot.waitSignal(page.window_opened) as opened:
        page.table.doubleClicked.emit(page.model.index(0, 1))
    window = opened.args[0]
    qtbot.addWidget(window)
    assert window.record.id == page.model.record_id(0)
    editor = window.view.cells["name"].editor
    editor.set_value("改名设备")
    editor.value_changed.emit()
    window.save_and_close()
    qtbot.waitUntil(lambda: "改名设备" in names(qtbot, page))


def test_an_app_view_applies_its_filter_under_the_users(qtbot, repair, icu):
    device = repair.records.create(
        "device", {"asset_no": "EQ-0001", "name": "泵", "owner_dept": icu}
    )
    for status in ("open", "done", "in_progress"):
        values = {"device": device.id, "reported_on": "2024-05-06 09:00", "fault": "x"}
        repair.records.create("request", {**values, "status": status}, repair.actor)
    view = repair.spec.view("open_requests")
    page = RecordListPage(repair, repair.form("request"), view)
    qtbot.addWidget(page)
    page.show()  # a list reads once it is on screen
    wait_count(qtbot, page, 2)  # status <> "done"
    assert page.model.column_keys() == view.columns
    page.set_filter(Condition("status", "eq", "open"))
    wait_count(qtbot, page, 1)
    assert page.current_view().filter == Condition("status", "eq", "open")


def test_opening_a_list_saves_nothing(qtbot, repair, icu, add_devices, monkeypatch):
    add_devices(repair, icu, 5)
    saves = []
    monkeypatch.setattr(repair.view_settings, "save", lambda *args: saves.append(args))
    page = RecordListPage(repair, repair.form("device"))
    qtbot.addWidget(page)
    page.show()  # a list reads once it is on screen
    wait_count(qtbot, page, 5)
    assert saves == []  # only the user's changes are written
    page.set_columns(["name"])
    assert len(saves) == 1


def test_a_list_reads_once_it_is_on_screen(qtbot, repair, icu, add_devices):
    """The window paints before any read starts; a page nobody opened reads nothing."""
    add_devices(repair, icu, 3)
    page = RecordListPage(repair, repair.form("device"))
    qtbot.addWidget(page)
    qtbot.wait(200)
    assert page.model.count is None and page.model.rowCount() == 0
    page.show()
    wait_count(qtbot, page, 3)
    assert page.model.row(0) is not None
