"""The runtime main window's actions, in one object (menus and toolbars use them).

Account actions only emit signals: the app controller (login, accounts) handles
them. Record actions are routed by the main window to the current list page.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenuBar

from resources import icons
from runtime.ui.i18n import tr


class RuntimeActions(QObject):
    """Every QAction of the runtime window, grouped by menu."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.export = self._make("mdi6.microsoft-excel", tr("Export…"))
        self.import_ = self._make("mdi6.file-import-outline", tr("Import…"))
        self.template = self._make("mdi6.file-table-outline", tr("Template…"))
        self.close = self._make("mdi6.close", tr("Close"), QKeySequence.StandardKey.Close)
        self.new = self._make("mdi6.plus", tr("New"), QKeySequence.StandardKey.New)
        self.open = self._make("mdi6.open-in-app", tr("Open"), "Return")
        self.delete = self._make("mdi6.delete", tr("Delete"), QKeySequence.StandardKey.Delete)
        self.restore = self._make("mdi6.restore", tr("Restore"))
        self.refresh = self._make("mdi6.refresh", tr("Refresh"), "F5")
        self.find = self._make("mdi6.magnify", tr("Find"), QKeySequence.StandardKey.Find)
        self.switch_user = self._make("mdi6.account-switch", tr("Switch user…"))
        self.log_out = self._make("mdi6.logout", tr("Log out"))
        self.change_password = self._make("mdi6.key-change", tr("Change password…"))
        self.columns = self._make("mdi6.table-column", tr("Columns…"))
        self.trash = self._make("mdi6.delete-outline", tr("Show trash"))
        self.trash.setCheckable(True)

    def _make(self, icon: str, text: str, shortcut=None) -> QAction:
        action = QAction(icons.icon(icon), text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def menus(self) -> dict[str, list[QAction | None]]:
        """Menu titles and their actions (None is a separator)."""
        return {
            tr("&File"): [self.export, self.import_, self.template, None, self.close],
            tr("&Records"): [
                self.new,
                self.open,
                self.delete,
                self.restore,
                None,
                self.refresh,
                self.find,
            ],
            tr("&View"): [self.columns, self.trash],
            tr("&Account"): [self.switch_user, self.change_password, None, self.log_out],
        }

    def fill(self, bar: QMenuBar) -> None:
        for title, actions in self.menus().items():
            menu = bar.addMenu(title)
            for action in actions:
                menu.addSeparator() if action is None else menu.addAction(action)
