"""What the app controller adds to the main window's menus, from outside.

The main window builds its menus from :class:`RuntimeActions`; the controller
adds "Lock screen" to the account menu, "Language" to the view menu and, for
administrators only, an "Administration" menu.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from resources import icons
from runtime.ui.i18n import language_menu, tr
from runtime.ui.main_window import MainWindow

if TYPE_CHECKING:
    from runtime.ui.app import RuntimeApp

LOCK_SHORTCUT = "Ctrl+L"


def menu_holding(window: MainWindow, action: QAction) -> QMenu | None:
    """The menu bar's menu that contains ``action``."""
    for entry in window.menuBar().actions():
        menu = entry.menu()
        if isinstance(menu, QMenu) and action in menu.actions():
            return menu
    return None


def decorate_main_window(app: RuntimeApp, window: MainWindow) -> None:
    actions = window.actions_
    account = menu_holding(window, actions.log_out)
    lock = QAction(icons.icon("mdi6.lock"), tr("Lock screen"), window)
    lock.setObjectName("lock_screen")
    lock.setShortcut(QKeySequence(LOCK_SHORTCUT))
    lock.triggered.connect(lambda: app.lock())
    window.addAction(lock)
    if account is not None:
        account.insertAction(actions.log_out, lock)
    view = menu_holding(window, actions.columns)
    if view is not None:
        view.addSeparator()
        view.addMenu(language_menu(view, app.change_language))
    if app.session is not None and app.session.is_admin:
        admin = window.menuBar().addMenu(tr("&Administration"))
        admin.setObjectName("administration")
        open_admin = admin.addAction(
            icons.icon("mdi6.account-cog"), tr("Users, departments and audit log…")
        )
        open_admin.setObjectName("open_admin")
        open_admin.triggered.connect(lambda: app.open_admin())
