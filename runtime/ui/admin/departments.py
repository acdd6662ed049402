"""The departments screen: the tree, with add, rename, move and set head."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.services.accounts.service import AccountError, AccountService
from runtime.services.actor import Actor
from runtime.services.org.service import Department, OrgDirectory, OrgService
from runtime.ui.admin.users import ERROR_STYLE, OK_STYLE, Ask, accepted
from runtime.ui.i18n import tr
from runtime.ui.login_dialog import error_label

CODE_ROLE = Qt.ItemDataRole.UserRole


class DepartmentDialog(QDialog):
    """Code (new departments only), name, parent and head of one department."""

    def __init__(
        self,
        directory: OrgDirectory,
        users: list[str],
        department: Department | None = None,
        parent_code: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        editing = department is not None
        self.setWindowTitle(tr("Edit department") if editing else tr("New department"))
        self.code = QLineEdit(department.code or "" if department else "", self)
        self.code.setReadOnly(editing)
        self.name = QLineEdit(department.name if department else "", self)
        self.parent_box = QComboBox(self)
        self.parent_box.addItem(tr("(top level)"), None)
        below = directory.descendants([department.id]) if department else set()
        for item in sorted(directory, key=lambda d: directory.path(d.id)):
            if item.code and item.id not in below:
                self.parent_box.addItem(directory.path(item.id), item.code)
        current_parent = (
            directory.get(department.parent_id) if department and department.parent_id else None
        )
        wanted = current_parent.code if current_parent else parent_code
        self.parent_box.setCurrentIndex(max(0, self.parent_box.findData(wanted)))
        self.head = QComboBox(self)
        self.head.addItem(tr("(no head)"), None)
        for username in users:
            self.head.addItem(username, username)
        self.message = error_label(self)
        self._build()

    def _build(self) -> None:
        form = QFormLayout()
        form.addRow(tr("Code"), self.code)
        form.addRow(tr("Name"), self.name)
        form.addRow(tr("Parent"), self.parent_box)
        form.addRow(tr("Head"), self.head)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def set_head(self, username: str | None) -> None:
        self.head.setCurrentIndex(max(0, self.head.findData(username)))

    def set_parent_code(self, code: str | None) -> None:
        self.parent_box.setCurrentIndex(max(0, self.parent_box.findData(code)))


class DepartmentsPanel(QWidget):
    """The department tree (name, code, head) and its editing actions."""

    def __init__(
        self,
        org: OrgService,
        accounts: AccountService,
        actor: Actor,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.org, self.accounts, self.actor = org, accounts, actor
        self.ask: Ask = lambda dialog: dialog.exec()
        self.directory = org.directory()
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels([tr("Name"), tr("Code"), tr("Head")])
        self.tree.setColumnWidth(0, 280)
        self.status = QLabel(self, wordWrap=True)
        add = QPushButton(icons.icon("mdi6.plus"), tr("Add…"), self)
        add.clicked.connect(self.add)
        self.edit_button = QPushButton(
            icons.icon("mdi6.pencil"), tr("Rename, move, set head…"), self
        )
        self.edit_button.clicked.connect(self.edit)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(self.edit_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        select = select or self.selected_code()
        self.directory = self.org.directory()
        heads = {user.id: user.username for user in self.accounts.list_users()}
        self.tree.clear()
        for root in sorted(self.directory.roots(), key=lambda d: (d.name, d.id)):
            self._add_item(self.tree.invisibleRootItem(), root, heads, select)
        self.tree.expandAll()

    def _add_item(self, parent: QTreeWidgetItem, department: Department, heads: dict, select):
        head = heads.get(department.head_user_id, "")
        item = QTreeWidgetItem(parent, [department.name, department.code or "", head])
        item.setIcon(0, icons.icon("mdi6.domain"))
        item.setData(0, CODE_ROLE, department.code)
        if select and department.code == select:
            self.tree.setCurrentItem(item)
        for child in self.directory.children(department.id):
            self._add_item(item, child, heads, select)

    def selected_code(self) -> str | None:
        item = self.tree.currentItem() if hasattr(self, "tree") else None
        return item.data(0, CODE_ROLE) if item is not None else None

    def select(self, code: str) -> None:
        self.refresh(select=code)

    def _usernames(self) -> list[str]:
        return [user.username for user in self.accounts.list_users() if user.active]

    def _say(self, text: str, ok: bool = True) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)

    def add(self) -> bool:
        """A new department under the selected one (or at the top level)."""
        dialog = DepartmentDialog(
            self.directory, self._usernames(), None, self.selected_code(), self
        )
        if not accepted(self.ask(dialog)):
            return False
        code = dialog.code.text().strip()
        try:
            self.org.add_department(
                code,
                dialog.name.text(),
                parent=dialog.parent_box.currentData(),
                head=dialog.head.currentData(),
                actor=self.actor,
            )
        except AccountError as error:
            self._say(error.message, ok=False)
            return False
        self.refresh(select=code)
        self._say(tr("Department {code} added.").format(code=code))
        return True

    def edit(self) -> bool:
        """Rename, move (a new parent) or set the head of the selected department."""
        code = self.selected_code()
        department = self.directory.by_code(code) if code else None
        if department is None:
            return False
        dialog = DepartmentDialog(self.directory, self._usernames(), department, None, self)
        heads = {user.id: user.username for user in self.accounts.list_users()}
        dialog.set_head(heads.get(department.head_user_id))
        if not accepted(self.ask(dialog)):
            return False
        try:
            self.org.update_department(
                department.code or "",
                name=dialog.name.text(),
                parent=dialog.parent_box.currentData(),
                head=dialog.head.currentData(),
                actor=self.actor,
            )
        except AccountError as error:
            self._say(error.message, ok=False)
            return False
        self.refresh(select=code)
        self._say(tr("Department {code} saved.").format(code=code))
        return True
