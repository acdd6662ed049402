"""The inspector's richer editors: expressions with live checking, a regex with a
test box, and the options table of choice fields."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.document import DesignerDocument, EditError
from designer.inspector_editors import PropertyContext
from resources import icons
from resources.i18n import tr
from runtime.expressions import ExpressionError, TableType, check, parse
from runtime.spec.formula_messages import formula_message, wrong_result_message
from widgets.base import FieldSpecBase
from widgets.types._pattern import PatternRefused, compile_pattern

OK_STYLE = "color: #2e7d32;"
ERROR_STYLE = "color: #c62828;"


def expression_scope(
    document: DesignerDocument, form_key: str, subtable: str | None = None
) -> dict[str, Any]:
    """Names an expression of the form (or of a subtable's row) may use, with types."""
    registry = document.registry
    scope: dict[str, Any] = {}
    for spec in document.form(form_key).fields:
        field_type = registry.of(spec)
        if not field_type.has_value:
            continue
        children = document.children(spec)
        if children is None:
            scope[spec.key] = field_type.expression_type(spec)
            continue
        columns = {
            c.key: registry.of(c).expression_type(c) for c in children if registry.of(c).has_value
        }
        scope[spec.key] = TableType(columns)
        if spec.key == subtable:
            scope.update(columns)
    return scope


def check_expression(text: str, scope: dict[str, Any], result: str | None) -> str | None:
    """The problem with ``text`` in plain words, or ``None`` when it is fine."""
    try:
        found = check(parse(text), scope)
    except ExpressionError as error:
        return formula_message(error)
    if result and found not in (result, "any"):
        return wrong_result_message(found, result)
    return None


class ExpressionProperty(QWidget):
    """An expression typed as text, checked against the form's fields as you type."""

    edited = Signal(object)

    def __init__(self, context: PropertyContext) -> None:
        super().__init__()
        form_key = context.target[1]
        parent = None
        if context.target[0] == "field":
            parent = context.document.field_path(form_key, context.target[2]).parent
        self.scope = expression_scope(context.document, form_key, parent)
        self.result = context.expression_result
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(tr('e.g. urgency = "high"'))
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.line)
        column.addWidget(self.status)
        self.set_value(context.value)
        self.line.textEdited.connect(self._on_edit)

    def _on_edit(self, text: str) -> None:
        self._show_check(text)
        self.edited.emit(text.strip() or None)

    def _show_check(self, text: str) -> None:
        problem = check_expression(text, self.scope, self.result) if text.strip() else None
        self.status.setText(problem or (tr("✓ valid") if text.strip() else ""))
        self.status.setStyleSheet(ERROR_STYLE if problem else OK_STYLE)

    def problem(self) -> str:
        return self.status.text() if self.status.styleSheet() == ERROR_STYLE else ""

    def set_value(self, value: Any) -> None:
        if self.line.text() != (value or ""):
            self.line.setText(value or "")
        self._show_check(self.line.text())


class RegexProperty(QWidget):
    """A regular expression, with a box to try it on a sample text."""

    edited = Signal(object)

    def __init__(self, context: PropertyContext) -> None:
        super().__init__()
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(tr("e.g. [A-Z]{2}-\\d{4}"))
        self.sample = QLineEdit(self)
        self.sample.setPlaceholderText(tr("Try a value here"))
        self.status = QLabel(self)
        self.status.setWordWrap(True)  # a refused pattern says why in a sentence
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.line)
        column.addWidget(self.sample)
        column.addWidget(self.status)
        self.set_value(context.value)
        self.line.textEdited.connect(self._on_edit)
        self.sample.textEdited.connect(lambda _t: self._try())

    def _on_edit(self, text: str) -> None:
        self._try()
        self.edited.emit(text or None)

    def _try(self) -> None:
        try:  # the runtime's engine: linear time, the same verdicts as a save
            pattern = compile_pattern(self.line.text())
        except PatternRefused as error:
            self.status.setText(str(error))
            self.status.setStyleSheet(ERROR_STYLE)
            return
        if not self.sample.text():
            self.status.setText("")
            return
        matched = pattern.fullmatch(self.sample.text()) is not None
        self.status.setText(tr("✓ matches") if matched else tr("✗ does not match"))
        self.status.setStyleSheet(OK_STYLE if matched else ERROR_STYLE)

    def set_value(self, value: Any) -> None:
        if self.line.text() != (value or ""):
            self.line.setText(value or "")


class OptionsProperty(QWidget):
    """The choices of a select: edit labels and values in place, add, remove, move.

    It calls the document's option methods itself (one undo step each) and follows
    ``property_changed("options")`` to stay current.
    """

    edited = Signal(object)

    def __init__(self, context: PropertyContext) -> None:
        super().__init__()
        self.document = context.document
        _kind, self.form_key, self.key = context.target
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels([tr("Label"), tr("Value")])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(140)
        self.table.setMinimumWidth(120)
        self.table.itemChanged.connect(self._on_item_changed)
        buttons = QHBoxLayout()
        for text, icon, slot in (
            (tr("Add"), "mdi6.plus", self.add),
            (tr("Remove"), "mdi6.minus", self.remove),
            (tr("Move up"), "mdi6.arrow-up", lambda: self.move(-1)),
            (tr("Move down"), "mdi6.arrow-down", lambda: self.move(1)),
        ):
            button = QToolButton(self)
            button.setIcon(icons.icon(icon, color="#37474f"))
            button.setToolTip(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.error = QLabel(self)
        self.error.setStyleSheet(ERROR_STYLE)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table)
        column.addLayout(buttons)
        column.addWidget(self.error)
        self.set_value(context.value)

    def _spec(self) -> FieldSpecBase:
        return self.document.field(self.form_key, self.key)

    def set_value(self, value: Any) -> None:
        options = self._spec().options
        self.table.blockSignals(True)
        self.table.setRowCount(len(options))
        for row, option in enumerate(options):
            for column, text in enumerate((option.label, option.value)):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)

    def _run(self, work) -> None:
        try:
            work()
            self.error.setText("")
        except EditError as error:
            self.error.setText(error.message)
            self.set_value(None)

    def add(self) -> None:
        label = tr("Option {n}").format(n=len(self._spec().options) + 1)
        self._run(lambda: self.document.add_option(self.form_key, self.key, label))

    def remove(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self._spec().options):
            value = self._spec().options[row].value
            self._run(lambda: self.document.remove_option(self.form_key, self.key, value))

    def move(self, delta: int) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self._spec().options):
            value = self._spec().options[row].value
            self._run(
                lambda: self.document.move_option(self.form_key, self.key, value, row + delta)
            )
            self.table.setCurrentCell(max(0, row + delta), 0)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        options = [option.model_dump() for option in self._spec().options]
        options[item.row()]["label" if item.column() == 0 else "value"] = item.text()
        self._run(
            lambda: self.document.set_field_property(self.form_key, self.key, "options", options)
        )
