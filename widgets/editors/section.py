"""The header of a section: a bold title over a line. It has no value."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QToolButton, QVBoxLayout

from resources import icons
from widgets.editors.base import FieldEditor


class SectionEditor(FieldEditor):
    """``collapsed_changed(bool)`` tells the form to hide or show the section's items;
    the form owns the items, the header only offers the toggle."""

    collapsed_changed = Signal(bool)

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self._collapsed = spec.collapsed
        self.toggle = QToolButton(self)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolTip(self.tr("Show or hide this section"))
        self.toggle.clicked.connect(self._on_toggle)
        self.title = QLabel(spec.label, self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("color: #c8ccd2;")
        column = QVBoxLayout()
        column.setContentsMargins(0, 8, 0, 2)
        column.setSpacing(2)
        column.addWidget(self.title)
        column.addWidget(line)
        self.layout_.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignVCenter)
        self.layout_.addLayout(column, 1)
        self._paint()

    def _paint(self) -> None:
        icon = "mdi6.chevron-right" if self._collapsed else "mdi6.chevron-down"
        self.toggle.setIcon(icons.icon(icon, color="#555"))

    def _on_toggle(self) -> None:
        self._collapsed = not self._collapsed
        self._paint()
        self.collapsed_changed.emit(self._collapsed)

    def is_collapsed(self) -> bool:
        return self._collapsed

    def value(self) -> Any:
        return None

    def set_value(self, value: Any) -> None:
        """A section holds no value: anything given is ignored."""

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only  # collapsing stays possible on a locked record
