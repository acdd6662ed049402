"""Editor of single-line text."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLineEdit

from widgets.base import FieldValueError
from widgets.editors.base import FieldEditor
from widgets.registry import default_registry


class TextEditor(FieldEditor):
    """A line edit. Over-long text (a paste) is not cut off silently: it is a
    :meth:`problem` that names the limit, and the form refuses to save it."""

    keeps_typed_text = True

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.field_type = default_registry.of(spec)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(getattr(spec, "placeholder", "") or "")
        self.line.textEdited.connect(self.value_changed)
        self.line.editingFinished.connect(self.finished)
        self.layout_.addWidget(self.line)
        self.setFocusProxy(self.line)

    def value(self) -> Any:
        text = self.line.text()
        return text if text.strip() else None

    def problem(self) -> str | None:
        try:
            self.field_type.validate(self.spec, self.value())
        except FieldValueError as error:
            return error.message
        return None

    def set_value(self, value: Any) -> None:
        self.line.setText("" if value is None else str(value))

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.line.setReadOnly(read_only)
