"""Editor of several choices: a column of checkboxes, or a dropdown of checkable items."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QMenu,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from widgets.editors.base import FieldEditor
from widgets.types.multiselect import JOINER
from widgets.types.select import option_label


class StayOpenMenu(QMenu):
    """A menu whose checkable items toggle without closing it (pick several in a row)."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        action = self.actionAt(event.position().toPoint())
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        action = self.activeAction()
        if event.key() == Qt.Key.Key_Space and action is not None and action.isCheckable():
            action.trigger()
            return
        super().keyPressEvent(event)


class MultiSelectEditor(FieldEditor):
    """Keeps one checkable item (box or menu action) per option, in option order.

    Stored values that are no longer options are kept (and saved back unchanged).
    """

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self._setting = False
        self._extra: list[str] = []
        self.items: list[QCheckBox] | list[QAction] = []
        if spec.display == "dropdown":
            self.items = self._build_dropdown()
        else:
            self.items = self._build_checkboxes()

    def _build_checkboxes(self) -> list[QCheckBox]:
        self.button = None
        column = QWidget(self)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        boxes = []
        for option in self.spec.options:
            box = QCheckBox(option.label, column)
            box.toggled.connect(self._on_user_change)
            layout.addWidget(box)
            boxes.append(box)
        self.layout_.addWidget(column)
        self.layout_.addStretch(1)
        if boxes:
            self.setFocusProxy(boxes[0])
        return boxes

    def _build_dropdown(self) -> list[QAction]:
        self.button = QPushButton(self)
        self.button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.button.setStyleSheet("QPushButton { text-align: left; padding: 4px 8px; }")
        self.menu = StayOpenMenu(self.button)
        actions = []
        for option in self.spec.options:
            action = self.menu.addAction(option.label)
            action.setCheckable(True)
            action.toggled.connect(self._on_user_change)
            actions.append(action)
        self.button.setMenu(self.menu)
        self.layout_.addWidget(self.button, 1)
        self.setFocusProxy(self.button)
        self.button.setText(self.tr("Choose…"))
        return actions

    def _update_summary(self) -> None:
        if self.button is None:
            return
        chosen = self.value()
        text = JOINER.join(option_label(self.spec.options, v) for v in chosen) if chosen else ""
        self.button.setText(text or self.tr("Choose…"))
        self.button.setToolTip(text)

    def _on_user_change(self, *_args: Any) -> None:
        self._update_summary()
        if not self._setting:
            self.value_changed.emit()

    def value(self) -> Any:
        chosen = [
            option.value
            for option, item in zip(self.spec.options, self.items, strict=True)
            if item.isChecked()
        ]
        return (chosen + self._extra) or None

    def set_value(self, value: Any) -> None:
        values = list(value or [])
        self._setting = True
        try:
            for option, item in zip(self.spec.options, self.items, strict=True):
                item.setChecked(option.value in values)
            known = {option.value for option in self.spec.options}
            self._extra = [item for item in values if item not in known]
        finally:
            self._setting = False
        self._update_summary()

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        for item in self.items:
            item.setEnabled(not read_only)
