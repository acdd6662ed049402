"""A static text on the form, word-wrapped in a light box. It has no value."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel

from resources import icons
from widgets.editors.base import FieldEditor


class NoteEditor(FieldEditor):
    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        box = QFrame(self)
        box.setObjectName("note")
        box.setStyleSheet(
            "QFrame#note { background: #f3f6fa; border-left: 3px solid #8fb0d9;"
            " border-radius: 3px; }"
        )
        row = QHBoxLayout(box)
        row.setContentsMargins(8, 6, 8, 6)
        icon = QLabel(box)
        icon.setPixmap(icons.icon("mdi6.information-outline", color="#5b7fae").pixmap(18, 18))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = QLabel(spec.text, box)
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # never render builder text as HTML
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.text, 1)
        self.layout_.addWidget(box, 1)

    def value(self) -> Any:
        return None

    def set_value(self, value: Any) -> None:
        """A note holds no value: anything given is ignored."""

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
