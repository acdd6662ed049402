"""Editor of signatures: a pen pad that turns strokes into a PNG on demand.

Like the other file editors it doesn't own storage: :meth:`SignatureEditor.value`
renders the strokes, keeps the PNG in :attr:`SignatureEditor.pending` and returns
its FileRef; the form saves the bytes with the record.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from resources import icons
from widgets.editors.base import FieldEditor
from widgets.types._files import make_file_ref

INK = QColor("#1b2a4e")
PEN_WIDTH = 2.4
RENDER_SCALE = 2  # PNG pixels per pad pixel: crisp when printed


class SignaturePad(QWidget):
    """Records mouse/pen strokes and paints them antialiased."""

    stroke_finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strokes: list[list[QPointF]] = []
        self.image: QImage | None = None  # a stored signature being shown
        self.signed = False  # stored, but its image isn't available here
        self.read_only = False
        self._drawing = False
        self.setMinimumSize(300, 130)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip(self.tr("Sign here with the mouse, a pen or a finger"))

    def clear(self) -> None:
        self.strokes, self.image, self.signed, self._drawing = [], None, False, False
        self.update()

    def is_blank(self) -> bool:
        return not self.strokes and self.image is None and not self.signed

    # -- input --------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.read_only or event.button() != Qt.MouseButton.LeftButton:
            return
        if self.image is not None or self.signed:
            self.image, self.signed = None, False  # drawing starts a new signature
        self.strokes.append([event.position()])
        self._drawing = True
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drawing:
            self.strokes[-1].append(event.position())
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drawing:
            self._drawing = False
            self.strokes[-1].append(event.position())
            self.update()
            self.stroke_finished.emit()

    # -- painting -----------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.setBrush(QColor("white"))
        painter.drawRoundedRect(frame, 4, 4)
        self._paint_guide(painter)
        if self.image is not None:
            target = QRectF(self.rect()).adjusted(8, 8, -8, -8)
            scaled = self.image.size().scaled(
                target.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio
            )
            box = QRectF(0, 0, scaled.width(), scaled.height())
            box.moveCenter(target.center())
            painter.drawImage(box, self.image)
        elif self.signed:
            painter.setPen(INK)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "✓ " + self.tr("Signed"))
        paint_strokes(painter, self.strokes)
        painter.end()

    def _paint_guide(self, painter: QPainter) -> None:
        """A base line with an ×, and "Sign here" while the pad is blank."""
        y = self.height() * 0.72
        painter.setPen(QPen(QColor("#c3cad6"), 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(16, y), QPointF(self.width() - 16, y))
        painter.setPen(QColor("#9aa4b5"))
        painter.drawText(QPointF(16, y - 6), "×")
        if self.is_blank() and not self.read_only:
            painter.drawText(
                self.rect().adjusted(0, 0, 0, -int(self.height() * 0.4)),
                Qt.AlignmentFlag.AlignCenter,
                self.tr("Sign here"),
            )

    def render_png(self) -> bytes:
        """The strokes on a transparent background, as PNG bytes."""
        image = QImage(self.size() * RENDER_SCALE, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.scale(RENDER_SCALE, RENDER_SCALE)
        paint_strokes(painter, self.strokes)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        return bytes(data.data())


def paint_strokes(painter: QPainter, strokes: list[list[QPointF]]) -> None:
    pen = QPen(
        INK, PEN_WIDTH, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin
    )
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for stroke in strokes:
        if len(stroke) == 1:
            painter.drawPoint(stroke[0])
            continue
        path = QPainterPath(stroke[0])
        for point in stroke[1:]:
            path.lineTo(point)
        painter.drawPath(path)


class SignatureEditor(FieldEditor):
    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.pending: dict[str, bytes] = {}
        self._ref: dict[str, Any] | None = None
        self._dirty = False  # strokes drawn since the last value()
        self.layout_.setDirection(QBoxLayout.Direction.TopToBottom)
        self.layout_.setSpacing(4)
        self.pad = SignaturePad(self)
        self.pad.stroke_finished.connect(self._stroke_finished)
        self.layout_.addWidget(self.pad, 1)
        row = QHBoxLayout()
        self.status = QLabel(self)
        self.status.setStyleSheet("color: palette(placeholder-text);")
        row.addWidget(self.status, 1)
        self.clear_button = QPushButton(icons.icon("mdi6.eraser"), self.tr("Clear"), self)
        self.clear_button.setToolTip(self.tr("Erase the signature and sign again"))
        self.clear_button.clicked.connect(self.clear)
        row.addWidget(self.clear_button)
        self.layout_.addLayout(row)
        self.setFocusProxy(self.clear_button)
        self._update_status()

    def _stroke_finished(self) -> None:
        self._ref, self._dirty = None, True
        self._update_status()
        self.value_changed.emit()

    def clear(self) -> None:
        if self._read_only or self.pad.is_blank():
            return
        self.pad.clear()
        self._ref, self._dirty = None, False
        self.pending.clear()
        self._update_status()
        self.value_changed.emit()

    def _update_status(self) -> None:
        if self.pad.is_blank():
            text = (
                self.tr("Not signed")
                if self._read_only
                else self.tr("Sign above with the mouse or a pen")
            )
        else:
            text = self.tr("Signed")
        self.status.setText(text)
        self.clear_button.setEnabled(not self._read_only and not self.pad.is_blank())

    # -- value --------------------------------------------------------------
    def value(self) -> Any:
        """The signature's FileRef; new strokes are rendered to a PNG first."""
        if self._dirty and self.pad.strokes:
            png = self.pad.render_png()
            self._ref = make_file_ref("signature.png", png, "image/png")
            self.pending = {self._ref["sha256"]: png}
            self._dirty = False
        return None if self._ref is None else dict(self._ref)

    def set_value(self, value: Any) -> None:
        self.pad.clear()
        self._dirty = False
        self._ref = None if value is None else dict(value)
        if self._ref is not None:
            image = self._stored_image(self._ref)
            self.pad.image = image
            self.pad.signed = image is None
        self.pad.update()
        self._update_status()

    def _stored_image(self, ref: dict[str, Any]) -> QImage | None:
        data = self.pending.get(ref["sha256"])
        if data is None:
            data = self.references.read_file(ref["sha256"])
        image = QImage.fromData(data) if data else None
        return image if image is not None and not image.isNull() else None

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.pad.read_only = read_only
        self.pad.setCursor(Qt.CursorShape.ArrowCursor if read_only else Qt.CursorShape.CrossCursor)
        self.clear_button.setVisible(not read_only)
        self.pad.update()
        self._update_status()
