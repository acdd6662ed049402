"""Starting the runtime: first run, login, install, and errors shown as dialogs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import runtime.store.engine as engine_module
from runtime.api import open_workspace
from runtime.services.accounts.service import AccountService
from runtime.store.schema import meta_table
from runtime.ui.app import RuntimeApp
from runtime.ui.error_dialog import ErrorDialog
from runtime.ui.first_run_dialog import FirstRunDialog
from runtime.ui.i18n import tr
from runtime.ui.login_dialog import LoginDialog
from runtime.ui.upgrade_dialog import UpgradeDialog
from tests.ui.test_app_support import (
    ACCEPTED,
    ADMIN,
    ADMIN_PASSWORD,
    NURSE,
    NURSE_PASSWORD,
    REJECTED,
    SAMPLE,
    Answers,
    close_windows,
    confirm_upgrade,
    create_admin,
    db,
    english,
    fast_hashing,
    log_in,
    ready_db,
    started,
)

__all__ = ["close_windows", "db", "english", "fast_hashing", "ready_db"]  # fixtures


def test_first_run_asks_for_the_administrator_then_installs(qtbot, db):
    def fill(dialog: FirstRunDialog) -> int:
        dialog.username.setText(ADMIN)
        dialog.password.setText("short")
        assert "at least 8 characters" in dialog.message.text()
        assert not dialog.create_button.isEnabled()
        dialog.password.setText(ADMIN_PASSWORD)
        dialog.repeat.setText(ADMIN_PASSWORD + "x")
        assert "differ" in dialog.message.text()
        return create_admin(dialog)

    answers = Answers().on(FirstRunDialog, fill).on(UpgradeDialog, confirm_upgrade)
    app = started(qtbot, db, answers)
    install = answers.of(UpgradeDialog)[0]
    assert install.plan.is_install
    assert any("Device register" in line for line in install.lines())
    assert app.main_window is not None and app.main_window.isVisible()
    assert app.session is not None and app.session.is_admin
    menus = [action.text() for action in app.main_window.menuBar().actions()]
    assert "&Administration" in menus
    with open_workspace(db) as handle:
        assert AccountService(handle.workspace).has_admin()
        assert handle.workspace.installed_apps() == [("equipment_repair", 1)]


def test_cancelling_the_first_run_exits_without_creating_anything(qtbot, db):
    answers = Answers().on(FirstRunDialog, lambda dialog: REJECTED)
    app = RuntimeApp(SAMPLE, db)
    app.run_dialog = answers  # type: ignore[method-assign]
    assert not app.start()
    with open_workspace(db) as handle:
        assert not AccountService(handle.workspace).has_admin()


def test_login_opens_the_main_window_for_that_user(qtbot, ready_db):
    app = started(qtbot, ready_db, Answers().on(LoginDialog, log_in(NURSE, NURSE_PASSWORD)))
    assert app.session.username == NURSE
    assert app.main_window.services.actor.username == NURSE
    menus = [action.text() for action in app.main_window.menuBar().actions()]
    assert "&Administration" not in menus


def test_wrong_password_and_lockout_messages(qtbot, ready_db):
    with open_workspace(ready_db) as handle:
        dialog = LoginDialog(AccountService(handle.workspace))
        qtbot.addWidget(dialog)
        dialog.username.setText(NURSE)
        for attempt in range(4):
            dialog.password.setText(f"wrong-{attempt}")
            assert not dialog.try_login()
            assert dialog.message.text() == "Wrong user name or password."
            assert dialog.password.text() == ""
        dialog.password.setText("wrong-5")
        assert not dialog.try_login()
        message = dialog.message.text()
        assert "locked after too many failed logins" in message
        assert "Try again in 15 min" in message
        dialog.password.setText(NURSE_PASSWORD)  # even the right password now
        assert not dialog.try_login()
        assert "locked" in dialog.message.text()
        assert dialog.session is None


def test_disabled_account_message(qtbot, ready_db):
    with open_workspace(ready_db) as handle:
        accounts = AccountService(handle.workspace)
        accounts.disable_user(NURSE)
        dialog = LoginDialog(accounts)
        qtbot.addWidget(dialog)
        dialog.username.setText(NURSE)
        dialog.password.setText(NURSE_PASSWORD)
        assert not dialog.try_login()
        assert "disabled" in dialog.message.text()


def test_cancelled_login_exits(qtbot, ready_db):
    app = RuntimeApp(SAMPLE, ready_db)
    app.run_dialog = Answers().on(LoginDialog, lambda dialog: REJECTED)  # type: ignore[method-assign]
    assert not app.start()
    assert app.main_window is None


# -- errors -----------------------------------------------------------------------
def start_failing(package, db) -> tuple[RuntimeApp, ErrorDialog]:
    answers = Answers().on(ErrorDialog, lambda dialog: ACCEPTED)
    app = RuntimeApp(package, db)
    app.run_dialog = answers  # type: ignore[method-assign]
    assert app.start() is False
    assert app.main_window is None
    (dialog,) = answers.of(ErrorDialog)
    return app, dialog


def test_an_invalid_package_is_a_dialog(tmp_path, db):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "app.json").write_text('{"id": "x", "title": ""}', encoding="utf-8")
    _app, dialog = start_failing(folder, db)
    assert dialog.error.title == "The app package is not valid"
    assert "designer" in dialog.error.advice


def test_a_missing_package_is_a_dialog(tmp_path, db):
    _app, dialog = start_failing(tmp_path / "nothing.fwapp", db)
    assert dialog.error.title == "The app package cannot be opened"


def test_a_start_error_speaks_the_users_language_to_the_full_stop(tmp_path, db, monkeypatch):
    """The package's own message comes from the services, translated, and ends as
    a Chinese sentence does."""
    monkeypatch.setenv("FORMWRIGHT_LANG", "zh_CN")
    _app, dialog = start_failing(tmp_path / "nothing.fwapp", db)
    assert (
        dialog.error.title
        == tr("The app package cannot be opened")
        != "The app package cannot be opened"
    )
    sentence = dialog.error.message
    assert "nothing.fwapp" in sentence and "not found" not in sentence
    assert sentence.endswith("。") and not sentence.endswith(".。")


def test_an_unreachable_postgresql_server_is_a_dialog():
    _app, dialog = start_failing(SAMPLE, "postgresql+psycopg://nobody@127.0.0.1:1/x")
    assert dialog.error.title == "The database cannot be used"
    assert "127.0.0.1" in dialog.error.message or "cannot open" in dialog.error.message.lower()
    assert "server is running" in dialog.error.advice


def test_a_network_path_is_refused_with_a_pointer_to_postgresql(monkeypatch, db):
    monkeypatch.setattr(engine_module, "is_network_path", lambda path: True)
    _app, dialog = start_failing(SAMPLE, db)
    assert "network drive" in dialog.error.message
    assert "PostgreSQL" in dialog.error.message


def test_a_newer_database_is_refused(ready_db):
    with open_workspace(ready_db) as handle, handle.workspace.engine.begin() as connection:
        connection.execute(
            meta_table.update().where(meta_table.c.key == "schema_version").values(value="999")
        )
    _app, dialog = start_failing(SAMPLE, ready_db)
    assert "newer Formwright" in dialog.error.message


def test_a_user_who_is_not_an_administrator_cannot_install(qtbot, tmp_path, db):
    with open_workspace(db) as handle:
        accounts = AccountService(handle.workspace)
        accounts.create_user(ADMIN, password=ADMIN_PASSWORD, is_admin=True)
        accounts.create_user(NURSE, password=NURSE_PASSWORD)
    answers = Answers().on(LoginDialog, log_in(NURSE, NURSE_PASSWORD))
    answers.on(ErrorDialog, lambda dialog: ACCEPTED)
    app = RuntimeApp(SAMPLE, db)
    app.run_dialog = answers  # type: ignore[method-assign]
    assert not app.start()
    assert "an administrator must open it first" in app.last_error.message


def test_the_run_command_exits_1_without_a_traceback(monkeypatch, tmp_path, capsys):
    from runtime.cli import main

    seen = []
    monkeypatch.setattr(RuntimeApp, "run_dialog", lambda self, dialog: seen.append(dialog) or 0)
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    assert main(["run", str(tmp_path / "missing"), "--db", url]) == 1
    assert isinstance(seen[0], ErrorDialog)
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("sentence", ["the database is gone", "Ready."])
def test_error_sentences_start_upper_case_and_end_with_a_full_stop(sentence):
    from runtime.store.engine import WorkspaceError
    from runtime.ui.error_dialog import describe_start_error

    message = describe_start_error(WorkspaceError(sentence)).message
    assert message[0].isupper() and message.endswith(".")
    assert message.count(".") == 1


def test_the_database_is_let_go_after_a_cancelled_start(ready_db):
    app = RuntimeApp(SAMPLE, ready_db)
    app.run_dialog = Answers().on(LoginDialog, lambda dialog: REJECTED)  # type: ignore[method-assign]
    assert not app.start()
    assert app.workspace.engine.pool.checkedout() == 0
    engine = sa.create_engine(ready_db)
    with engine.connect() as connection:  # nothing holds a lock
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        connection.exec_driver_sql("ROLLBACK")
    engine.dispose()
