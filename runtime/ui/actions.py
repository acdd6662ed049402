"""The runtime main window's actions, in one object (menus and toolbars use them).

Account actions only emit signals: the app controller (login, accounts) handles
them. Record actions are routed by the main window to the current list page.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenuBar

from resources import icons


class RuntimeActions(QObject):
    """Every QAction of the runtime window, grouped by menu."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.export = self._make("mdi6.microsoft-excel", "Export…")
        self.import_ = self._make("mdi6.file-import-outline", "Import…")
        self.template = self._make("mdi6.file-table-outline", "Template…")
        self.close = self._make("mdi6.close", "Close", QKeySequence.StandardKey.Close)
        self.new = self._make("mdi6.plus", "New", QKeySequence.StandardKey.New)
        self.open = self._make("mdi6.open-in-app", "Open", "Return")
        self.delete = self._make("mdi6.delete", "Delete", QKeySequence.StandardKey.Delete)
        self.restore = self._make("mdi6.restore", "Restore")
        self.refresh = self._make("mdi6.refresh", "Refresh", "F5")
        self.find = self._make("mdi6.magnify", "Find", QKeySequence.StandardKey.Find)
        self.switch_user = self._make("mdi6.account-switch", "Switch user…")
        self.log_out = self._make("mdi6.logout", "Log out")
        self.change_password = self._make("mdi6.key-change", "Change password…")
        self.columns = self._make("mdi6.table-column", "Columns…")
        self.trash = self._make("mdi6.delete-outline", "Show trash")
        self.trash.setCheckable(True)

    def _make(self, icon: str, text: str, shortcut=None) -> QAction:
        action = QAction(icons.icon(icon), text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def menus(self) -> dict[str, list[QAction | None]]:
        """Menu titles and their actions (None is a separator)."""
        return {
            "&File": [self.export, self.import_, self.template, None, self.close],
            "&Records": [
                self.new,
                self.open,
                self.delete,
                self.restore,
                None,
                self.refresh,
                self.find,
            ],
            "&View": [self.columns, self.trash],
            "&Account": [self.switch_user, self.change_password, None, self.log_out],
        }

    def fill(self, bar: QMenuBar) -> None:
        for title, actions in self.menus().items():
            menu = bar.addMenu(title)
            for action in actions:
                menu.addSeparator() if action is None else menu.addAction(action)
