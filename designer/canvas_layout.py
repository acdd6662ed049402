"""The canvas's layout: the form's items where the runtime form puts them.

The cells (row, column, span) come from :mod:`widgets.form_grid`, the one grid the
runtime's record form uses too. Rows depend only on the spans, so the height does
not depend on the width; reordering is :meth:`FormGridLayout.set_form` with the
same widgets, no rebuilding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget, QWidgetItem

from widgets.base import FieldSpecBase
from widgets.form_grid import GRID_COLUMNS, GridCell, column_extent, form_cells, place, rows_of
from widgets.registry import FieldTypeRegistry


class FormGridLayout(QLayout):
    """Places widgets in their grid cells; row height is its tallest item's hint."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._cells: list[GridCell] = []
        self._rows: list[tuple[list[int], int]] | None = None
        self.h_spacing = 16
        self.v_spacing = 12
        self.setContentsMargins(20, 16, 20, 24)

    # -- entries -------------------------------------------------------------
    def set_form(
        self,
        fields: Sequence[FieldSpecBase],
        registry: FieldTypeRegistry,
        widgets: Mapping[str, QWidget],
    ) -> None:
        """Lay out the widgets of a form's items (by key) in the form's grid."""
        cells = form_cells(fields, registry)
        self.set_entries([(widgets[cell.key], cell) for cell in cells])

    def set_entries(self, entries: list[tuple[QWidget, GridCell]]) -> None:
        """The widgets in display order with their cells; new widgets are adopted."""
        known = {item.widget(): item for item in self._items}
        self._items, self._cells = [], []
        for widget, cell in entries:
            item = known.pop(widget, None)
            if item is None:
                self.addChildWidget(widget)
                item = QWidgetItem(widget)
            self._items.append(item)
            self._cells.append(cell)
        for widget in known:
            widget.hide()
        self.invalidate()

    def widgets(self) -> list[QWidget]:
        return [item.widget() for item in self._items]

    # -- QLayout -------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        """Qt's generic way in: the item takes a row of its own after the others."""
        self._items.append(item)
        self._cells = place([*(cell.span for cell in self._cells), GRID_COLUMNS])
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if not 0 <= index < len(self._items):
            return None
        self._cells.pop(index)
        item = self._items.pop(index)
        self.invalidate()
        return item

    def invalidate(self) -> None:
        self._rows = None
        super().invalidate()

    def sizeHint(self) -> QSize:
        return QSize(480, self._total_height())

    def minimumSize(self) -> QSize:
        return QSize(240, self._total_height())

    def _row_heights(self) -> list[tuple[list[int], int]]:
        """Rows with their heights, computed once per invalidation."""
        if self._rows is None:
            self._rows = [
                (row, max(self._items[i].sizeHint().height() for i in row))
                for row in rows_of(self._cells)
            ]
        return self._rows

    def _total_height(self) -> int:
        margins = self.contentsMargins()
        rows = self._row_heights()
        spacing = self.v_spacing * max(0, len(rows) - 1)
        return margins.top() + margins.bottom() + spacing + sum(h for _row, h in rows)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        y = area.top()
        for row, height in self._row_heights():
            for index in row:
                left, width = column_extent(self._cells[index], area.width(), self.h_spacing)
                self._items[index].setGeometry(QRect(area.left() + left, y, width, height))
            y += height + self.v_spacing
