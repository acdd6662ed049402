"""One item on the canvas: a live, input-proof preview of a field.

The preview is the editor the runtime uses (``create_editor``) under a transparent
overlay that takes every mouse event, so clicks select and drags move instead of
typing into the preview. A subtable also shows a strip of its columns as chips:
they are selected, dragged and dropped onto like fields.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from widgets.base import FieldSpecBase
from widgets.editors.base import FieldEditor, create_editor
from widgets.registry import FieldTypeRegistry

SELECTED = QColor("#1976d2")
PLACEHOLDER_HEIGHT = 56
HOVER = QColor("#90caf9")


class CellHandler(Protocol):
    """What a cell asks of the canvas when the user presses or drags it."""

    def cell_pressed(self, key: str, modifiers: Qt.KeyboardModifier) -> None: ...

    def start_drag(self, key: str) -> None: ...


class _DragSource:
    """Press selects; moving past the drag distance starts a drag of ``key``."""

    def __init__(self, handler: CellHandler, key: str) -> None:
        self.handler = handler
        self.key = key
        self.pressed_at: QPoint | None = None

    def press(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.pressed_at = event.position().toPoint()
            self.handler.cell_pressed(self.key, event.modifiers())

    def move(self, event: QMouseEvent) -> None:
        if self.pressed_at is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        distance = (event.position().toPoint() - self.pressed_at).manhattanLength()
        if distance >= QApplication.startDragDistance():
            self.pressed_at = None
            self.handler.start_drag(self.key)

    def release(self) -> None:
        self.pressed_at = None


def paint_frame(widget: QWidget, selected: bool, hovered: bool) -> None:
    """The selection (solid) or hover (dashed) frame of a cell."""
    color = SELECTED if selected else HOVER if hovered else None
    if color is None:
        return
    painter = QPainter(widget)
    painter.setPen(QPen(color, 2, Qt.PenStyle.DashLine if color == HOVER else Qt.SolidLine))
    painter.setBrush(QColor(25, 118, 210, 18) if selected else Qt.NoBrush)
    painter.drawRoundedRect(widget.rect().adjusted(1, 1, -1, -1), 4, 4)


class CellOverlay(QWidget):
    """Covers the preview: catches the mouse and paints selection and hover."""

    def __init__(self, cell: CanvasCell) -> None:
        super().__init__(cell)
        self.cell = cell
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.cell.source.press(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.cell.source.move(event)

    def mouseReleaseEvent(self, _event: QMouseEvent) -> None:
        self.cell.source.release()

    def paintEvent(self, _event: QPaintEvent) -> None:
        paint_frame(self, self.cell.selected, self.underMouse())


class ColumnChip(QLabel):
    """A subtable column on the canvas: click to select, drag to move."""

    def __init__(self, spec: FieldSpecBase, icon: str, handler: CellHandler, parent: QWidget):
        super().__init__(parent)
        self.key = spec.key
        self.source = _DragSource(handler, spec.key)
        pixmap = icons.icon(icon, color="#455a64").pixmap(14, 14)
        self.setText(f"{spec.label}")
        self.setToolTip(spec.key)
        self.icon = QLabel(self)
        self.icon.setPixmap(pixmap)
        self.setContentsMargins(20, 2, 8, 2)
        self.icon.move(4, 4)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.set_selected(False)

    def set_selected(self, selected: bool) -> None:
        border = "2px solid #1976d2" if selected else "1px solid #b0bec5"
        background = "#e3f2fd" if selected else "#f5f7f9"
        self.setStyleSheet(
            f"ColumnChip {{ border: {border}; border-radius: 10px; background: {background}; }}"
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.source.press(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.source.move(event)

    def mouseReleaseEvent(self, _event: QMouseEvent) -> None:
        self.source.release()


class ColumnStrip(QFrame):
    """The columns of a subtable and the place to drop new ones."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("columnStrip")
        self.setStyleSheet(
            "#columnStrip { border: 1px dashed #90a4ae; border-radius: 4px; background: #fafbfc; }"
        )
        self.chips: list[ColumnChip] = []
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(6, 4, 6, 4)
        self.row.setSpacing(6)
        self.hint = QLabel(self.tr("Drop fields here to add columns"), self)
        self.hint.setStyleSheet("color: #78909c;")
        self.row.addWidget(self.hint)
        self.row.addStretch(1)

    def add_chip(self, chip: ColumnChip) -> None:
        self.row.insertWidget(len(self.chips), chip)
        self.chips.append(chip)


class CanvasCell(QFrame):
    """A field's preview with its label; rebuilt when the field's attributes change.

    Until :meth:`build` (lazy cells of a large form) it is a placeholder: one widget
    that paints the label and an empty box, and is selected and dragged like a cell.
    """

    def __init__(
        self,
        spec: FieldSpecBase,
        registry: FieldTypeRegistry,
        handler: CellHandler,
        parent: QWidget,
        lazy: bool = False,
    ) -> None:
        super().__init__(parent)
        self.key = spec.key
        self.registry = registry
        self.handler = handler
        self.source = _DragSource(handler, spec.key)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.selected = False
        self.label: QLabel | None = None
        self.editor: FieldEditor | None = None
        self.strip: ColumnStrip | None = None
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.box: QVBoxLayout | None = None
        self.overlay: CellOverlay | None = None
        self.built = False
        self._placeholder_text = spec.label
        self._placeholder_height = PLACEHOLDER_HEIGHT
        if not lazy:
            self.build(spec)

    def sizeHint(self) -> QSize:
        if self.built:
            return super().sizeHint()
        return QSize(160, self._placeholder_height)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Until the preview is built: its label and an empty box (cheap to show)."""
        super().paintEvent(event)
        if self.built:
            return
        painter = QPainter(self)
        painter.setPen(QColor("#37474f"))
        painter.drawText(QRect(6, 4, self.width() - 12, 18), 0x81, self._placeholder_text)
        painter.setPen(QColor("#b0bec5"))
        painter.drawRoundedRect(QRect(6, 24, self.width() - 12, 26), 3, 3)
        painter.end()
        paint_frame(self, self.selected, hovered=False)

    # A placeholder takes the mouse itself; a built cell's overlay covers it.
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.source.press(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.source.move(event)

    def mouseReleaseEvent(self, _event: QMouseEvent) -> None:
        self.source.release()

    def rename(self, key: str) -> None:
        """The field's key changed (a built cell also learns it from :meth:`build`)."""
        self.key = self.source.key = key

    def build(self, spec: FieldSpecBase) -> None:
        """(Re)create the label, the preview editor and the column strip."""
        self.built = True
        self.rename(spec.key)
        if self.box is None:
            self.box = QVBoxLayout(self)
            self.box.setContentsMargins(6, 4, 6, 6)
            self.box.setSpacing(3)
            self.overlay = CellOverlay(self)
            self.overlay.setGeometry(self.rect())
            self.overlay.show()
        while self.box.count():
            widget = self.box.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        field_type = self.registry.of(spec)
        self.label = None
        if field_type.has_value:
            self.label = QLabel(self)
            self.label.setTextFormat(Qt.TextFormat.RichText)
            self.box.addWidget(self.label)
            self.set_label(spec)
        self.editor = create_editor(spec, None, self, self.registry)
        self.editor.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for child in self.editor.findChildren(QWidget):
            child.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.box.addWidget(self.editor)
        self.strip = self._strip(spec)
        self.overlay.raise_()
        if self.strip is not None:
            self.strip.raise_()
        self._show_parts()
        self.updateGeometry()

    def _show_parts(self) -> None:
        """Show the new parts now rather than leave it to the layout's queued show.

        Showing a widget activates the layouts of its visible ancestors, the canvas's
        grid included. Done here, while the canvas holds its grid (see
        ``Canvas.grid_paused``), that is one re-flow per batch of cells instead of
        one per part of every cell, later.
        """
        for part in (self.label, self.editor, self.strip):
            if part is not None:
                part.show()

    def _strip(self, spec: FieldSpecBase) -> ColumnStrip | None:
        children = self.registry.of(spec).nested_fields(spec)
        if children is None:
            return None
        strip = ColumnStrip(self)
        for child in children:
            icon = self.registry.of(child).icon
            strip.add_chip(ColumnChip(child, icon, self.handler, strip))
        self.box.addWidget(strip)
        return strip

    def set_label(self, spec: FieldSpecBase) -> None:
        """Only the label changed: update its text, keep the preview."""
        if not self.built:
            self._placeholder_text = spec.label
            self.update()
            return
        if self.label is None:
            self.build(spec)
            return
        star = ' <span style="color:#c62828">*</span>' if spec.required else ""
        text = spec.label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        self.label.setText(text + star)

    def set_selected(self, selected: bool, children: set[str] | frozenset[str] = frozenset()):
        if selected != self.selected:
            self.selected = selected
            (self.overlay or self).update()
        for chip in self.strip.chips if self.strip else []:
            chip.set_selected(chip.key in children)

    def chip(self, key: str) -> ColumnChip | None:
        return next((c for c in (self.strip.chips if self.strip else []) if c.key == key), None)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.overlay is not None:
            self.overlay.setGeometry(self.rect())
