"""Dialogs of the users screen: a new user, a user's roles, a user's departments."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from runtime.services.accounts.service import (
    BUILTIN_APP_ROLES,
    AccountError,
    AccountService,
    UserInfo,
)
from runtime.services.actor import Actor
from runtime.services.org.service import Department, OrgDirectory
from runtime.spec.models import AppSpec
from runtime.ui.first_run_dialog import password_form_problems
from runtime.ui.i18n import tr
from runtime.ui.login_dialog import error_label, password_edit, show_message

CODE_ROLE = Qt.ItemDataRole.UserRole


def _buttons(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
    buttons.rejected.connect(dialog.reject)
    return buttons


def coded(directory: OrgDirectory) -> list[Department]:
    """Departments that have a code (the only ones memberships can name), by path."""
    found = [d for d in directory if d.code]
    return sorted(found, key=lambda d: directory.path(d.id))


class NewUserDialog(QDialog):
    """User name, display name, optional password (twice), administrator, department."""

    def __init__(
        self,
        accounts: AccountService,
        directory: OrgDirectory,
        actor: Actor,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.accounts, self.actor = accounts, actor
        self.created: UserInfo | None = None
        self.setWindowTitle(tr("New user"))
        self.username = QLineEdit(self)
        self.display_name = QLineEdit(self)
        self.password = password_edit(self)
        self.repeat = password_edit(self)
        self.is_admin = QCheckBox(tr("Administrator (manages users; sees everything)"), self)
        self.department = QComboBox(self)
        self.department.addItem(tr("(none)"), None)
        for department in coded(directory):
            self.department.addItem(directory.path(department.id), department.code)
        self.message = error_label(self)
        self.buttons = _buttons(self)
        self.buttons.accepted.connect(self.create)
        self._build()

    def _build(self) -> None:
        form = QFormLayout()
        form.addRow(tr("User name"), self.username)
        form.addRow(tr("Display name"), self.display_name)
        form.addRow(tr("Password"), self.password)
        form.addRow(tr("Repeat the password"), self.repeat)
        form.addRow(tr("Department"), self.department)
        form.addRow("", self.is_admin)
        hint = tr("Without a password the user cannot log in until you set one.")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(hint, self, wordWrap=True))
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

    def create(self) -> bool:
        name, password = self.username.text().strip(), self.password.text()
        problems = password_form_problems(self.accounts, name, password, self.repeat.text())
        if password and password != self.repeat.text() and not problems:
            problems.append(tr("The two passwords differ."))
        if problems:
            show_message(self.message, "\n".join(f"• {p}" for p in problems))
            return False
        code = self.department.currentData()
        try:
            self.created = self.accounts.create_user(
                name,
                self.display_name.text().strip() or None,
                password=password or None,
                is_admin=self.is_admin.isChecked(),
                departments=[code] if code else [],
                actor=self.actor,
            )
        except AccountError as error:
            show_message(self.message, error.message)
            return False
        self.accept()
        return True


class RolesDialog(QDialog):
    """Checkboxes of the app's roles (and its built-in administrator role)."""

    def __init__(
        self, spec: AppSpec, username: str, held: frozenset[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Roles of {user} in {app}").format(user=username, app=spec.title))
        self.boxes: dict[str, QCheckBox] = {}
        layout = QVBoxLayout(self)
        choices = [(role.key, f"{role.title} ({role.key})") for role in spec.roles]
        choices += [
            (key, tr("App administrator ({key}): everything in this app").format(key=key))
            for key in sorted(BUILTIN_APP_ROLES)
        ]
        for key, text in choices:
            box = QCheckBox(text, self)
            box.setChecked(key in held)
            self.boxes[key] = box
            layout.addWidget(box)
        buttons = _buttons(self)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)

    def chosen(self) -> set[str]:
        return {key for key, box in self.boxes.items() if box.isChecked()}

    def set_chosen(self, keys: set[str]) -> None:
        for key, box in self.boxes.items():
            box.setChecked(key in keys)


class DepartmentsDialog(QDialog):
    """Check the user's departments and pick the primary one."""

    def __init__(
        self,
        directory: OrgDirectory,
        username: str,
        current: list[Department],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Departments of {user}").format(user=username))
        self.list = QListWidget(self)
        held = {d.code for d in current}
        for department in coded(directory):
            item = QListWidgetItem(directory.path(department.id), self.list)
            item.setData(CODE_ROLE, department.code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = department.code in held
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.primary = QComboBox(self)
        for department in coded(directory):
            self.primary.addItem(directory.path(department.id), department.code)
        if current:
            self.primary.setCurrentIndex(self.primary.findData(current[0].code))
        self.message = error_label(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        form = QFormLayout()
        form.addRow(tr("Primary department"), self.primary)
        layout.addLayout(form)
        layout.addWidget(self.message)
        buttons = _buttons(self)
        buttons.accepted.connect(self.check_and_accept)
        layout.addWidget(buttons)

    def codes(self) -> list[str]:
        items = (self.list.item(row) for row in range(self.list.count()))
        return [i.data(CODE_ROLE) for i in items if i.checkState() == Qt.CheckState.Checked]

    def set_codes(self, codes: list[str], primary: str | None = None) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            on = item.data(CODE_ROLE) in codes
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        if primary:
            self.primary.setCurrentIndex(self.primary.findData(primary))

    def primary_code(self) -> str | None:
        codes = self.codes()
        chosen = self.primary.currentData()
        return chosen if chosen in codes else (codes[0] if codes else None)

    def check_and_accept(self) -> None:
        chosen = self.primary.currentData()
        if self.codes() and chosen not in self.codes():
            show_message(self.message, tr("The primary department must be one of the checked."))
            return
        self.accept()
