"""Editor of numbers: a line edit that accepts digits, sign, decimal point and unit."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QLabel, QLineEdit

from widgets.base import FieldValueError
from widgets.editors.base import FieldEditor
from widgets.registry import default_registry


class NumberEditor(FieldEditor):
    """Text entry (not a spin box) so exact decimals and empty values are natural."""

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.field_type = default_registry.get("number")
        self.line = QLineEdit(self)
        self.line.setAlignment(Qt.AlignmentFlag.AlignRight)
        pattern = r"-?[0-9,]*" if spec.decimals == 0 else rf"-?[0-9,]*\.?[0-9]{{0,{spec.decimals}}}"
        self.line.setValidator(QRegularExpressionValidator(pattern, self.line))
        self.line.textEdited.connect(self.value_changed)
        self.layout_.addWidget(self.line, 1)
        if spec.unit:
            self.layout_.addWidget(QLabel(spec.unit, self))
        self.setFocusProxy(self.line)

    def value(self) -> Any:
        """The number typed, or ``None`` when empty or not (yet) a number."""
        try:
            return self.field_type.coerce(self.spec, self.line.text())
        except FieldValueError:
            return None

    def set_value(self, value: Any) -> None:
        self.line.setText("" if value is None else str(value))

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.line.setReadOnly(read_only)
