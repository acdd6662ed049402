"""Editor of a star rating: a row of clickable stars, fully usable from the keyboard."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

from resources import icons
from widgets.editors.base import FieldEditor

STAR_COLOUR = "#f5a623"
DIM_COLOUR = "#9e9e9e"
_FRAME = "QFrame#stars {{ border: 1px {style} {colour}; border-radius: 4px; }}"


class RatingEditor(FieldEditor):
    """Click a star to rate; click the same star again to clear. Keys: ←/→ (or -/+)
    step, 1–9 set, 0 / Backspace / Delete clear. Hovering previews a rating."""

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self._value: int | None = None
        self._hover: int | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.frame = QFrame(self)
        self.frame.setObjectName("stars")
        row = QHBoxLayout(self.frame)
        row.setContentsMargins(3, 1, 3, 1)
        row.setSpacing(0)
        self.stars: list[QToolButton] = []
        for number in range(1, spec.max + 1):
            star = QToolButton(self.frame)
            star.setAutoRaise(True)
            star.setIconSize(QSize(22, 22))
            star.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            star.setCursor(Qt.CursorShape.PointingHandCursor)
            star.setToolTip(f"{number} / {spec.max}")
            star.clicked.connect(lambda _checked=False, n=number: self._on_click(n))
            star.installEventFilter(self)
            row.addWidget(star)
            self.stars.append(star)
        self.caption = QLabel(self)
        self.caption.setStyleSheet("color: #666;")
        self.layout_.addWidget(self.frame)
        self.layout_.addWidget(self.caption)
        self.layout_.addStretch(1)
        self._icons = {
            True: icons.icon("mdi6.star", color=STAR_COLOUR),
            False: icons.icon("mdi6.star-outline", color=DIM_COLOUR),
        }
        self._show_focus(False)
        self._paint()

    def _paint(self) -> None:
        shown = self._hover if self._hover is not None else (self._value or 0)
        for number, star in enumerate(self.stars, start=1):
            star.setIcon(self._icons[number <= shown])
        self.caption.setText(f"{self._value} / {self.spec.max}" if self._value else "")

    def _show_focus(self, focused: bool) -> None:
        style = "solid" if focused else "none"
        self.frame.setStyleSheet(_FRAME.format(style=style, colour="#3d7bd9"))

    def _change(self, value: int | None) -> None:
        value = value or None
        if self._read_only or value == self._value:
            return
        self._value = value
        self._paint()
        self.value_changed.emit()

    def _on_click(self, number: int) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._change(None if number == self._value else number)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched in self.stars and not self._read_only:
            if event.type() == QEvent.Type.Enter:
                self._hover = self.stars.index(watched) + 1
                self._paint()
            elif event.type() == QEvent.Type.Leave:
                self._hover = None
                self._paint()
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, current = event.key(), self._value or 0
        if key in (Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Plus):
            self._change(min(current + 1, self.spec.max))
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Down, Qt.Key.Key_Minus):
            self._change(max(current - 1, 0))
        elif key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete, Qt.Key.Key_0):
            self._change(None)
        elif event.text().isdigit() and 1 <= int(event.text()) <= self.spec.max:
            self._change(int(event.text()))
        else:
            super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self._show_focus(True)
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._show_focus(False)
        super().focusOutEvent(event)

    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        self._value = int(value) if value else None
        self._paint()

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self._hover = None
        for star in self.stars:
            star.setCursor(
                Qt.CursorShape.ArrowCursor if read_only else Qt.CursorShape.PointingHandCursor
            )
        self._paint()
