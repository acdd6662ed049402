"""Administration screens: users, departments and the audit log viewer."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QDate
from PySide6.QtWidgets import QPushButton

from runtime.api import open_workspace
from runtime.services.accounts.service import AccountLocked, AccountService, LoginFailed
from runtime.services.audit_log import PAGE_SIZE
from runtime.services.org.service import OrgService
from runtime.services.progress import Progress
from runtime.services.records.service import RecordService
from runtime.store.audit import AuditEntry, append
from runtime.store.schema import audit_table
from runtime.ui.admin import AdminWindow
from runtime.ui.admin.departments import DepartmentDialog
from runtime.ui.admin.user_dialogs import DepartmentsDialog, NewUserDialog, RolesDialog
from runtime.ui.login_dialog import LoginDialog
from runtime.ui.long_task import LongTask
from runtime.ui.password_dialog import ResetPasswordDialog
from tests.ui.test_app_support import (
    ACCEPTED,
    ADMIN,
    ADMIN_PASSWORD,
    NURSE,
    NURSE_PASSWORD,
    REJECTED,
    Answers,
    close_windows,
    db,
    english,
    fast_hashing,
    log_in,
    ready_db,
    started,
)

__all__ = ["close_windows", "db", "english", "fast_hashing", "ready_db"]  # fixtures


@pytest.fixture
def admin(qtbot, ready_db):
    """The administration window opened from the admin's menu, and its services."""
    app = started(qtbot, ready_db, Answers().on(LoginDialog, log_in(ADMIN, ADMIN_PASSWORD)))
    window = app.open_admin()
    assert isinstance(window, AdminWindow)
    return window, app.accounts, OrgService(app.workspace)


def answer(panel, kind, handler) -> None:
    panel.ask = Answers().on(kind, handler)


def test_only_administrators_see_the_menu(qtbot, ready_db):
    app = started(qtbot, ready_db, Answers().on(LoginDialog, log_in(NURSE, NURSE_PASSWORD)))
    assert app.open_admin() is None
    assert all(a.text() != "&Administration" for a in app.main_window.menuBar().actions())


def test_create_a_user(admin):
    window, accounts, org = admin
    org.add_department("ICU", "Intensive care", actor=window.users.actor)

    def fill(dialog: NewUserDialog) -> int:
        dialog.username.setText("zhao.min")
        dialog.display_name.setText("赵敏")
        dialog.password.setText("Zhao-pass-1")
        dialog.repeat.setText("Zhao-pass-2")
        assert not dialog.create()
        assert "differ" in dialog.message.text()
        dialog.repeat.setText("Zhao-pass-1")
        dialog.department.setCurrentIndex(dialog.department.findData("ICU"))
        return ACCEPTED if dialog.create() else REJECTED

    answer(window.users, NewUserDialog, fill)
    window.users.buttons["new"].click()
    assert window.users.selected_username() == "zhao.min"
    assert "Created zhao.min." in window.users.status.text()
    assert accounts.login("zhao.min", "Zhao-pass-1").display_name == "赵敏"
    assert [d.code for d in org.user_departments("zhao.min")] == ["ICU"]
    row = [u.username for u in window.users.users].index("zhao.min")
    assert window.users.table.item(row, 4).text() == "Intensive care"


def test_reset_password_and_unlock(admin):
    window, accounts, _org = admin
    for attempt in range(5):
        with pytest.raises(LoginFailed):
            accounts.login(NURSE, f"wrong-{attempt}")
    with pytest.raises(AccountLocked):
        accounts.login(NURSE, NURSE_PASSWORD)
    panel = window.users
    panel.refresh()
    panel.select(NURSE)
    row = [u.username for u in panel.users].index(NURSE)
    assert panel.table.item(row, 3).text().startswith("locked until ")
    panel.buttons["unlock"].click()
    assert panel.status.text() == f"{NURSE} is unlocked."
    assert accounts.login(NURSE, NURSE_PASSWORD).username == NURSE

    def reset(dialog: ResetPasswordDialog) -> int:
        dialog.password.setText("Fresh-pass-9")
        dialog.repeat.setText("Fresh-pass-9")
        return ACCEPTED if dialog.submit() else REJECTED

    answer(panel, ResetPasswordDialog, reset)
    panel.buttons["password"].click()
    assert accounts.login(NURSE, "Fresh-pass-9").username == NURSE


def test_disable_and_enable(admin):
    window, accounts, _org = admin
    panel = window.users
    panel.select(NURSE)
    panel.buttons["disable"].click()
    assert not accounts.get_user(NURSE).active
    panel.select(ADMIN)
    panel.buttons["disable"].click()  # refused by the service, shown in red
    assert "your own account" in panel.status.text()
    panel.select(NURSE)
    panel.buttons["enable"].click()
    assert accounts.get_user(NURSE).active


def test_assign_and_remove_roles(admin):
    window, accounts, _org = admin
    panel = window.users
    panel.select(NURSE)

    def choose(dialog: RolesDialog) -> int:
        assert set(dialog.boxes) == {"ward_clerk", "engineer", "admin"}
        assert dialog.boxes["ward_clerk"].isChecked()
        dialog.set_chosen({"engineer"})
        return ACCEPTED

    answer(panel, RolesDialog, choose)
    panel.buttons["roles"].click()
    assert accounts.roles_of(NURSE)["equipment_repair"] == frozenset({"engineer"})
    row = [u.username for u in panel.users].index(NURSE)
    assert panel.table.item(row, 5).text() == "engineer"


def test_user_departments(admin):
    window, _accounts, org = admin
    actor = window.users.actor
    org.add_department("HOSP", "Hospital", actor=actor)
    org.add_department("ICU", "ICU", parent="HOSP", actor=actor)
    org.add_department("ER", "Emergency", parent="HOSP", actor=actor)
    panel = window.users
    panel.select(NURSE)

    def choose(dialog: DepartmentsDialog) -> int:
        dialog.set_codes(["ICU", "ER"], primary="ER")
        return ACCEPTED

    answer(panel, DepartmentsDialog, choose)
    panel.buttons["departments"].click()
    assert [d.code for d in org.user_departments(NURSE)] == ["ER", "ICU"]


def test_departments_add_rename_move_and_head(admin):
    window, _accounts, org = admin
    panel = window.departments

    def add(code: str, name: str, parent: str | None):
        def fill(dialog: DepartmentDialog) -> int:
            dialog.code.setText(code)
            dialog.name.setText(name)
            dialog.set_parent_code(parent)
            return ACCEPTED

        answer(panel, DepartmentDialog, fill)
        assert panel.add(), panel.status.text()

    add("HOSP", "Hospital", None)
    add("SURG", "Surgery", "HOSP")
    add("W3", "Ward 3", "HOSP")
    assert panel.tree.topLevelItemCount() == 1
    assert panel.tree.topLevelItem(0).childCount() == 2
    panel.select("W3")

    def edit(dialog: DepartmentDialog) -> int:
        assert dialog.code.isReadOnly()
        dialog.name.setText("Ward 3 (surgical)")
        dialog.set_parent_code("SURG")
        dialog.set_head(NURSE)
        return ACCEPTED

    answer(panel, DepartmentDialog, edit)
    assert panel.edit()
    directory = org.directory()
    ward = directory.by_code("W3")
    assert ward.name == "Ward 3 (surgical)"
    assert directory.path(ward.id) == "Hospital / Surgery / Ward 3 (surgical)"
    assert directory.head_of(ward.id) == window.users.accounts.get_user(NURSE).id
    surgery = panel.tree.topLevelItem(0).child(0)
    assert surgery.child(0).text(2) == NURSE


def test_a_department_cannot_move_under_itself(admin):
    window, _accounts, org = admin
    org.add_department("A", "A", actor=window.users.actor)
    org.add_department("B", "B", parent="A", actor=window.users.actor)
    panel = window.departments
    panel.refresh()
    panel.select("A")

    def edit(dialog: DepartmentDialog) -> int:
        assert dialog.parent_box.findData("B") == -1  # not offered at all
        return REJECTED

    answer(panel, DepartmentDialog, edit)
    assert not panel.edit()


def add_audit_rows(engine, count: int, username: str = "robot") -> None:
    with engine.begin() as connection:
        for number in range(count):
            append(connection, AuditEntry("export", None, username, details={"n": number}))


def test_audit_viewer_filters_and_pages(admin):
    window, accounts, _org = admin
    add_audit_rows(accounts.engine, PAGE_SIZE + 20)
    panel = window.audit
    panel.fill_choices()
    panel.apply()
    assert panel.table.rowCount() == PAGE_SIZE
    assert panel.older_button.isEnabled() and not panel.newer_button.isEnabled()
    panel.older()
    assert panel.table.rowCount() > 0 and panel.newer_button.isEnabled()
    panel.newer()
    assert panel.table.rowCount() == PAGE_SIZE
    panel.user.setCurrentIndex(panel.user.findData(ADMIN))
    assert panel.table.rowCount() >= 1
    actions = {panel.table.item(row, 3).text() for row in range(panel.table.rowCount())}
    assert "login" in actions and "export" not in actions
    panel.user.setCurrentIndex(0)
    panel.action.setCurrentIndex(panel.action.findData("export"))
    assert "of 120" in panel.page_label.text()
    panel.start_on.setChecked(True)
    panel.start.setDate(QDate(date.today() + timedelta(days=1)))
    assert panel.table.rowCount() == 0
    panel.start_on.setChecked(False)
    panel.end_on.setChecked(True)
    panel.end.setDate(QDate(date.today()))
    assert "of 120" in panel.page_label.text()


def test_audit_viewer_form_filter(admin):
    window, accounts, _org = admin
    with accounts.engine.begin() as connection:
        append(connection, AuditEntry("create", 1, ADMIN, "equipment_repair", "device", 7))
    panel = window.audit
    panel.form.setCurrentIndex(panel.form.findData("device"))
    assert panel.table.rowCount() == 1
    assert panel.table.item(0, 6).text() == "7"


@pytest.fixture
def synchronous(monkeypatch):
    monkeypatch.setattr(LongTask, "synchronous", True)


def test_verify_chain_ok_then_broken(admin, synchronous):
    window, accounts, _org = admin
    panel = window.audit
    panel.verify_button.click()
    assert panel.task is not None and panel.task.outcome == "succeeded"
    assert panel.verify_label.text().startswith("The audit log is intact")
    with accounts.engine.begin() as connection:
        victim = connection.execute(audit_table.select().order_by(audit_table.c.id)).first()
        connection.execute(
            audit_table.update().where(audit_table.c.id == victim.id).values(username="mallory")
        )
    panel.verify_button.click()
    assert f"broken at row #{victim.id}" in panel.verify_label.text()
    assert panel.verify_button.isEnabled()


def test_verify_names_a_record_changed_behind_its_back(admin, synchronous):
    window, accounts, org = admin
    department = org.add_department("ICU", "Intensive care", actor=window.users.actor)
    workspace = accounts.workspace
    service = RecordService(workspace, workspace.installed_spec("equipment_repair"))
    values = {"asset_no": "EQ-0001", "name": "泵", "owner_dept": department.id}
    device = service.create("device", values)
    with accounts.engine.begin() as connection:  # as sqlite3 or psql would
        table = service.repository.form_tables("device").table
        connection.execute(table.update().where(table.c.id == device.id).values(name="改"))
    panel = window.audit
    panel.verify_button.click()
    assert panel.verify_label.text() == (
        f"1 records differ from their last audited state, first record #{device.id} of 'device'."
    )


def test_verify_runs_off_the_gui_thread(qtbot, admin):
    window, accounts, _org = admin
    with accounts.engine.connect() as connection:
        rows = connection.execute(sa.select(sa.func.count()).select_from(audit_table)).scalar()
    panel = window.audit
    panel.verify_batch = 2
    panel.verify_button.click()
    assert not panel.verify_button.isEnabled()  # the outcome arrives through the event loop
    steps: list[Progress] = []
    panel.task.progressed.connect(steps.append)
    expected = f"The audit log is intact: {rows} rows checked."
    qtbot.waitUntil(lambda: panel.verify_label.text() == expected, timeout=10_000)
    assert panel.task.wait(5000) and panel.verify_button.isEnabled()
    assert not panel.task.progress_dialog.isVisible()
    assert steps and steps[-1] == Progress(rows, rows, "checking")


def test_cancel_the_chain_check(qtbot, admin):
    window, accounts, _org = admin
    with accounts.engine.begin() as connection:
        for n in range(500):
            append(connection, AuditEntry("login", 1, ADMIN, details={"n": n}))
    panel = window.audit
    panel.verify_batch = 1
    task = panel.verify()  # on the worker thread: 500 queries, cancelled at once
    task.progress_dialog.findChild(QPushButton).click()  # the dialog's Cancel
    qtbot.waitUntil(lambda: not task.running, timeout=10_000)
    assert task.outcome == "cancelled" and task.wait(5000)
    assert panel.verify_label.text() == "Check cancelled."
    assert panel.verify_label.styleSheet() == ""  # neither "intact" green nor "broken" red
    assert panel.verify_button.isEnabled()


def test_closing_the_window_cancels_the_check(qtbot, admin):
    window, accounts, _org = admin
    with accounts.engine.begin() as connection:
        for n in range(500):
            append(connection, AuditEntry("login", 1, ADMIN, details={"n": n}))
    window.tabs.setCurrentWidget(window.audit)
    window.audit.verify_batch = 1
    task = window.audit.verify()
    window.close()  # else deleting the window would wait for the whole walk
    qtbot.waitUntil(lambda: not task.running, timeout=10_000)
    assert task.outcome == "cancelled" and task.wait(5000)


def test_admin_tabs_refresh_when_shown(admin):
    window, accounts, _org = admin
    with open_workspace(str(accounts.engine.url)) as handle:
        AccountService(handle.workspace).create_user("late.user", actor=window.users.actor)
    window.tabs.setCurrentWidget(window.departments)
    window.tabs.setCurrentWidget(window.users)
    assert "late.user" in [user.username for user in window.users.users]
