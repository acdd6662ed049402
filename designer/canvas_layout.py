"""The canvas's layout: items in rows of a 12-column grid, like RecordFormView.

Each item spans 1–12 columns (a field's ``width``; sections take a whole row). Rows
depend only on the spans, so the height does not depend on the width; reordering
is :meth:`FormGridLayout.set_entries` with the same widgets, no rebuilding.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget, QWidgetItem

from widgets.base import WIDTH_FRACTIONS

GRID_COLUMNS = 12


def span_of(width: str, full_row: bool = False) -> int:
    """Grid columns of a field width (``"1/3"`` → 4); layout groups take all."""
    if full_row:
        return GRID_COLUMNS
    return max(1, round(WIDTH_FRACTIONS.get(width, 1.0) * GRID_COLUMNS))


def rows_of(spans: list[int]) -> list[list[int]]:
    """Item indexes per row: an item that does not fit starts the next row."""
    rows: list[list[int]] = []
    used = GRID_COLUMNS
    for index, span in enumerate(spans):
        if used + span > GRID_COLUMNS:
            rows.append([])
            used = 0
        rows[-1].append(index)
        used += span
    return rows


class FormGridLayout(QLayout):
    """Places widgets in rows of 12 columns; row height is its tallest item's hint."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spans: list[int] = []
        self._rows: list[tuple[list[int], int]] | None = None
        self.h_spacing = 16
        self.v_spacing = 12
        self.setContentsMargins(20, 16, 20, 24)

    # -- entries -------------------------------------------------------------
    def set_entries(self, entries: list[tuple[QWidget, int]]) -> None:
        """The widgets in display order with their spans; new widgets are adopted."""
        known = {item.widget(): item for item in self._items}
        self._items, self._spans = [], []
        for widget, span in entries:
            item = known.pop(widget, None)
            if item is None:
                self.addChildWidget(widget)
                item = QWidgetItem(widget)
            self._items.append(item)
            self._spans.append(span)
        for widget in known:
            widget.hide()
        self.invalidate()

    def widgets(self) -> list[QWidget]:
        return [item.widget() for item in self._items]

    # -- QLayout -------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self._spans.append(GRID_COLUMNS)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if not 0 <= index < len(self._items):
            return None
        self._spans.pop(index)
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
                for row in rows_of(self._spans)
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
        column = (area.width() - self.h_spacing * (GRID_COLUMNS - 1)) / GRID_COLUMNS
        y = area.top()
        for row, height in self._row_heights():
            used = 0
            for index in row:
                span = self._spans[index]
                x = area.left() + round(used * (column + self.h_spacing))
                width = round(span * column + (span - 1) * self.h_spacing)
                self._items[index].setGeometry(QRect(x, y, width, height))
                used += span
            y += height + self.v_spacing
