"""Editor of multi-line text, with a character counter when the field has a limit."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout

from widgets.base import FieldValueError
from widgets.editors.base import FieldEditor
from widgets.registry import default_registry

_VISIBLE_LINES = 4


class _PlainTextEdit(QPlainTextEdit):
    """Asks for a few lines, not Qt's default of a dozen; forms can still stretch it."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), self.minimumHeight())


class TextAreaEditor(FieldEditor):
    """Tab moves on to the next field (a nurse fills forms by keyboard); Enter is a
    new line. Over-long text is not cut off: the counter turns red and the form's
    validation names the limit."""

    keeps_typed_text = True

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self._setting = False
        self.text = _PlainTextEdit(self)
        self.text.setPlaceholderText(spec.placeholder or "")
        self.text.setTabChangesFocus(True)
        line = self.text.fontMetrics().lineSpacing()
        self.text.setMinimumHeight(line * _VISIBLE_LINES + 14)
        self.text.textChanged.connect(self._on_changed)
        column = QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(self.text, 1)
        self.counter = QLabel(self)
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.counter.setVisible(spec.max_length is not None)
        column.addWidget(self.counter)
        self.layout_.addLayout(column, 1)
        self.setFocusProxy(self.text)
        self._update_counter()

    def _update_counter(self) -> None:
        limit = self.spec.max_length
        if limit is None:
            return
        count = len(self.text.toPlainText())
        colour = "#c62828" if count > limit else "#777"
        self.counter.setText(f"{count} / {limit}")
        self.counter.setStyleSheet(f"color: {colour}; font-size: 11px;")

    def _on_changed(self) -> None:
        self._update_counter()
        if not self._setting:
            self.value_changed.emit()

    def value(self) -> Any:
        text = self.text.toPlainText()
        return text if text.strip() else None

    def problem(self) -> str | None:
        """Text over the limit names it (it is never cut off)."""
        try:
            default_registry.of(self.spec).validate(self.spec, self.value())
        except FieldValueError as error:
            return error.message
        return None

    def set_value(self, value: Any) -> None:
        self._setting = True
        try:
            self.text.setPlainText("" if value is None else str(value))
        finally:
            self._setting = False

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.text.setReadOnly(read_only)
