"""Editor of single-line text."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLineEdit

from widgets.editors.base import FieldEditor


class TextEditor(FieldEditor):
    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(getattr(spec, "placeholder", "") or "")
        if getattr(spec, "max_length", None):
            self.line.setMaxLength(spec.max_length)
        self.line.textEdited.connect(self.value_changed)
        self.layout_.addWidget(self.line)
        self.setFocusProxy(self.line)

    def value(self) -> Any:
        text = self.line.text()
        return text if text.strip() else None

    def set_value(self, value: Any) -> None:
        self.line.setText("" if value is None else str(value))

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.line.setReadOnly(read_only)
