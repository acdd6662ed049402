"""Password dialogs: a user changes their own; an administrator resets someone's.

Both check the policy as the user types; the service has the last word and its
refusal is shown in the dialog, which then stays open.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from runtime.services.accounts.service import AccountError, AccountService, LoginFailed
from runtime.services.actor import Actor
from runtime.ui.first_run_dialog import password_form_problems
from runtime.ui.i18n import tr
from runtime.ui.login_dialog import error_label, password_edit, show_message


class _PasswordDialog(QDialog):
    """New password twice (and, for one's own, the current one)."""

    def __init__(
        self, accounts: AccountService, username: str, title: str, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.accounts = accounts
        self.username = username
        self.setWindowTitle(title)
        self.current: QLineEdit | None = None
        self.password = password_edit(self)
        self.repeat = password_edit(self)
        self.message = error_label(self)
        self.form = QFormLayout()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

    def _build(self, intro: str) -> None:
        self.form.addRow(tr("New password"), self.password)
        self.form.addRow(tr("Repeat the password"), self.repeat)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(intro, self, wordWrap=True))
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        for edit in (self.password, self.repeat):
            edit.textChanged.connect(self.check)
        self.setMinimumWidth(440)
        self.check()

    def check(self) -> bool:
        problems = password_form_problems(
            self.accounts, self.username, self.password.text(), self.repeat.text()
        )
        show_message(self.message, "\n".join(f"• {p}" for p in problems))
        edits = [self.password, self.repeat, *([self.current] if self.current else [])]
        ready = all(edit.text() for edit in edits) and not problems
        self.ok_button.setEnabled(ready)
        return ready

    def submit(self) -> bool:
        """Store the password; True (and accepted) on success."""
        if not self.check():
            return False
        try:
            self.store(self.password.text())
        except AccountError as error:
            show_message(self.message, self.refusal(error))
            return False
        self.accept()
        return True

    def store(self, password: str) -> None:
        raise NotImplementedError

    def refusal(self, error: AccountError) -> str:
        return error.message


class ChangePasswordDialog(_PasswordDialog):
    """The signed-in user changes their own password, proving the current one."""

    def __init__(
        self, accounts: AccountService, username: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(accounts, username, tr("Change password"), parent)
        self.current = password_edit(self)
        self.current.textChanged.connect(self.check)
        self.form.addRow(tr("Current password"), self.current)
        self._build(tr("Choose a new password for {user}.").format(user=username))

    def store(self, password: str) -> None:
        assert self.current is not None
        self.accounts.change_password(self.username, self.current.text(), password)

    def refusal(self, error: AccountError) -> str:
        if type(error) is LoginFailed:
            return tr("The current password is wrong.")
        return error.message


class ResetPasswordDialog(_PasswordDialog):
    """An administrator sets a user's password (this also lifts a lockout)."""

    def __init__(
        self,
        accounts: AccountService,
        username: str,
        actor: Actor,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(accounts, username, tr("Reset password"), parent)
        self.actor = actor
        self._build(
            tr("Set a new password for {user}. Tell it to them in person.").format(user=username)
        )

    def store(self, password: str) -> None:
        self.accounts.set_password(self.username, password, actor=self.actor)
