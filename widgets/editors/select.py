"""Editor of one choice: a dropdown with an empty first entry, or radio buttons."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QRadioButton,
    QToolButton,
    QWidget,
)

from resources import icons
from widgets.editors.base import FieldEditor

#: Radio buttons go in one row up to this many options, else in a column.
_ROW_LIMIT = 4


class SelectEditor(FieldEditor):
    """Picks the widget by ``spec.display``. A value that is no longer an option is
    kept and shown as "(removed option)" so opening an old record loses nothing."""

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self._setting = False
        self._extra: str | None = None  # a stored value that is not an option
        if spec.display == "radio":
            self._build_radio()
        else:
            self._build_combo()

    # -- dropdown ---------------------------------------------------------------
    def _build_combo(self) -> None:
        self.combo = QComboBox(self)
        self.combo.addItem("", None)
        for option in self.spec.options:
            self.combo.addItem(option.label, option.value)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.currentIndexChanged.connect(self._on_user_change)
        self.layout_.addWidget(self.combo, 1)
        self.setFocusProxy(self.combo)
        self.radios: list[QRadioButton] = []

    def _combo_value(self, value: str | None) -> None:
        index = self.combo.findData(value) if value is not None else 0
        if index < 0:
            self.combo.addItem(self.tr("{value} (removed option)").format(value=value), value)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)

    # -- radio buttons --------------------------------------------------------------
    def _build_radio(self) -> None:
        self.combo = None
        box = QWidget(self)
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        self.group = QButtonGroup(self)
        self.radios = []
        in_row = len(self.spec.options) <= _ROW_LIMIT
        for index, option in enumerate(self.spec.options):
            radio = QRadioButton(option.label, box)
            radio.setProperty("option_value", option.value)
            self.group.addButton(radio)
            self.radios.append(radio)
            grid.addWidget(radio, *((0, index) if in_row else (index, 0)))
        self.group.buttonToggled.connect(self._on_radio_toggled)
        self.clear_button = QToolButton(self)
        self.clear_button.setIcon(icons.icon("mdi6.close-circle-outline", color="#555"))
        self.clear_button.setToolTip(self.tr("Clear the choice"))
        self.clear_button.setAutoRaise(True)
        self.clear_button.clicked.connect(self.clear)
        self.layout_.addWidget(box)
        self.layout_.addWidget(self.clear_button, 0, Qt.AlignmentFlag.AlignTop)
        self.layout_.addStretch(1)
        if self.radios:
            self.setFocusProxy(self.radios[0])

    def _radio_value(self, value: str | None) -> None:
        self.group.setExclusive(False)  # an exclusive group cannot uncheck its last button
        for radio in self.radios:
            radio.setChecked(radio.property("option_value") == value)
        self.group.setExclusive(True)
        self._extra = value if value is not None and not self._checked() else None
        self.clear_button.setEnabled(value is not None)

    def _checked(self) -> QAbstractButton | None:
        return self.group.checkedButton()

    def _on_radio_toggled(self, _button: QAbstractButton, checked: bool) -> None:
        if checked:
            self._extra = None
            self.clear_button.setEnabled(True)
            self._on_user_change()

    def clear(self) -> None:
        if self._read_only or self.value() is None:
            return
        self._setting = True
        self._radio_value(None)
        self._setting = False
        self.value_changed.emit()

    # -- the editor contract -----------------------------------------------------------
    def _on_user_change(self, *_args: Any) -> None:
        if not self._setting:
            self.value_changed.emit()

    def value(self) -> Any:
        if self.combo is not None:
            return self.combo.currentData()
        button = self._checked()
        return button.property("option_value") if button is not None else self._extra

    def set_value(self, value: Any) -> None:
        self._setting = True
        try:
            if self.combo is not None:
                self._combo_value(value)
            else:
                self._radio_value(value)
        finally:
            self._setting = False

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        if self.combo is not None:
            self.combo.setEnabled(not read_only)
            return
        for radio in self.radios:
            radio.setEnabled(not read_only)
        self.clear_button.setVisible(not read_only)
