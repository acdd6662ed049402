"""The login dialog: user name and password; lockout and disabled-account messages.

The dialog calls :meth:`AccountService.login` itself and keeps the resulting
:class:`Session` in ``session``; a failure stays in the dialog as a red line.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.services.accounts.service import (
    AccountDisabled,
    AccountError,
    AccountLocked,
    AccountService,
    LoginFailed,
    Session,
)
from runtime.services.workspace import utc_now
from runtime.ui.i18n import tr

ERROR_STYLE = "color: #c62828;"


def login_message(error: AccountError, now: datetime | None = None) -> str:
    """What a failed login tells the user (the time left for a lockout)."""
    if isinstance(error, AccountLocked):
        left = (error.until - (now or utc_now())).total_seconds()
        minutes = max(1, math.ceil(left / 60))
        at = error.until.replace(tzinfo=UTC).astimezone()
        return tr(
            "The account '{user}' is locked after too many failed logins. Try again in "
            "{minutes} min (at {time}) or ask an administrator to unlock it."
        ).format(user=error.username, minutes=minutes, time=f"{at:%H:%M}")
    if isinstance(error, AccountDisabled):
        return tr("This account is disabled. Ask an administrator to enable it.")
    if isinstance(error, LoginFailed):
        return tr("Wrong user name or password.")
    return error.message


def error_label(parent: QWidget) -> QLabel:
    """A red, word-wrapped line for messages under a form; hidden while empty."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.hide()
    return label


def show_message(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


def password_edit(parent: QWidget) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class LoginDialog(QDialog):
    """Ask for a user name and password until a login succeeds or the user cancels."""

    def __init__(
        self,
        accounts: AccountService,
        subtitle: str = "",
        username: str = "",
        parent: QWidget | None = None,
        notice: str = "",
    ) -> None:
        """``notice``: why the login is asked again (a session that ended)."""
        super().__init__(parent)
        self.accounts = accounts
        self.session: Session | None = None
        self.setWindowTitle(tr("Log in — Formwright"))
        self.username = QLineEdit(username, self)
        self.password = password_edit(self)
        self.message = error_label(self)
        self.buttons = QDialogButtonBox(self)
        self.ok_button = self.buttons.addButton(
            tr("Log in"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.try_login)
        self.buttons.rejected.connect(self.reject)
        self._build(subtitle)
        show_message(self.message, notice)
        (self.password if username else self.username).setFocus()

    def _build(self, subtitle: str) -> None:
        icon = QLabel(self)
        icon.setPixmap(icons.icon("mdi6.account-circle-outline", color="#1565c0").pixmap(56, 56))
        icon.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        heading = QLabel(f"<h3>{tr('Welcome')}</h3>", self)
        heading.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        form = QFormLayout()
        form.addRow(tr("User name"), self.username)
        form.addRow(tr("Password"), self.password)
        layout = QVBoxLayout(self)
        layout.addWidget(icon)
        layout.addWidget(heading)
        if subtitle:
            note = QLabel(subtitle, self, wordWrap=True)
            note.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            note.setStyleSheet("color: #546e7a;")
            layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    def try_login(self) -> bool:
        """Log in with the typed credentials; True (and accepted) on success."""
        name = self.username.text().strip()
        if not name:
            show_message(self.message, tr("Enter your user name."))
            return False
        try:
            self.session = self.accounts.login(name, self.password.text())
        except AccountError as error:
            self.password.clear()
            self.password.setFocus()
            show_message(self.message, login_message(error))
            return False
        self.accept()
        return True
