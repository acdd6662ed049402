"""The lock screen: an opaque window that stands in for every hidden window.

While it shows, the app controller keeps every other window hidden, so no record
data can be seen or grabbed. Whoever logs in here is reported with
``logged_in(Session)``; the controller decides whether that continues the locked
session (same user) or starts a fresh one.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.services.accounts.service import AccountError, AccountService, Session
from runtime.ui.i18n import tr
from runtime.ui.login_dialog import error_label, login_message, password_edit, show_message

BACKGROUND = "#263238"
PANEL_STYLE = "QFrame#panel { background: white; border-radius: 8px; }"


class LockScreen(QWidget):
    """ "Locked — enter your password", or log in as someone else."""

    logged_in = Signal(object)  # Session

    def __init__(
        self,
        accounts: AccountService,
        locked_user: str,
        locked_name: str,
        switching: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.accounts = accounts
        self.locked_user = locked_user
        self.setWindowTitle(tr("Formwright — locked"))
        self.setAutoFillBackground(True)
        self.setStyleSheet(f"LockScreen {{ background: {BACKGROUND}; }} {PANEL_STYLE}")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.username = QLineEdit("" if switching else locked_user, self)
        self.password = password_edit(self)
        self.message = error_label(self)
        self.unlock_button = QPushButton(icons.icon("mdi6.lock-open-variant"), tr("Unlock"), self)
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.try_unlock)
        self.password.returnPressed.connect(self.try_unlock)
        self.note = QLabel(self._note(locked_name, switching), self, wordWrap=True)
        self._build(switching)
        self.resize(1024, 700)

    def _note(self, name: str, switching: bool) -> str:
        if switching:
            return tr(
                "Log in as another user. {name}'s windows close; log in as {name} to go back."
            ).format(name=name)
        return tr(
            "{name} locked this workstation at {time}. Enter the password to continue, "
            "or log in as another user."
        ).format(name=name, time=f"{datetime.now():%H:%M}")

    def _build(self, switching: bool) -> None:
        panel = QFrame(self, objectName="panel")
        icon = QLabel(panel)
        glyph = "mdi6.account-switch" if switching else "mdi6.lock"
        icon.setPixmap(icons.icon(glyph, color="#37474f").pixmap(64, 64))
        icon.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        title = tr("Switch user") if switching else tr("Locked")
        heading = QLabel(f"<h2>{title}</h2>", panel)
        heading.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        form = QFormLayout()
        form.addRow(tr("User name"), self.username)
        form.addRow(tr("Password"), self.password)
        inner = QVBoxLayout(panel)
        inner.setContentsMargins(32, 24, 32, 24)
        for widget in (icon, heading, self.note):
            inner.addWidget(widget)
        inner.addLayout(form)
        inner.addWidget(self.message)
        inner.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignRight)
        panel.setFixedWidth(460)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(panel, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        (self.username if switching else self.password).setFocus()

    def try_unlock(self) -> Session | None:
        """Log in with the typed credentials; emits ``logged_in`` on success."""
        name = self.username.text().strip()
        if not name:
            show_message(self.message, tr("Enter your user name."))
            return None
        try:
            session = self.accounts.login(name, self.password.text())
        except AccountError as error:
            self.password.clear()
            show_message(self.message, login_message(error))
            return None
        self.password.clear()
        show_message(self.message, "")
        self.logged_in.emit(session)
        return session

    def refuse(self, text: str) -> None:
        """Stay locked with a message (e.g. another user's unsaved work was kept)."""
        show_message(self.message, text)

    def closeEvent(self, event) -> None:
        # Closing the lock screen would reveal nothing, but it would leave no way
        # back; only the controller closes it (with ``dismiss``).
        if getattr(self, "_dismissed", False):
            super().closeEvent(event)
        else:
            event.ignore()

    def dismiss(self) -> None:
        self._dismissed = True
        self.close()
        self.deleteLater()
