"""Editor of a yes/no field: one checkbox."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox

from widgets.editors.base import FieldEditor


class CheckboxEditor(FieldEditor):
    """Unchecked-and-untouched is "not answered" (``None``); once the user clicks,
    the value is ``True`` or ``False`` — ``False`` is a real answer."""

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self._value: bool | None = None
        self.box = QCheckBox(self.tr("Yes"), self)
        self.box.clicked.connect(self._on_clicked)
        self.layout_.addWidget(self.box)
        self.layout_.addStretch(1)
        self.setFocusProxy(self.box)

    def _on_clicked(self, checked: bool) -> None:
        self._value = checked
        self.value_changed.emit()

    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        self._value = None if value is None else bool(value)
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.box.setEnabled(not read_only)
