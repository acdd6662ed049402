"""Editor of serial numbers: read-only, since the number is assigned on save."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QT_TR_NOOP
from PySide6.QtWidgets import QLineEdit

from resources import icons
from widgets.editors.base import FieldEditor

UNASSIGNED = QT_TR_NOOP("(assigned on save)")


class SerialEditor(FieldEditor):
    """Shows the serial number; nobody types it, so it never emits ``value_changed``."""

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self._value: str | None = None
        self.line = QLineEdit(self)
        self.line.setReadOnly(True)
        self.line.setPlaceholderText(self.tr(UNASSIGNED))
        self.line.addAction(icons.icon("mdi6.barcode"), QLineEdit.ActionPosition.LeadingPosition)
        tip = self.tr("Given automatically when the record is saved ({pattern})")
        self.line.setToolTip(tip.format(pattern=spec.pattern))
        self.layout_.addWidget(self.line)
        self.setFocusProxy(self.line)

    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        self._value = value
        self.line.setText("" if value is None else str(value))

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only  # always read-only; nothing else to change
