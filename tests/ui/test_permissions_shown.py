"""The windows show what the service's policy allows (they decide nothing)."""

from __future__ import annotations

from datetime import datetime

from runtime.ui.main_window import MainWindow
from runtime.ui.record_list import RecordListPage
from runtime.ui.record_window import RecordWindow
from tests.ui.conftest import add_user, services_for

CLERK = {"equipment_repair": frozenset({"ward_clerk"})}


def test_a_ward_clerk_creates_requests_without_touching_readonly_fields(qtbot, handle, icu):
    admin = services_for(handle, "equipment_repair", add_user(handle, "admin", "管理员", icu))
    device = admin.records.create(
        "device", {"asset_no": "EQ-0009", "name": "泵", "owner_dept": icu}
    )
    clerk = services_for(handle, "equipment_repair", add_user(handle, "c", "王芳", icu, CLERK))
    window = RecordWindow(clerk, clerk.form("request"))
    qtbot.addWidget(window)
    assert window.view.cells["status"].editor.is_read_only()  # readonly for this role
    assert not window.view.cells["fault"].editor.is_read_only()
    for key, value in {
        "device": device.id,
        "reported_on": datetime(2024, 1, 2, 8),
        "fault": "坏",
    }.items():
        window.view.cells[key].editor.set_value(value)
    assert window.save(), window.banner.text()
    assert window.record.values["status"] == "open"  # the field's default, set by the service


def test_read_only_forms_offer_no_new_or_delete(qtbot, handle, icu):
    clerk = services_for(handle, "equipment_repair", add_user(handle, "c", "王芳", icu, CLERK))
    page = RecordListPage(clerk, clerk.form("device"))
    qtbot.addWidget(page)
    assert not page.new_action.isEnabled() and not page.delete_action.isEnabled()
    assert page.new_record() is None


def test_forms_the_user_cannot_read_are_not_listed(qtbot, handle, icu):
    nobody = services_for(handle, "equipment_repair", add_user(handle, "n", "无权", icu, {}))
    window = MainWindow(nobody)
    qtbot.addWidget(window)
    assert window.nav.topLevelItemCount() == 0


def test_a_ward_clerk_edits_a_request_without_sending_readonly_fields(qtbot, handle, icu):
    """Issue #11 §3: the services refuse any readonly or hidden field named in a
    write, so the window sends only the fields the user may edit (a formula and
    the serial number stay out of the save)."""
    admin = services_for(handle, "equipment_repair", add_user(handle, "admin", "管理员", icu))
    device = admin.records.create(
        "device", {"asset_no": "EQ-0010", "name": "泵", "owner_dept": icu}
    )
    clerk = services_for(handle, "equipment_repair", add_user(handle, "c", "王芳", icu, CLERK))
    values = {"device": device.id, "reported_on": datetime(2024, 1, 2, 8), "fault": "坏"}
    request = clerk.records.create("request", values, clerk.actor)
    window = RecordWindow(clerk, clerk.form("request"), request.id)
    qtbot.addWidget(window)
    window.view.cells["fault"].editor.set_value("还是坏")
    window.view.cells["fault"].editor.value_changed.emit()
    sent = window.changes()
    assert sent == {"fault": "还是坏"}
    assert window.save(), window.banner.text()
    assert clerk.records.get("request", request.id, clerk.actor).values["fault"] == "还是坏"
