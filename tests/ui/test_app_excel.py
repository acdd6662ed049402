"""The app controller wires the main window's Excel actions to the dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog

from runtime.ui.excel_dialogs import ExcelActions, ExportDialog, ImportDialog
from runtime.ui.login_dialog import LoginDialog
from tests.ui.test_app_support import (
    ADMIN,
    ADMIN_PASSWORD,
    NURSE,
    NURSE_PASSWORD,
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
REJECTED = QDialog.DialogCode.Rejected.value


def test_admin_reaches_the_excel_dialogs_through_the_menu(qtbot, ready_db):
    answers = Answers().on(LoginDialog, log_in(ADMIN, ADMIN_PASSWORD))
    app = started(qtbot, ready_db, answers)
    window = app.main_window
    assert window.findChild(ExcelActions) is not None
    actions = window.actions_
    assert actions.export.isEnabled() and actions.import_.isEnabled()
    answers.on(ExportDialog, lambda _dialog: REJECTED).on(ImportDialog, lambda _d: REJECTED)
    actions.export.trigger()
    actions.import_.trigger()
    assert [type(d) for d in answers.seen[-2:]] == [ExportDialog, ImportDialog]


def test_ward_clerk_may_not_export_or_import_devices(qtbot, ready_db):
    app = started(qtbot, ready_db, Answers().on(LoginDialog, log_in(NURSE, NURSE_PASSWORD)))
    actions = app.main_window.actions_
    assert not actions.export.isEnabled()
    assert not actions.import_.isEnabled()
    assert not actions.template.isEnabled()
