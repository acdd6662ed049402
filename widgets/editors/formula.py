"""Editor of formula fields: shows the computed value; it is never typed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from resources import icons
from widgets.editors.base import FieldEditor
from widgets.registry import default_registry


class FormulaEditor(FieldEditor):
    """A read-only line with an fx mark; the runtime sets the value after computing it."""

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.field_type = default_registry.get("formula")
        self._value: Any = None
        self.line = QLineEdit(self)
        self.line.setReadOnly(True)
        self.line.setPlaceholderText(self.tr("(computed)"))
        self.line.addAction(
            icons.icon("mdi6.function-variant", color="#5b6b8c"),
            QLineEdit.ActionPosition.LeadingPosition,
        )
        self.line.setToolTip(
            self.tr("Computed: = {expression}").format(expression=spec.expression)
            if spec.expression
            else self.tr("Computed")
        )
        if spec.result == "number":
            self.line.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.line.setStyleSheet("QLineEdit { background: palette(window); }")
        self.layout_.addWidget(self.line)
        self.setFocusProxy(self.line)

    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        self._value = value
        self.line.setText(self.field_type.display(self.spec, value))

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only  # always read-only; nothing else to change
