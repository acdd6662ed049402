"""The runtime's windows through a restart of the PostgreSQL server: a save while it
is away keeps the form open with what the user typed and says why, the list says
so in its status line, and saving again once the server is back just works."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from runtime.api import open_workspace
from runtime.services.accounts.session_guard import session_guard
from runtime.ui.main_window import MainWindow
from tests.ui.conftest import ROOT, add_department, add_user, services_for

pytestmark = pytest.mark.postgres

AWAY = "the database server cannot be reached (it may be restarting, or the network is down)"


@pytest.fixture
def postgres_handle(private_postgres):
    handle = open_workspace(private_postgres.new_database())
    handle.upgrade(ROOT / "sample_apps" / "equipment_repair")
    yield handle
    handle.close()


def test_a_save_while_the_server_is_away_keeps_the_form_and_works_once_it_is_back(
    qtbot, postgres_handle, private_postgres
):
    icu = add_department(postgres_handle, "重症监护室")
    nurse = add_user(postgres_handle, "zhang.wei", "张伟", icu)
    window = MainWindow(services_for(postgres_handle, "equipment_repair", nurse))
    qtbot.addWidget(window)
    window.show()
    page = window.show_list("device")
    qtbot.waitUntil(lambda: page.status.text() == "0 records")
    record = page.new_record()
    qtbot.addWidget(record)
    typed = {"asset_no": "EQ-0001", "name": "输液泵", "owner_dept": icu}
    for key, value in typed.items():
        record.view.cells[key].editor.set_value(value)
        record.view.cells[key].editor.value_changed.emit()

    with private_postgres.stopped():
        session_guard(postgres_handle.workspace).forget()  # the save asks the server first
        qtbot.mouseClick(record.save_button, Qt.MouseButton.LeftButton)
        assert record.isVisible() and record.is_dirty()
        assert record.banner.isVisible()
        assert record.banner.text() == (
            f"{AWAY}; check that it runs and the address. Your entries are kept: save again "
            "when the server is back."
        )
        assert {key: record.view.values()[key] for key in typed} == typed
        page.refresh()
        qtbot.waitUntil(lambda: page.status.text().startswith(AWAY))

    with qtbot.waitSignal(record.saved):
        qtbot.mouseClick(record.save_button, Qt.MouseButton.LeftButton)
    assert not record.isVisible()
    qtbot.waitUntil(lambda: page.status.text() == "1 record")
    saved = postgres_handle.app("equipment_repair").service.page("device").records
    assert [(r.values["asset_no"], r.values["name"]) for r in saved] == [("EQ-0001", "输液泵")]
