"""A list view, edited in plain terms: which form, which columns, which records
(a filter expression checked as you type), in which order."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QWidget,
)

from designer.document import DesignerDocument, EditError
from designer.inspector_widgets import ERROR_STYLE, OK_STYLE, check_expression, expression_scope
from runtime.spec.models import ViewSpec


class ViewEditor(QWidget):
    """Every control is one ``set_view_property`` call; the document's
    ``view_changed`` brings the values back."""

    def __init__(self, document: DesignerDocument, view_key: str, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.view_key = view_key
        self._updating = False
        self.title = QLineEdit(self)
        self.title.textEdited.connect(lambda text: self._set("title", text))
        self.form = QComboBox(self)
        for form in document.spec.forms:
            self.form.addItem(f"{form.title} ({form.key})", form.key)
        self.form.activated.connect(lambda i: self._set("form", self.form.itemData(i)))
        self.columns = QListWidget(self)
        self.columns.setMinimumHeight(160)
        self.columns.itemChanged.connect(self._on_column_checked)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText(self.tr('e.g. status <> "done"'))
        self.filter.textEdited.connect(self._on_filter)
        self.filter_status = QLabel(self)
        self.filter_status.setWordWrap(True)
        self.sort_field = QComboBox(self)
        self.sort_desc = QComboBox(self)
        self.sort_desc.addItem(self.tr("ascending (A→Z, oldest first)"), False)
        self.sort_desc.addItem(self.tr("descending (Z→A, newest first)"), True)
        self.sort_field.activated.connect(lambda _i: self._set_sort())
        self.sort_desc.activated.connect(lambda _i: self._set_sort())
        self.error = QLabel(self)
        self.error.setStyleSheet(ERROR_STYLE)
        sort_row = QHBoxLayout()
        sort_row.addWidget(self.sort_field, 1)
        sort_row.addWidget(self.sort_desc, 1)
        layout = QFormLayout(self)
        layout.addRow(QLabel(f"<b>{self.tr('List view')}</b>"))
        layout.addRow(self.tr("Title"), self.title)
        layout.addRow(self.tr("Form"), self.form)
        layout.addRow(self.tr("Columns shown"), self.columns)
        layout.addRow(self.tr("Only records where"), self.filter)
        layout.addRow("", self.filter_status)
        layout.addRow(self.tr("Sort by"), sort_row)
        layout.addRow(self.error)
        document.view_changed.connect(self._on_view_changed)
        self.refresh()

    def view(self) -> ViewSpec:
        return self.document.spec.view(self.view_key)

    def _value_fields(self) -> list[tuple[str, str]]:
        form = self.document.spec.form(self.view().form)
        registry = self.document.registry
        return [(s.key, s.label) for s in (form.fields if form else []) if registry.of(s).has_value]

    def refresh(self) -> None:
        """Show the view's current state (after any change, by anyone)."""
        view = self.view()
        if view is None:
            return
        self._updating = True
        if self.title.text() != view.title:
            self.title.setText(view.title)
        self.form.setCurrentIndex(max(0, self.form.findData(view.form)))
        self._fill_columns(view)
        if self.filter.text() != (view.filter or ""):
            self.filter.setText(view.filter or "")
        self._show_filter_check(view.filter or "")
        self.sort_field.clear()
        self.sort_field.addItem(self.tr("(no sorting)"), "")
        for key, label in self._value_fields():
            self.sort_field.addItem(f"{label} ({key})", key)
        first = view.sort[0] if view.sort else None
        self.sort_field.setCurrentIndex(
            max(0, self.sort_field.findData(first.field if first else ""))
        )
        self.sort_desc.setCurrentIndex(1 if first and first.desc else 0)
        self._updating = False

    def _fill_columns(self, view: ViewSpec) -> None:
        """A tick per field with a value; ticks updated in place when the fields are
        the same (so clicking does not reset the list)."""
        fields = self._value_fields()
        shown = [
            self.columns.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self.columns.count())
        ]
        if shown != [key for key, _label in fields]:
            self.columns.clear()
            for key, label in fields:
                item = QListWidgetItem(f"{label} ({key})", self.columns)
                item.setData(Qt.ItemDataRole.UserRole, key)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        for row in range(self.columns.count()):
            item = self.columns.item(row)
            checked = item.data(Qt.ItemDataRole.UserRole) in view.columns
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _on_view_changed(self, view_key: str, _name: str) -> None:
        if view_key == self.view_key:
            self.refresh()

    def _set(self, name: str, value) -> None:
        if self._updating:
            return
        try:
            self.document.set_view_property(self.view_key, name, value)
            self.error.setText("")
        except EditError as error:
            self.error.setText(error.message)

    def _on_column_checked(self, _item: QListWidgetItem) -> None:
        if self._updating:
            return
        checked = []
        for row in range(self.columns.count()):
            item = self.columns.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                checked.append(item.data(Qt.ItemDataRole.UserRole))
        kept = [key for key in self.view().columns if key in checked]
        self._set("columns", kept + [key for key in checked if key not in kept])

    def _on_filter(self, text: str) -> None:
        self._show_filter_check(text)
        self._set("filter", text.strip() or None)

    def _show_filter_check(self, text: str) -> None:
        if not text.strip():
            self.filter_status.setText(self.tr("(every record)"))
            self.filter_status.setStyleSheet(OK_STYLE)
            return
        scope = expression_scope(self.document, self.view().form)
        problem = check_expression(text, scope, "boolean")
        self.filter_status.setText(problem or self.tr("✓ valid"))
        self.filter_status.setStyleSheet(ERROR_STYLE if problem else OK_STYLE)

    def _set_sort(self) -> None:
        field = self.sort_field.currentData()
        desc = bool(self.sort_desc.currentData())
        self._set("sort", [{"field": field, "desc": desc}] if field else [])
