"""The administration window: users, departments and the audit log in tabs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from resources import icons
from runtime.services.accounts.service import AccountService
from runtime.services.actor import Actor
from runtime.services.audit_log import AuditLog
from runtime.services.org.service import OrgService
from runtime.services.workspace import Workspace
from runtime.spec.models import AppSpec
from runtime.ui.admin.audit import AuditPanel
from runtime.ui.admin.departments import DepartmentsPanel
from runtime.ui.admin.users import UsersPanel
from runtime.ui.i18n import tr


class AdminWindow(QWidget):
    """Everything an administrator manages in the workspace, for one app's roles."""

    def __init__(
        self,
        workspace: Workspace,
        spec: AppSpec | None,
        actor: Actor,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(tr("Administration — Formwright"))
        accounts, org = AccountService(workspace), OrgService(workspace)
        self.users = UsersPanel(accounts, org, spec, actor, self)
        self.departments = DepartmentsPanel(org, accounts, actor, self)
        self.audit = AuditPanel(AuditLog(workspace, actor), spec, self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.users, icons.icon("mdi6.account-multiple"), tr("Users"))
        self.tabs.addTab(self.departments, icons.icon("mdi6.sitemap"), tr("Departments"))
        self.tabs.addTab(self.audit, icons.icon("mdi6.clipboard-text-clock"), tr("Audit log"))
        self.tabs.currentChanged.connect(self._refresh_tab)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self.resize(1100, 680)

    def _refresh_tab(self, index: int) -> None:
        """Show what other tabs changed (a new user in the head list, new audit rows)."""
        widget = self.tabs.widget(index)
        if widget is self.audit:
            self.audit.fill_choices()
            self.audit.apply()
        elif widget is self.departments:
            self.departments.refresh()
        elif widget is self.users:
            self.users.refresh()
