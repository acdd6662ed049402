"""The users screen: a table of accounts and the actions an administrator takes.

Every action names the selected user and calls one service method; refusals
(the last administrator, one's own account …) show in the status line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.services.accounts.service import AccountError, AccountService, UserInfo
from runtime.services.actor import Actor
from runtime.services.org.service import OrgService
from runtime.services.workspace import utc_now
from runtime.spec.models import AppSpec
from runtime.ui.admin.user_dialogs import DepartmentsDialog, NewUserDialog, RolesDialog
from runtime.ui.i18n import tr
from runtime.ui.password_dialog import ResetPasswordDialog

OK_STYLE = "color: #2e7d32;"
ERROR_STYLE = "color: #c62828;"
Ask = Callable[[QDialog], int]


def accepted(result: object) -> bool:
    """Whether ``exec()`` (or a test answering for it) returned Accepted."""
    return int(getattr(result, "value", result)) == QDialog.DialogCode.Accepted.value  # type: ignore[arg-type]


class UsersPanel(QWidget):
    """Create, disable/enable, reset passwords, unlock, roles and departments."""

    def __init__(
        self,
        accounts: AccountService,
        org: OrgService,
        spec: AppSpec | None,
        actor: Actor,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.accounts, self.org, self.spec, self.actor = accounts, org, spec, actor
        self.ask: Ask = lambda dialog: dialog.exec()
        self.users: list[UserInfo] = []
        self.table = self._make_table()
        self.status = QLabel(self, wordWrap=True)
        self.buttons = {
            "new": self._button("mdi6.account-plus", tr("New user…"), self.new_user),
            "password": self._button("mdi6.lock-reset", tr("Reset password…"), self.reset_password),
            "disable": self._button(
                "mdi6.account-off", tr("Disable"), lambda: self.set_active(False)
            ),
            "enable": self._button(
                "mdi6.account-check", tr("Enable"), lambda: self.set_active(True)
            ),
            "unlock": self._button("mdi6.lock-open-variant", tr("Unlock"), self.unlock),
            "roles": self._button("mdi6.badge-account", tr("Roles…"), self.edit_roles),
            "departments": self._button("mdi6.sitemap", tr("Departments…"), self.edit_departments),
        }
        self._build()
        self.refresh()

    def _make_table(self) -> QTableWidget:
        app = self.spec.title if self.spec else ""
        headers = [tr("User name"), tr("Display name"), tr("Administrator"), tr("Status")]
        headers += [tr("Departments"), tr("Roles in {app}").format(app=app)]
        table = QTableWidget(0, len(headers), self)
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        table.itemSelectionChanged.connect(self._enable_buttons)
        return table

    def _button(self, icon: str, text: str, slot) -> QPushButton:
        button = QPushButton(icons.icon(icon), text, self)
        button.clicked.connect(slot)
        return button

    def _build(self) -> None:
        row = QHBoxLayout()
        for button in self.buttons.values():
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

    # -- showing ------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        select = select or self.selected_username()
        self.users = self.accounts.list_users()
        self.table.setRowCount(len(self.users))
        for row, user in enumerate(self.users):
            for column, text in enumerate(self._texts(user)):
                self.table.setItem(row, column, QTableWidgetItem(text))
            if user.username == select:
                self.table.selectRow(row)
        self._enable_buttons()

    def _texts(self, user: UserInfo) -> list[str]:
        departments = ", ".join(d.name for d in self.org.user_departments(user.username))
        roles = self.accounts.roles_of(user.username).get(self.spec.id, ()) if self.spec else ()
        return [
            user.username,
            user.display_name,
            tr("yes") if user.is_admin else "",
            self._status(user),
            departments,
            ", ".join(sorted(roles)),
        ]

    def _status(self, user: UserInfo) -> str:
        if not user.active:
            return tr("disabled")
        if user.locked(utc_now()) and user.locked_until is not None:
            until = user.locked_until.replace(tzinfo=UTC).astimezone()
            return tr("locked until {time}").format(time=f"{until:%H:%M}")
        return tr("active") if user.has_password else tr("no password")

    def selected_username(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.users[rows[0].row()].username if rows else None

    def select(self, username: str) -> None:
        for row, user in enumerate(self.users):
            if user.username == username:
                self.table.selectRow(row)

    def _enable_buttons(self) -> None:
        chosen = self.selected_username() is not None
        for key, button in self.buttons.items():
            button.setEnabled(key == "new" or chosen)
        self.buttons["roles"].setEnabled(chosen and self.spec is not None)

    def _say(self, text: str, ok: bool = True) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)

    def _run(self, action: Callable[[], object], done: str) -> bool:
        """Run one service call; report success or the refusal."""
        try:
            action()
        except AccountError as error:
            self._say(error.message, ok=False)
            return False
        self._say(done)
        self.refresh()
        return True

    # -- actions --------------------------------------------------------------------
    def new_user(self) -> UserInfo | None:
        dialog = NewUserDialog(self.accounts, self.org.directory(), self.actor, self)
        if not accepted(self.ask(dialog)) or dialog.created is None:
            return None
        self.refresh(select=dialog.created.username)
        self._say(tr("Created {user}.").format(user=dialog.created.username))
        return dialog.created

    def reset_password(self) -> bool:
        name = self.selected_username()
        if name is None:
            return False
        dialog = ResetPasswordDialog(self.accounts, name, self.actor, self)
        if not accepted(self.ask(dialog)):
            return False
        self._say(tr("The password of {user} was set.").format(user=name))
        self.refresh()
        return True

    def set_active(self, active: bool) -> bool:
        name = self.selected_username()
        if name is None:
            return False
        if active:
            call = lambda: self.accounts.enable_user(name, actor=self.actor)  # noqa: E731
            return self._run(call, tr("{user} can log in again.").format(user=name))
        call = lambda: self.accounts.disable_user(name, actor=self.actor)  # noqa: E731
        return self._run(call, tr("{user} can no longer log in.").format(user=name))

    def unlock(self) -> bool:
        name = self.selected_username()
        if name is None:
            return False
        call = lambda: self.accounts.unlock(name, actor=self.actor)  # noqa: E731
        return self._run(call, tr("{user} is unlocked.").format(user=name))

    def edit_roles(self) -> bool:
        name = self.selected_username()
        if name is None or self.spec is None:
            return False
        held = self.accounts.roles_of(name).get(self.spec.id, frozenset())
        dialog = RolesDialog(self.spec, name, held, self)
        if not accepted(self.ask(dialog)):
            return False
        return self._run(lambda: self._apply_roles(name, held, dialog.chosen()), tr("Roles saved."))

    def _apply_roles(self, name: str, held: frozenset[str], chosen: set[str]) -> None:
        assert self.spec is not None
        for key in sorted(chosen - held):
            self.accounts.assign_role(name, self.spec.id, key, actor=self.actor)
        for key in sorted(held - chosen):
            self.accounts.remove_role(name, self.spec.id, key, actor=self.actor)

    def edit_departments(self) -> bool:
        name = self.selected_username()
        if name is None:
            return False
        current = self.org.user_departments(name)
        dialog = DepartmentsDialog(self.org.directory(), name, current, self)
        if not accepted(self.ask(dialog)):
            return False
        codes, primary = dialog.codes(), dialog.primary_code()

        def apply() -> None:
            self.org.set_user_departments(name, codes, primary=primary, actor=self.actor)

        return self._run(apply, tr("Departments saved."))
