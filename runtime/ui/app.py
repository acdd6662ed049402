"""The runtime's application controller: start, log in, lock, switch user, log out.

``RuntimeApp(package, db_url).start()`` opens the workspace, runs the first-run
or login dialog, installs or upgrades the app after showing its plan, and opens
the main window; it returns False (after an error dialog, or a cancel) when the
runtime should exit. Every modal dialog goes through :meth:`RuntimeApp.run_dialog`
so tests can answer it without an event loop. ``main`` is the ``run`` command.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget
from shiboken6 import isValid

from runtime.package import PackageError
from runtime.services import upgrade as upgrades
from runtime.services.accounts.service import AccountService, Session
from runtime.services.accounts.session_guard import (
    SESSION_CHECK_SECONDS,
    require_session,
    session_guard,
)
from runtime.services.actor import Actor
from runtime.services.errors import SessionEnded, WorkspaceError
from runtime.services.records.service import RecordService
from runtime.services.settings import WorkspaceSettings
from runtime.services.upgrade import MigrationPlan
from runtime.services.workspace import Workspace, describe_database
from runtime.spec import SpecError, load_app
from runtime.spec.models import AppSpec
from runtime.ui.error_dialog import ErrorDialog, StartError, describe_start_error
from runtime.ui.excel_dialogs import ExcelActions
from runtime.ui.first_run_dialog import FirstRunDialog
from runtime.ui.gc_guard import collect_on_gui_thread
from runtime.ui.i18n import choose_language, start_language, tr
from runtime.ui.idle import IdleWatcher
from runtime.ui.lock_screen import LockScreen
from runtime.ui.login_dialog import LoginDialog
from runtime.ui.long_task import step_texts
from runtime.ui.main_window import MainWindow
from runtime.ui.menus import decorate_main_window
from runtime.ui.password_dialog import ChangePasswordDialog
from runtime.ui.record_window import RecordWindow
from runtime.ui.services import UiServices
from runtime.ui.smoke import painted, watch_first_paint
from runtime.ui.upgrade_dialog import UpgradeDialog

START_ERRORS = (PackageError, SpecError, WorkspaceError)
ACCEPTED = QDialog.DialogCode.Accepted.value
YES = QMessageBox.StandardButton.Yes.value


class RuntimeApp(QObject):
    """One runtime process: a package, a workspace and the signed-in user."""

    #: A service refused the session (its account was disabled or locked); emitted
    #: from whichever thread made the call, handled on the GUI thread.
    session_refused = Signal(int, str)

    def __init__(self, package: str | Path, db_url: str | None = None) -> None:
        super().__init__()
        self.package = Path(package)
        self.db_url = db_url
        self.workspace: Workspace | None = None
        self.accounts: AccountService | None = None
        self.spec: AppSpec | None = None
        self.session: Session | None = None
        self.main_window: MainWindow | None = None
        self.lock_screen: LockScreen | None = None
        self.admin_window: QWidget | None = None
        self.last_error: StartError | None = None
        self.quit_requested = False
        self.in_event_loop = False
        self._hidden: list[QWidget] = []
        self._ending = False
        self.idle = IdleWatcher(self)
        self.idle.idle.connect(self.lock)
        self._session_ending = False
        self.session_refused.connect(self.session_ended, Qt.ConnectionType.QueuedConnection)
        # An idle window makes no service calls: check the account now and then too.
        self.session_timer = QTimer(self, interval=int(SESSION_CHECK_SECONDS * 1000 + 500))
        self.session_timer.timeout.connect(self.check_session)

    # -- dialogs --------------------------------------------------------------
    def run_dialog(self, dialog: QDialog) -> int:
        """Run a modal dialog; tests replace this to answer it."""
        return dialog.exec()

    def confirm(self, title: str, text: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self._parent())
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return _as_int(self.run_dialog(box)) == YES

    def _parent(self) -> QWidget | None:
        return self.lock_screen or self.main_window

    # -- start ----------------------------------------------------------------
    def start(self) -> bool:
        """Open everything up to the main window; False means "exit now"."""
        start_language()
        try:
            package_spec = load_app(self.package)
            self.workspace = Workspace.open(self.db_url)
            session_guard(self.workspace).listeners.append(self._on_session_refused)
            self.accounts = AccountService(self.workspace)
            session = self._first_session()
            if session is None or not self.install_or_upgrade(package_spec, session):
                return self._stop()
            self.spec = self.workspace.installed_spec(package_spec.id)
        except START_ERRORS as error:
            return self.fail(error)
        self.begin_session(session)
        return True

    def fail(self, error: Exception) -> bool:
        """Show why the runtime cannot start; always False."""
        self.last_error = describe_start_error(error)
        self.run_dialog(ErrorDialog(self.last_error))
        return self._stop()

    def _stop(self) -> bool:
        if self.workspace is not None:
            self.workspace.dispose()
        return False

    def _first_session(self) -> Session | None:
        assert self.accounts is not None
        if not self.accounts.has_admin():
            dialog: FirstRunDialog | LoginDialog = FirstRunDialog(self.accounts)
        else:
            dialog = LoginDialog(self.accounts, self._subtitle())
        accepted = _as_int(self.run_dialog(dialog)) == ACCEPTED
        return dialog.session if accepted else None

    def _subtitle(self) -> str:
        if self.workspace is None:
            return self.package.name
        return f"{self.package.name} · {describe_database(self.workspace)}"

    # -- install and upgrade ----------------------------------------------------
    def install_or_upgrade(self, spec: AppSpec, session: Session) -> bool:
        """Show the plan when the package is new or newer and apply it if confirmed."""
        assert self.workspace is not None
        plan = upgrades.plan(self.workspace, spec)
        if upgrades.is_current(plan):
            return True  # the same version: open the installed app as it is
        if not session.is_admin:
            raise WorkspaceError(
                f"this package brings version {spec.version} of '{spec.title}', which is not "
                "installed in this database yet; an administrator must open it first"
            )
        plan = upgrades.preview(self.workspace, spec, session.actor())
        dialog = UpgradeDialog(
            plan, spec.title, lambda: self._upgrade_steps(spec, session), self._backup_note(plan)
        )
        return _as_int(self.run_dialog(dialog)) == ACCEPTED and dialog.applied

    def _backup_note(self, plan: MigrationPlan) -> str:
        """What the dialog says about the backup the upgrade service will (not) write."""
        assert self.workspace is not None
        if not upgrades.takes_backup(plan):
            return ""
        folder = upgrades.backup_folder(self.workspace, plan)
        if folder is None:
            return tr("Make sure the IT department has a recent backup of the database.")
        return tr("A backup of the database is written to {folder} first.").format(folder=folder)

    def _upgrade_steps(self, spec: AppSpec, session: Session) -> Iterator[str]:
        """The upgrade service's steps in the user's words; its blockers as a refusal."""
        assert self.workspace is not None
        steps = upgrades.upgrade_steps(self.workspace, spec, session.actor())
        plan = yield from step_texts(steps)
        if plan.blockers:
            raise WorkspaceError("; ".join(plan.blockers))
        if plan.backup_path is not None:
            yield tr("Backup written to {path}").format(path=plan.backup_path)
        yield tr("Done")

    # -- sessions ---------------------------------------------------------------
    def begin_session(self, session: Session) -> MainWindow:
        """Open a fresh main window for ``session`` and start the idle clock."""
        assert self.workspace is not None and self.spec is not None
        self.session = session
        records = RecordService(self.workspace, self.spec)
        services = UiServices(
            records, session.actor(), view_settings=WorkspaceSettings(self.workspace)
        )
        window = MainWindow(services)
        decorate_main_window(self, window)
        ExcelActions(window, lambda dialog: self.run_dialog(dialog))
        window.switch_user_requested.connect(lambda: self.lock(switching=True))
        window.log_out_requested.connect(self.log_out)
        window.change_password_requested.connect(self.change_password)
        window.installEventFilter(self)
        self.main_window = window
        window.show()
        self.idle.start(WorkspaceSettings(self.workspace).idle_minutes())
        self.session_timer.start()
        return window

    # -- sessions that end (account disabled or locked) -----------------------------
    def _on_session_refused(self, error: SessionEnded, actor: Actor) -> None:
        """The session guard's listener (any thread): hand over to the GUI thread."""
        if self.session is not None and actor.user_id == self.session.user_id:
            self.session_refused.emit(actor.user_id, error.message)

    def check_session(self) -> None:
        """Ask the guard about the signed-in account (the timer, while idle)."""
        if self.session is None or self.workspace is None or self.lock_screen is not None:
            return
        with contextlib.suppress(SessionEnded):  # the listener has queued session_ended
            require_session(self.workspace, self.session.actor())

    def session_ended(self, user_id: int, message: str) -> None:
        """The account was disabled or locked: close its windows (their edits can no
        longer be saved) and show the login with the reason."""
        if self._session_ending or self.session is None or self.session.user_id != user_id:
            return
        self._session_ending = True
        try:
            self.session_timer.stop()
            self.end_session()
            self._dismiss_lock_screen()
            assert self.accounts is not None
            notice = tr("You were logged out: {reason}.").format(reason=message)
            dialog = LoginDialog(self.accounts, self._subtitle(), notice=notice)
            if _as_int(self.run_dialog(dialog)) == ACCEPTED and dialog.session is not None:
                self.begin_session(dialog.session)
            else:
                self.quit()
        finally:
            self._session_ending = False

    def record_windows(self) -> list[RecordWindow]:
        if self.main_window is None:
            return []
        return [w for w in self.main_window.findChildren(RecordWindow) if isValid(w)]

    def unsaved_windows(self) -> list[RecordWindow]:
        """Record windows with edits not saved yet (shown or hidden by the lock)."""
        return [w for w in self.record_windows() if w.isVisible() or w in self._hidden]

    def dirty_windows(self) -> list[RecordWindow]:
        return [w for w in self.unsaved_windows() if w.is_dirty()]

    def end_session(self) -> None:
        """Close every window of the signed-in user without asking (callers ask)."""
        self.idle.pause()
        self._ending = True
        try:
            for window in self.record_windows():
                QDialog.done(window, QDialog.DialogCode.Rejected.value)
            for widget in self._hidden:
                if isValid(widget) and widget is not self.main_window:
                    widget.close()
            if self.main_window is not None:
                self.main_window.close()
                self.main_window.deleteLater()
        finally:
            self._ending = False
        self._hidden = []
        self.main_window = None
        self.admin_window = None
        self.session = None
        self.session_timer.stop()

    # -- locking ----------------------------------------------------------------
    def lock(self, switching: bool = False) -> LockScreen | None:
        """Hide every window behind the lock screen (``switching``: "Switch user")."""
        if self.lock_screen is not None or self.session is None or self.accounts is None:
            return self.lock_screen
        self.idle.pause()
        self._hidden = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
        for widget in self._hidden:
            widget.hide()
        screen = LockScreen(
            self.accounts, self.session.username, self.session.display_name, switching
        )
        if self.main_window is not None:
            screen.setGeometry(self.main_window.geometry())
        screen.logged_in.connect(self._after_lock_login)
        self.lock_screen = screen
        screen.show()
        return screen

    def _after_lock_login(self, session: Session) -> None:
        if self.session is not None and session.user_id == self.session.user_id:
            self.unlock()
        else:
            self.switch_to(session)

    def unlock(self) -> None:
        """Show the hidden windows again, exactly as they were."""
        for widget in self._hidden:
            if isValid(widget):
                widget.show()
        self._hidden = []
        self._dismiss_lock_screen()
        self.idle.resume()

    def switch_to(self, session: Session) -> bool:
        """Another user logged in at the lock screen: a fresh main window for them."""
        dirty = self.dirty_windows()
        if dirty and not self._confirm_discard_other(len(dirty)):
            assert self.lock_screen is not None
            self.lock_screen.refuse(
                tr("{name}'s unsaved work was kept. Log in as {name} to save it.").format(
                    name=self._name()
                )
            )
            return False
        self.end_session()
        self._dismiss_lock_screen()
        self.begin_session(session)
        return True

    def _confirm_discard_other(self, count: int) -> bool:
        text = tr(
            "{name} has unsaved changes in {count} record window(s). If you continue, "
            "those changes are lost. Switch user anyway?"
        ).format(name=self._name(), count=count)
        return self.confirm(tr("Unsaved changes"), text)

    def _name(self) -> str:
        if self.session is None:
            return ""
        return self.session.display_name or self.session.username

    def _dismiss_lock_screen(self) -> None:
        if self.lock_screen is not None:
            self.lock_screen.dismiss()
            self.lock_screen = None

    # -- account menu -------------------------------------------------------------
    def log_out(self) -> bool:
        """Close the user's windows and show the login dialog; False if they stayed."""
        dirty = self.dirty_windows()
        if dirty:
            text = tr(
                "You have unsaved changes in {count} record window(s). Log out and discard them?"
            ).format(count=len(dirty))
            if not self.confirm(tr("Log out"), text):
                return False
        self.end_session()
        assert self.accounts is not None
        dialog = LoginDialog(self.accounts, self._subtitle())
        if _as_int(self.run_dialog(dialog)) == ACCEPTED and dialog.session is not None:
            self.begin_session(dialog.session)
        else:
            self.quit()
        return True

    def change_password(self) -> bool:
        if self.session is None or self.accounts is None:
            return False
        dialog = ChangePasswordDialog(self.accounts, self.session.username, self.main_window)
        return _as_int(self.run_dialog(dialog)) == ACCEPTED

    def change_language(self, language: str) -> None:
        """Save and install the language; reopen the windows when nothing is unsaved."""
        choose_language(language)
        if self.main_window is None or self.session is None:
            return
        if self.dirty_windows():
            text = tr("The new language shows in windows opened from now on.")
            box = QMessageBox(QMessageBox.Icon.Information, tr("Language"), text)
            self.run_dialog(box)
            return
        session = self.session
        self.end_session()
        self.begin_session(session)

    def open_admin(self) -> QWidget | None:
        """The administration window (users, departments, audit log); admins only."""
        if self.session is None or not self.session.is_admin or self.workspace is None:
            return None
        from runtime.ui.admin import AdminWindow

        if self.admin_window is None or not isValid(self.admin_window):
            self.admin_window = AdminWindow(
                self.workspace, self.spec, self.session.actor(), self.main_window
            )
        self.admin_window.show()
        self.admin_window.raise_()
        return self.admin_window

    def shutdown(self) -> None:
        """Close every window without asking and let go of the database."""
        self.idle.stop()
        self.end_session()
        self._dismiss_lock_screen()
        if self.workspace is not None:
            listeners = session_guard(self.workspace).listeners
            if self._on_session_refused in listeners:
                listeners.remove(self._on_session_refused)
            self.workspace.dispose()

    def quit(self) -> None:
        self.quit_requested = True
        self.idle.stop()
        if self.in_event_loop:
            QCoreApplication.quit()

    # -- the main window closing ------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.main_window and event.type() == QEvent.Type.Close and not self._ending:
            if not all(window.confirm_discard() for window in self.dirty_windows()):
                event.ignore()
                return True
            self.quit()
        return False


def _as_int(value: object) -> int:
    return int(getattr(value, "value", value))  # type: ignore[arg-type]


def main(package: str | Path, db_url: str | None = None) -> int:
    """``formwright run``: start, then run the event loop; 1 when it cannot start."""
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    collect_on_gui_thread(app)
    app.setQuitOnLastWindowClosed(False)
    watch_first_paint(app)
    runtime = RuntimeApp(package, db_url)
    if not runtime.start():
        return 0 if painted() else 1  # a smoke run ends its first dialog
    if runtime.quit_requested:
        return 0
    runtime.in_event_loop = True
    app.exec()
    return 0
