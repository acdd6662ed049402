"""A role, edited as two tables: what it may do with each form (a tick per action
and a scope), and which fields of a form it sees read-only or not at all."""

from __future__ import annotations

import typing

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from designer.document import DesignerDocument, EditError
from designer.inspector_widgets import ERROR_STYLE
from resources.i18n import tr
from runtime.spec.models import ACTIONS, FieldMode, RoleSpec

ACTION_TITLES = {
    "create": "Create",
    "read": "Read",
    "update": "Edit",
    "delete": "Delete",
    "export": "Export",
    "import": "Import",
}
SCOPE_TITLES = {
    "own": "Own records",
    "department": "Their department",
    "department_tree": "Department and below",
    "all": "All records",
}
_MODE_WORDS = {"edit": "Can edit", "readonly": "Read-only", "hidden": "Hidden"}
#: Every mode the spec allows. A field a grant does not list is hidden (deny by default).
MODE_TITLES = {mode: _MODE_WORDS.get(mode, mode) for mode in typing.get_args(FieldMode)}


class RoleEditor(QWidget):
    """Each tick or choice is one ``set_grant``/``set_field_mode`` call."""

    def __init__(self, document: DesignerDocument, role_key: str, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.role_key = role_key
        self._updating = False
        self.title = QLineEdit(self)
        self.title.textEdited.connect(self._on_title)
        self.grants = QTableWidget(0, len(ACTIONS) + 1, self)
        headers = [tr(ACTION_TITLES[a]) for a in ACTIONS] + [self.tr("Which records")]
        self.grants.setHorizontalHeaderLabels(headers)
        self.grants.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.grants.itemChanged.connect(self._on_action_ticked)
        self.grants.setMinimumHeight(120)
        self.mode_form = QComboBox(self)
        for form in document.spec.forms:
            self.mode_form.addItem(form.title, form.key)
        self.mode_form.activated.connect(lambda _i: self.refresh())
        self.modes = QTableWidget(0, 2, self)
        self.modes.setHorizontalHeaderLabels([self.tr("Field"), self.tr("Access")])
        self.modes.horizontalHeader().setStretchLastSection(True)
        self.modes.setMinimumHeight(160)
        self.error = QLabel(self)
        self.error.setStyleSheet(ERROR_STYLE)
        layout = QFormLayout(self)
        layout.addRow(QLabel(f"<b>{self.tr('Role')}</b>"))
        layout.addRow(self.tr("Title"), self.title)
        layout.addRow(QLabel(self.tr("What this role may do with each form:")))
        layout.addRow(self.grants)
        layout.addRow(self.tr("Field access in"), self.mode_form)
        layout.addRow(self.modes)
        layout.addRow(self.error)
        document.role_changed.connect(self._on_role_changed)
        self.refresh()

    def _on_role_changed(self, role_key: str, _name: str) -> None:
        if role_key == self.role_key:
            self.refresh()

    def role(self) -> RoleSpec:
        return self.document.spec.role(self.role_key)

    def refresh(self) -> None:
        if self.role() is None:
            return
        self._updating = True
        if self.title.text() != self.role().title:
            self.title.setText(self.role().title)
        self._fill_grants()
        self._fill_modes()
        self._updating = False

    def _fill_grants(self) -> None:
        forms = self.document.spec.forms
        self.grants.setRowCount(len(forms))
        self.grants.setVerticalHeaderLabels([form.title for form in forms])
        for row, form in enumerate(forms):
            grant = self.role().grants.get(form.key)
            for column, action in enumerate(ACTIONS):
                item = QTableWidgetItem()
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                ticked = grant is not None and action in grant.actions
                item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
                self.grants.setItem(row, column, item)
            scope = QComboBox()
            for value, title in SCOPE_TITLES.items():
                scope.addItem(tr(title), value)
            scope.setCurrentIndex(scope.findData(grant.scope if grant else "own"))
            scope.activated.connect(
                lambda _i, key=form.key, box=scope: self._grant(key, scope=box.currentData())
            )
            self.grants.setCellWidget(row, len(ACTIONS), scope)

    def _fill_modes(self) -> None:
        form = self.document.spec.form(self.mode_form.currentData() or "")
        registry = self.document.registry
        fields = [s for s in (form.fields if form else []) if registry.of(s).has_value]
        grant = self.role().grants.get(form.key) if form else None
        self.modes.setRowCount(len(fields))
        for row, spec in enumerate(fields):
            label = QTableWidgetItem(f"{spec.label} ({spec.key})")
            label.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.modes.setItem(row, 0, label)
            mode = QComboBox()
            for value, title in MODE_TITLES.items():
                mode.addItem(tr(title), value)
            mode.setCurrentIndex(
                mode.findData(grant.fields.get(spec.key, "hidden") if grant else "hidden")
            )
            mode.activated.connect(
                lambda _i, key=spec.key, box=mode: self._mode(form.key, key, box.currentData())
            )
            self.modes.setCellWidget(row, 1, mode)

    def _run(self, work) -> None:
        try:
            work()
            self.error.setText("")
        except EditError as error:
            self.error.setText(error.message)

    def _on_title(self, text: str) -> None:
        self._run(lambda: self.document.set_role_property(self.role_key, "title", text))

    def _on_action_ticked(self, item: QTableWidgetItem) -> None:
        if self._updating:
            return
        form = self.document.spec.forms[item.row()]
        actions = [
            action
            for column, action in enumerate(ACTIONS)
            if self.grants.item(item.row(), column).checkState() == Qt.CheckState.Checked
        ]
        if actions:
            self._grant(form.key, actions=actions)
        else:
            self._run(lambda: self.document.remove_grant(self.role_key, form.key))

    def _grant(self, form_key: str, **parts) -> None:
        self._run(lambda: self.document.set_grant(self.role_key, form_key, **parts))

    def _mode(self, form_key: str, key: str, mode: str) -> None:
        self._run(lambda: self.document.set_field_mode(self.role_key, form_key, key, mode))
