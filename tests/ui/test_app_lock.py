"""Auto-lock, unlock, switching user, logging out and changing one's password."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox, QPlainTextEdit
from shiboken6 import isValid

from runtime.api import open_workspace
from runtime.services.accounts.service import AccountService
from runtime.services.accounts.session_guard import session_guard
from runtime.services.org.service import OrgService
from runtime.services.settings import WorkspaceSettings
from runtime.ui.login_dialog import LoginDialog
from runtime.ui.password_dialog import ChangePasswordDialog
from runtime.ui.record_window import RecordWindow
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
    visible_texts,
)

__all__ = ["close_windows", "db", "english", "fast_hashing", "ready_db"]  # fixtures

SECRET_ASSET, SECRET_NAME = "EQ-4711", "Alaris infusion pump"
YES, NO = QMessageBox.StandardButton.Yes.value, QMessageBox.StandardButton.No.value


@pytest.fixture
def data_db(ready_db) -> str:
    """The ready workspace with one device the tests look for on screen."""
    with open_workspace(ready_db) as handle:
        OrgService(handle.workspace).add_department("ICU", "ICU")
        department = OrgService(handle.workspace).directory().by_code("ICU").id
        handle.app("equipment_repair").create(
            "device", {"asset_no": SECRET_ASSET, "name": SECRET_NAME, "owner_dept": department}
        )
    return ready_db


def admin_app(qtbot, db_url: str):
    app = started(qtbot, db_url, Answers().on(LoginDialog, log_in(ADMIN, ADMIN_PASSWORD)))
    page = app.main_window.current_page()
    qtbot.waitUntil(lambda: page.model.count == 1)
    # The count and the first page load on separate workers: wait for the row too.
    qtbot.waitUntil(lambda: page.model.record_id(0) is not None)
    return app, page


def edit_name(window: RecordWindow, text: str) -> None:
    editor = window.view.cells["name"].editor
    editor.set_value(text)
    editor.value_changed.emit()
    assert window.is_dirty()


def test_idle_minutes_default_and_setting(ready_db):
    with open_workspace(ready_db) as handle:
        settings = WorkspaceSettings(handle.workspace)
        assert settings.idle_minutes() == 10
        settings.set_idle_minutes(3)
        assert settings.idle_minutes() == 3
        settings.set("runtime", "idle_minutes", "soon")  # damaged: the default
        assert settings.idle_minutes() == 10


def test_the_screen_locks_itself_after_the_idle_time(qtbot, data_db):
    with open_workspace(data_db) as handle:
        WorkspaceSettings(handle.workspace).set_idle_minutes(0.002)  # 120 ms
    app, _page = admin_app(qtbot, data_db)
    qtbot.waitUntil(lambda: app.lock_screen is not None, timeout=3000)
    assert not app.main_window.isVisible()


def test_locked_windows_show_no_record_data(qtbot, data_db):
    app, page = admin_app(qtbot, data_db)
    window = page.open_record(page.model.record_id(0))
    qtbot.waitUntil(window.isVisible)
    before = visible_texts()
    assert SECRET_ASSET in before and SECRET_NAME in before  # the walker sees them
    screen = app.lock()
    assert screen is not None and screen.isVisible()
    after = visible_texts()
    assert SECRET_ASSET not in after and SECRET_NAME not in after
    assert not window.isVisible() and not app.main_window.isVisible()
    assert "Locked" in after


def test_the_same_user_unlocks_and_keeps_unsaved_input(qtbot, data_db):
    app, page = admin_app(qtbot, data_db)
    window = page.new_record()
    edit_name(window, "Half-typed pump")
    screen = app.lock()
    screen.password.setText("wrong password")
    assert screen.try_unlock() is None
    assert screen.message.text() == "Wrong user name or password."
    assert app.lock_screen is screen
    screen.password.setText(ADMIN_PASSWORD)
    screen.try_unlock()
    assert app.lock_screen is None
    assert window.isVisible() and app.main_window.isVisible()
    assert window.view.cells["name"].editor.value() == "Half-typed pump"
    assert window.is_dirty()


def test_another_user_gets_a_fresh_window_without_the_previous_data(qtbot, data_db):
    app, page = admin_app(qtbot, data_db)
    old_window, record = app.main_window, page.open_record(page.model.record_id(0))
    screen = app.lock()
    screen.username.setText(NURSE)
    screen.password.setText(NURSE_PASSWORD)
    screen.try_unlock()
    assert app.lock_screen is None
    assert app.session.username == NURSE
    assert app.main_window is not old_window
    assert app.main_window.services.actor.username == NURSE
    qtbot.waitUntil(lambda: not isValid(old_window))
    assert not isValid(record)
    menus = [action.text() for action in app.main_window.menuBar().actions()]
    assert "&Administration" not in menus


def test_switching_user_asks_before_dropping_unsaved_work(qtbot, data_db):
    app, page = admin_app(qtbot, data_db)
    window = page.new_record()
    edit_name(window, "Unsaved by the admin")
    answers = Answers().on(QMessageBox, lambda box: NO).on(QMessageBox, lambda box: YES)
    app.run_dialog = answers  # type: ignore[method-assign]
    app.main_window.actions_.switch_user.trigger()
    screen = app.lock_screen
    assert screen.username.text() == ""  # "Switch user" asks for a name
    screen.username.setText(NURSE)
    screen.password.setText(NURSE_PASSWORD)
    screen.try_unlock()
    assert app.lock_screen is screen and app.session.username == ADMIN  # refused: kept
    assert "unsaved work was kept" in screen.message.text()
    assert "1 record window" in answers.of(QMessageBox)[0].text()
    screen.password.setText(NURSE_PASSWORD)
    screen.try_unlock()
    assert app.session.username == NURSE and app.lock_screen is None
    assert not isValid(window) or not window.isVisible()


def test_log_out_shows_the_login_again(qtbot, data_db):
    app, _page = admin_app(qtbot, data_db)
    first = app.main_window
    app.run_dialog = Answers().on(LoginDialog, log_in(NURSE, NURSE_PASSWORD))  # type: ignore[method-assign]
    app.main_window.actions_.log_out.trigger()
    assert app.session.username == NURSE and app.main_window is not first


def test_log_out_cancelled_at_the_login_quits(qtbot, data_db):
    app, _page = admin_app(qtbot, data_db)
    app.run_dialog = Answers().on(LoginDialog, lambda dialog: REJECTED)  # type: ignore[method-assign]
    assert app.log_out()
    assert app.quit_requested and app.main_window is None


def test_log_out_with_unsaved_work_can_be_refused(qtbot, data_db):
    app, page = admin_app(qtbot, data_db)
    edit_name(page.new_record(), "Not yet saved")
    app.run_dialog = Answers().on(QMessageBox, lambda box: NO)  # type: ignore[method-assign]
    assert not app.log_out()
    assert app.session.username == ADMIN and app.main_window.isVisible()


def test_closing_the_main_window_asks_about_unsaved_records(qtbot, monkeypatch, data_db):
    app, page = admin_app(qtbot, data_db)
    edit_name(page.new_record(), "Not yet saved")
    cancel = QMessageBox.StandardButton.Cancel
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: cancel)
    app.main_window.close()
    assert app.main_window.isVisible() and not app.quit_requested


def test_change_own_password(qtbot, data_db):
    app, _page = admin_app(qtbot, data_db)

    def fill(dialog: ChangePasswordDialog) -> int:
        dialog.current.setText("not it")
        dialog.password.setText("New-pass-2024")
        dialog.repeat.setText("New-pass-2024")
        assert not dialog.submit()
        assert dialog.message.text() == "The current password is wrong."
        dialog.current.setText(ADMIN_PASSWORD)
        dialog.password.setText("short")
        assert "at least 8 characters" in dialog.message.text()
        assert not dialog.ok_button.isEnabled()
        dialog.password.setText("New-pass-2024")
        return ACCEPTED if dialog.submit() else REJECTED

    app.run_dialog = Answers().on(ChangePasswordDialog, fill)  # type: ignore[method-assign]
    app.main_window.actions_.change_password.trigger()
    with open_workspace(data_db) as handle:
        assert AccountService(handle.workspace).login(ADMIN, "New-pass-2024").is_admin


def test_lock_screen_action_in_the_account_menu(qtbot, data_db):
    app, _page = admin_app(qtbot, data_db)
    lock = next(a for a in app.main_window.actions() if a.objectName() == "lock_screen")
    assert lock.shortcut().toString() == "Ctrl+L"
    lock.trigger()
    assert app.lock_screen is not None


def _disable(db_url: str, username: str) -> None:
    """An administrator disables the account from another process's workspace."""
    with open_workspace(db_url) as handle:
        accounts = AccountService(handle.workspace)
        admin = accounts.login(ADMIN, ADMIN_PASSWORD).actor()
        accounts.disable_user(username, actor=admin)


def test_a_disabled_account_returns_to_the_login_with_a_message(qtbot, data_db):
    """Issue #11 §3: the nurse's open session ends when she is disabled elsewhere;
    her next service call (saving a record) is refused and the runtime shows the
    login with the reason; nothing is saved."""
    app = started(qtbot, data_db, Answers().on(LoginDialog, log_in(NURSE, NURSE_PASSWORD)))
    session_guard(app.workspace).ttl = 0.0  # another process's change, seen at once
    window = app.main_window.show_list("request").new_record()
    fault = window.view.cells["fault"].editor.findChild(QPlainTextEdit)
    qtbot.keyClicks(fault, "Pump of a leaver")
    seen: list[str] = []

    def at_login(dialog: LoginDialog) -> int:
        seen.append(dialog.message.text())
        return REJECTED

    app.run_dialog = Answers().on(LoginDialog, at_login)  # type: ignore[method-assign]
    _disable(data_db, NURSE)
    window.save_button.click()
    qtbot.waitUntil(lambda: bool(seen), timeout=3000)
    assert "You were logged out" in seen[0] and "disabled" in seen[0]
    assert app.session is None and app.main_window is None and app.quit_requested
    with open_workspace(data_db) as handle:
        assert handle.app("equipment_repair").count("request") == 0


def test_an_idle_session_of_a_disabled_account_ends_too(qtbot, data_db):
    """Without any call, the runtime's own check notices within a few seconds; the
    login then lets another user in."""
    app = started(qtbot, data_db, Answers().on(LoginDialog, log_in(NURSE, NURSE_PASSWORD)))
    app.session_timer.setInterval(50)
    app.session_timer.start()
    session_guard(app.workspace).ttl = 0.0
    app.run_dialog = Answers().on(LoginDialog, log_in(ADMIN, ADMIN_PASSWORD))  # type: ignore[method-assign]
    _disable(data_db, NURSE)
    qtbot.waitUntil(lambda: app.session is not None and app.session.username == ADMIN, timeout=3000)
    assert app.main_window is not None and app.main_window.isVisible()
