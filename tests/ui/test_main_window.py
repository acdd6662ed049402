"""The main window: navigation of forms and views, menus, status bar."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from runtime.ui.main_window import MainWindow
from runtime.ui.record_window import RecordWindow


def test_navigation_lists_forms_and_views(qtbot, repair, icu, add_devices):
    add_devices(repair, icu, 12)
    window = MainWindow(repair)
    qtbot.addWidget(window)
    window.show()
    top = [window.nav.topLevelItem(i).text(0) for i in range(window.nav.topLevelItemCount())]
    assert top == [form.title for form in repair.spec.forms]
    device = window.nav.topLevelItem(0)
    assert device.child(0).text(0) == "全部设备 All devices"
    window.nav.setCurrentItem(device)
    page = window.current_page()
    qtbot.waitUntil(lambda: page.model.count == 12)
    qtbot.waitUntil(lambda: "12 records" in window.count_label.text())
    window.nav.setCurrentItem(device.child(0))
    view_page = window.current_page()
    assert view_page is not page
    assert view_page.model.column_keys() == ["asset_no", "name", "owner_dept", "in_service"]
    assert view_page.model.query.sort.field == "asset_no"


def test_status_bar_shows_user_department_and_database(qtbot, repair):
    window = MainWindow(repair)
    qtbot.addWidget(window)
    texts = [label.text() for label in window.statusBar().findChildren(QLabel)]
    assert any("张伟 · 重症监护室" in text for text in texts)
    assert any(text.startswith("SQLite ") for text in texts)


def test_menu_actions_reach_the_current_list(qtbot, repair):
    window = MainWindow(repair)
    qtbot.addWidget(window)
    page = window.current_page()
    with qtbot.waitSignal(page.window_opened) as opened:
        window.actions_.new.trigger()
    assert isinstance(opened.args[0], RecordWindow)
    qtbot.addWidget(opened.args[0])
    window.actions_.trash.setChecked(True)
    assert page.model.query.trash
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus == ["&File", "&Records", "&View", "&Account"]
    assert window.actions_.refresh.shortcut().toString() == "F5"


def test_account_and_excel_actions_are_signals_for_the_controller(qtbot, repair):
    window = MainWindow(repair)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.log_out_requested):
        window.actions_.log_out.trigger()
    with qtbot.waitSignal(window.switch_user_requested):
        window.actions_.switch_user.trigger()
    with qtbot.waitSignal(window.export_requested) as export:
        window.actions_.export.trigger()
    assert export.args[0] == "device"
