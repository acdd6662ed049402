"""The canvas: the current form as its users will see it, edited by direct manipulation.

It only reads the document and calls its methods; every change arrives back as a
document signal and is applied incrementally (one cell added, one label updated,
the grid re-flowed with the same widgets). Drops are resolved by :meth:`Canvas.drop`
from the MIME data and the position, so tests send the drag events themselves.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from PySide6.QtCore import QMimeData, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QDrag,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import QApplication, QFrame, QMessageBox, QScrollArea, QWidget

from designer.canvas_cell import CanvasCell
from designer.canvas_drop import (
    DropTarget,
    Slot,
    column_target,
    field_from_mime,
    field_mime,
    top_level_target,
)
from designer.canvas_keys import handle_key
from designer.canvas_layout import FormGridLayout
from designer.clipboard import fields_from_mime, fields_mime, paste_fields
from designer.document import DesignerDocument, EditError, FieldPath
from designer.i18n import type_title
from designer.palette import type_from_mime
from widgets.base import FieldSpecBase

#: Attributes shown by the label line only: no need to rebuild the preview.
LABEL_ONLY = frozenset({"label", "required", "help"})
TITLE_HEIGHT = 56
#: More new cells than this at once (opening a form) get their previews built lazily.
EAGER_CELLS = 40
#: Seconds one event-loop turn may spend building previews: input stays responsive.
BUILD_BUDGET = 0.02


def _set_background(widget: QWidget, color: str) -> None:
    """A plain background by palette (style sheets re-polish every child: slow)."""
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(color))
    widget.setPalette(palette)
    widget.setAutoFillBackground(True)


class Canvas(QWidget):
    """One form of the document, laid out like the runtime form, editable."""

    form_changed = Signal(str)
    message = Signal(str)
    reveal = Signal(QWidget)

    def __init__(
        self, document: DesignerDocument, form_key: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.registry = document.registry
        self.form_key: str | None = None
        self.cells: dict[str, CanvasCell] = {}
        self.grid = FormGridLayout(self)
        self.grid.setContentsMargins(20, TITLE_HEIGHT, 20, 40)
        self.marker = QFrame(self)
        self.marker.setAutoFillBackground(True)
        _set_background(self.marker, "#1976d2")
        self.marker.hide()
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        _set_background(self, "#ffffff")
        self._painted = False  # since the form was shown; previews wait for it
        self._pending = QTimer(self, singleShot=True, interval=0)
        self._pending.timeout.connect(self._build_some)
        self._connect()
        forms = document.spec.forms
        self.show_form(form_key or (forms[0].key if forms else None))

    def _connect(self) -> None:
        doc = self.document
        doc.spec_reset.connect(self._on_reset)
        doc.field_added.connect(self._on_structure)
        doc.field_removed.connect(self._on_structure)
        doc.field_moved.connect(self._on_structure)
        doc.field_key_changed.connect(self._on_key_changed)
        doc.property_changed.connect(self._on_property)
        doc.selection_changed.connect(self._paint_selection)
        doc.form_removed.connect(self._on_form_removed)
        doc.form_key_changed.connect(self._on_form_key_changed)
        doc.form_renamed.connect(self._on_form_renamed)

    # Slots are bound methods (not lambdas) so they disconnect when the canvas goes.
    def _on_reset(self) -> None:
        self.show_form(self.form_key)

    def _on_form_removed(self, key: str, _index: int) -> None:
        if key == self.form_key:
            self.show_form(None)

    def _on_form_renamed(self, *_args: object) -> None:
        self.update()

    # -- building ----------------------------------------------------------------
    def show_form(self, form_key: str | None) -> None:
        """Show another form (the first one when ``form_key`` is gone or ``None``)."""
        forms = self.document.spec.forms
        if form_key is None or self.document.spec.form(form_key) is None:
            form_key = forms[0].key if forms else None
        for cell in self.cells.values():
            cell.deleteLater()
        self.cells = {}
        self.form_key = form_key
        self._painted = False
        self._sync_cells()
        self._paint_selection()
        self.update()
        if form_key is not None:
            self.form_changed.emit(form_key)

    def fields(self) -> list[FieldSpecBase]:
        return self.document.form(self.form_key).fields if self.form_key else []

    def _sync_cells(self) -> None:
        """Cells for exactly the top-level items, in form order; re-flow the grid."""
        specs = self.fields()
        keys = {spec.key for spec in specs}
        lazy = len(specs) - len(self.cells) > EAGER_CELLS
        with self.grid_paused():
            for key in [key for key in self.cells if key not in keys]:
                self.cells.pop(key).deleteLater()
            for spec in specs:
                if spec.key not in self.cells:
                    cell = CanvasCell(spec, self.registry, self, self, lazy)
                    self.cells[spec.key] = cell
                    cell.show()  # now, not queued by the grid: see CanvasCell._show_parts
        if lazy:
            self._pending.start()

    def _build_some(self) -> None:
        """Build waiting previews for one event-loop turn, then yield to the user.

        A shown canvas first paints its placeholders (the form appears at once);
        its :meth:`paintEvent` starts the building again.
        """
        if self.isVisible() and not self._painted:
            return
        if self._build_waiting(time.perf_counter() + BUILD_BUDGET):
            self._pending.start()

    def build_all(self) -> None:
        """Build every preview now (screenshots, tests of the previews)."""
        self._pending.stop()
        self._build_waiting(None)

    def _build_waiting(self, deadline: float | None) -> bool:
        """Build previews, those in view first, until ``deadline`` (``None``: all of
        them) with one re-flow for the lot; whether some are still waiting."""
        waiting = [key for key, cell in self.cells.items() if not cell.built]
        if not waiting:
            return False
        shown = self.visibleRegion().boundingRect()
        waiting.sort(key=lambda key: not self.cells[key].geometry().intersects(shown))
        built = 0
        with self.grid_paused():
            for key in waiting:
                self.cells[key].build(self.document.field(self.form_key, key))
                built += 1
                if deadline is not None and time.perf_counter() > deadline:
                    break
        self._paint_selection()
        return built < len(waiting)

    @contextlib.contextmanager
    def grid_paused(self) -> Iterator[None]:
        """Cells added or built inside the block re-flow the form once, at its end.

        Each widget shown on the canvas would otherwise re-flow all the cells (the
        grid is activated up the parent chain), which is quadratic for a batch.
        Nested blocks re-flow with the outermost.
        """
        if not self.grid.isEnabled():
            yield
            return
        self.grid.setEnabled(False)
        try:
            yield
        finally:
            self.grid.setEnabled(True)
            self._relayout()

    def _relayout(self) -> None:
        self.grid.set_form(self.fields(), self.registry, self.cells)
        self.grid.activate()

    def _on_structure(self, form: str, _key: str, parent: str | None, _index: int) -> None:
        if form != self.form_key:
            return
        with self.grid_paused():
            self._sync_cells()
            for spec in self.fields():  # a column may have left or joined a subtable
                if self.cells[spec.key].strip is not None:
                    self.cells[spec.key].build(spec)
        self._paint_selection()

    def _on_property(self, form: str, key: str, attribute: str) -> None:
        if form != self.form_key:
            return
        path = self.document.field_path(form, key)
        if path.parent is not None:
            self._rebuild(path.parent)
        elif attribute in LABEL_ONLY or not self.cells[key].built:
            self.cells[key].set_label(self.document.field(form, key))
        elif attribute != "width":
            self._rebuild(key)
        self._relayout()

    def _rebuild(self, key: str) -> None:
        if not self.cells[key].built:
            return
        with self.grid_paused():
            self.cells[key].build(self.document.field(self.form_key, key))
        self._paint_selection()

    def _on_key_changed(self, form: str, old: str, new: str) -> None:
        if form != self.form_key:
            return
        if old in self.cells:
            self.cells[new] = self.cells.pop(old)
            self.cells[new].rename(new)
            self._rebuild(new)
        else:
            self._rebuild(self.document.field_path(form, new).parent)

    def _on_form_key_changed(self, old: str, new: str) -> None:
        if old == self.form_key:
            self.form_key = new
            self.form_changed.emit(new)

    # -- selection ---------------------------------------------------------------
    def selected_paths(self) -> list[FieldPath]:
        return [path for path in self.document.selection() if path.form == self.form_key]

    def select(self, keys: list[str]) -> None:
        paths = [self.document.field_path(self.form_key, key) for key in keys]
        self.document.set_selection(paths)

    def cell_pressed(self, key: str, modifiers: Qt.KeyboardModifier) -> None:
        self.setFocus()
        current = [path.key for path in self.selected_paths()]
        if modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            keys = [k for k in current if k != key] if key in current else [*current, key]
        else:
            keys = [key]
        self.select(keys)

    def _paint_selection(self) -> None:
        selected = {path.key for path in self.selected_paths()}
        for key, cell in self.cells.items():
            cell.set_selected(key in selected, selected)
        paths = self.selected_paths()
        if paths:
            cell = self.cells.get(paths[-1].parent or paths[-1].key)
            if cell is not None:
                self.reveal.emit(cell)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        self.document.set_selection([])

    # -- commands from the user -------------------------------------------------
    def add_new(self, type_name: str, index: int | None = None, parent: str | None = None) -> str:
        """Add a field of a palette type, labelled with its title, and select it."""
        field_type = self.registry.get(type_name)
        attributes = {}
        if "options" in field_type.spec_model.model_fields:
            options = [self.tr("Option 1"), self.tr("Option 2")]
            attributes["options"] = [
                {"value": f"option_{n}", "label": label} for n, label in enumerate(options, 1)
            ]
        key = self.document.add_field(
            self.form_key, type_name, type_title(field_type), index, parent, **attributes
        )
        self.select([key])
        return key

    def append_type(self, type_name: str) -> None:
        """Double-click in the palette: the type at the end of the form."""
        self._guard(lambda: self.add_new(type_name))

    def delete_selected(self) -> None:
        """Delete the selection, after confirming when other parts name a field."""
        paths = self.selected_paths()
        keys = {path.key for path in paths}
        paths = [path for path in paths if path.parent not in keys]
        usages = [u for path in paths for u in self.document.references_to(path.form, path.key)]
        if usages and not self._confirm_delete([str(u) for u in usages]):
            return
        with self.document.edit_group(self.tr("Delete fields")):
            for path in paths:
                self.document.remove_field(path.form, path.key)

    def _confirm_delete(self, usages: list[str]) -> bool:
        text = self.tr("These fields are used elsewhere. Deleting also removes:")
        listing = "\n".join(f"• {usage}" for usage in dict.fromkeys(usages))
        answer = QMessageBox.question(
            self,
            self.tr("Delete fields"),
            f"{text}\n\n{listing}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def copy_selected(self) -> None:
        specs = [self.document.field(p.form, p.key) for p in self.selected_paths()]
        if specs:
            QApplication.clipboard().setMimeData(fields_mime(specs))

    def paste(self) -> None:
        items = fields_from_mime(QApplication.clipboard().mimeData())
        if not items or self.form_key is None:
            return
        paths = self.selected_paths()
        parent, index = None, None
        if paths:
            last = paths[-1]
            parent = last.parent
            index = 1 + self._index_of(last)
        self._guard(
            lambda: self.select(paste_fields(self.document, self.form_key, items, index, parent))
        )

    def duplicate_selected(self) -> None:
        paths = self.selected_paths()
        with self.document.edit_group(self.tr("Duplicate fields")):
            keys = [self.document.duplicate_field(p.form, p.key) for p in paths]
        if keys:
            self.select(keys)

    def move_selected(self, delta: int) -> None:
        """Alt+Up/Down: the first selected field one place up or down."""
        paths = self.selected_paths()
        if paths:
            path = paths[0]
            index = self._index_of(path)
            self._guard(
                lambda: self.document.move_field(path.form, path.key, index + delta, path.parent)
            )

    def select_neighbour(self, delta: int) -> None:
        keys = [spec.key for spec in self.fields()]
        paths = self.selected_paths()
        if not keys:
            return
        if not paths or paths[-1].key not in keys:
            self.select([keys[0]])
            return
        index = max(0, min(len(keys) - 1, keys.index(paths[-1].key) + delta))
        self.select([keys[index]])

    def _index_of(self, path: FieldPath) -> int:
        form = self.document.form(path.form)
        parent = self.document.field(path.form, path.parent) if path.parent else None
        siblings = form.fields if parent is None else self.document.children(parent) or []
        return next(i for i, spec in enumerate(siblings) if spec.key == path.key)

    def _guard(self, work) -> None:
        try:
            work()
        except EditError as error:
            self.message.emit(error.message)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not handle_key(self, event):
            super().keyPressEvent(event)

    # -- drag and drop --------------------------------------------------------
    def start_drag(self, key: str) -> None:
        drag = QDrag(self)
        drag.setMimeData(field_mime(self.form_key, key))
        drag.exec(Qt.DropAction.MoveAction)

    def accepts(self, mime: QMimeData) -> bool:
        moved = field_from_mime(mime)
        return self.form_key is not None and (
            type_from_mime(mime) is not None or (moved is not None and moved[0] == self.form_key)
        )

    def target_at(self, pos: QPoint) -> DropTarget:
        """Where a drop at ``pos`` (canvas coordinates) would insert."""
        for key, cell in self.cells.items():
            if cell.strip is None:
                continue
            strip = QRect(cell.strip.mapTo(self, QPoint(0, 0)), cell.strip.size())
            if strip.contains(pos):
                chips = [
                    Slot(chip.key, QRect(chip.mapTo(self, QPoint(0, 0)), chip.size()))
                    for chip in cell.strip.chips
                ]
                return column_target(key, chips, strip, pos)
        slots = [Slot(spec.key, self.cells[spec.key].geometry()) for spec in self.fields()]
        return top_level_target(slots, pos, self.width())

    def drop(self, mime: QMimeData, pos: QPoint) -> bool:
        """Add the dragged type or move the dragged field to the target at ``pos``."""
        target = self.target_at(pos)
        type_name = type_from_mime(mime)
        moved = field_from_mime(mime)
        try:
            if type_name is not None:
                self.add_new(type_name, target.index, target.parent)
            elif moved is not None and moved[0] == self.form_key:
                self._move(moved[1], target)
            else:
                return False
        except EditError as error:
            self.message.emit(error.message)
            return False
        return True

    def _move(self, key: str, target: DropTarget) -> None:
        path = self.document.field_path(self.form_key, key)
        index = target.index
        if path.parent == target.parent and self._index_of(path) < index:
            index -= 1  # the index after the move, counted without the field itself
        self.document.move_field(self.form_key, key, index, target.parent)
        self.select([key])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self._drag_over(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._drag_over(event)

    def _drag_over(self, event: QDragMoveEvent) -> None:
        if not self.accepts(event.mimeData()):
            event.ignore()
            return
        self.marker.setGeometry(self.target_at(event.position().toPoint()).marker)
        self.marker.show()
        self.marker.raise_()
        event.acceptProposedAction()

    def dragLeaveEvent(self, _event) -> None:
        self.marker.hide()

    def dropEvent(self, event: QDropEvent) -> None:
        self.marker.hide()
        if self.drop(event.mimeData(), event.position().toPoint()):
            event.acceptProposedAction()
        else:
            event.ignore()

    # -- painting -----------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:
        if not self._painted:
            self._painted = True
            if any(not cell.built for cell in self.cells.values()):
                self._pending.start()
        if self.form_key is None:
            return
        painter = QPainter(self)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#263238"))
        title = self.document.form(self.form_key).title
        painter.drawText(QRect(20, 8, self.width() - 40, TITLE_HEIGHT - 16), 0x81, title)
        if not self.cells:
            painter.setFont(self.font())
            painter.setPen(QColor("#90a4ae"))
            hint = self.tr("Drag fields here from the palette, or double-click one.")
            painter.drawText(self.rect().adjusted(20, TITLE_HEIGHT, -20, 0), 0x84, hint)


class CanvasArea(QScrollArea):
    """The canvas in a scroll area that follows the selection."""

    def __init__(self, canvas: Canvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.setWidgetResizable(True)
        self.setWidget(canvas)
        _set_background(self.viewport(), "#eceff1")
        canvas.reveal.connect(lambda widget: self.ensureWidgetVisible(widget, 20, 20))
