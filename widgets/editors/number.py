"""Editor of numbers: a line edit that accepts digits, sign, decimal point and unit."""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QLabel, QLineEdit

from widgets.editors.base import FieldEditor
from widgets.registry import default_registry


class NumberEditor(FieldEditor):
    """Text entry (not a spin box) so exact decimals and empty values are natural.

    Keys that can't be part of a number are refused as they are typed; text that is
    still not a number (``-``, ``,``) or is outside the field's limits is a
    :meth:`problem`, never another value.
    """

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.field_type = default_registry.get("number")
        self._typed = False
        self.line = QLineEdit(self)
        self.line.setAlignment(Qt.AlignmentFlag.AlignRight)
        pattern = r"-?[0-9,]*" if spec.decimals == 0 else rf"-?[0-9,]*\.?[0-9]{{0,{spec.decimals}}}"
        self.line.setValidator(QRegularExpressionValidator(pattern, self.line))
        self.line.textEdited.connect(self._on_edited)
        self.line.editingFinished.connect(self.finished)
        self.layout_.addWidget(self.line, 1)
        if spec.unit:
            self.layout_.addWidget(QLabel(spec.unit, self))
        self.setFocusProxy(self.line)

    def _on_edited(self, _text: str) -> None:
        self._typed = True
        self.value_changed.emit()

    def _check(self) -> tuple[Any, str | None]:
        read = partial(self.field_type.coerce, self.spec)
        return self.read_typed(self.line.text(), read, self._typed)

    def value(self) -> Any:
        """The number typed, or ``None`` when empty or not a number (see :meth:`problem`)."""
        return self._check()[0]

    def problem(self) -> str | None:
        return self._check()[1]

    def set_value(self, value: Any) -> None:
        self.line.setText("" if value is None else str(value))
        self._typed = False

    def text(self) -> str:
        return self.line.text()

    def set_text(self, text: str) -> None:
        self.line.setText(text)
        self._typed = True

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.line.setReadOnly(read_only)
