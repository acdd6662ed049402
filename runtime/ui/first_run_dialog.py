"""The first run of an empty workspace: create the administrator account.

The password policy is checked as the user types (each broken rule is a line
under the fields); "Create" stays disabled until the form is complete.
"""

from __future__ import annotations

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
    AccountError,
    AccountService,
    Session,
    username_problem,
)
from runtime.ui.i18n import tr
from runtime.ui.login_dialog import error_label, password_edit, show_message


def password_form_problems(
    accounts: AccountService, username: str, password: str, repeat: str
) -> list[str]:
    """Policy problems of a new password, plus a mismatch of the repetition."""
    problems = list(accounts.password_problems(password, username)) if password else []
    if password and repeat and password != repeat:
        problems.append(tr("The two passwords differ."))
    return problems


class FirstRunDialog(QDialog):
    """Ask for the administrator's user name, display name and password (twice)."""

    def __init__(self, accounts: AccountService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts = accounts
        self.session: Session | None = None
        self.setWindowTitle(tr("Welcome to Formwright"))
        self.username = QLineEdit(self)
        self.display_name = QLineEdit(self)
        self.password = password_edit(self)
        self.repeat = password_edit(self)
        self.message = error_label(self)
        self.buttons = QDialogButtonBox(self)
        self.create_button = self.buttons.addButton(
            tr("Create administrator"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText(tr("Cancel"))
        self.buttons.accepted.connect(self.create)
        self.buttons.rejected.connect(self.reject)
        self._build()
        for edit in (self.username, self.password, self.repeat):
            edit.textChanged.connect(self.check)
        self.check()

    def _build(self) -> None:
        icon = QLabel(self)
        icon.setPixmap(icons.icon("mdi6.shield-account-outline", color="#2e7d32").pixmap(56, 56))
        icon.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        intro = QLabel(
            tr(
                "This database has no users yet. Create the administrator account: it "
                "adds the other users, departments and roles. Keep its password safe — "
                "there is no default password and no way around it."
            ),
            self,
        )
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow(tr("User name"), self.username)
        form.addRow(tr("Display name"), self.display_name)
        form.addRow(tr("Password"), self.password)
        form.addRow(tr("Repeat the password"), self.repeat)
        self.display_name.setPlaceholderText(tr("e.g. Head nurse Wang"))
        layout = QVBoxLayout(self)
        layout.addWidget(icon)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)

    def problems(self) -> list[str]:
        """Everything that keeps the form from being submitted, in words."""
        name = self.username.text().strip()
        problems = []
        if self.username.text() and username_problem(name):
            problems.append(username_problem(name) or "")
        problems += password_form_problems(
            self.accounts, name, self.password.text(), self.repeat.text()
        )
        return problems

    def check(self) -> bool:
        """Show the problems inline; enable "Create" when the form is complete."""
        problems = self.problems()
        show_message(self.message, "\n".join(f"• {p}" for p in problems))
        complete = all(e.text() for e in (self.username, self.password, self.repeat))
        self.create_button.setEnabled(complete and not problems)
        return complete and not problems

    def create(self) -> bool:
        """Create the administrator and log in as them; True on success."""
        if not self.check():
            return False
        name, password = self.username.text().strip(), self.password.text()
        try:
            self.accounts.create_user(
                name, self.display_name.text().strip() or None, password=password, is_admin=True
            )
            self.session = self.accounts.login(name, password)
        except AccountError as error:
            show_message(self.message, error.message)
            return False
        self.accept()
        return True
