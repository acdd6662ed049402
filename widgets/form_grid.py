"""The form grid: where each item of a form sits, in rows of 12 columns.

One computation for the runtime's record form (``runtime.ui.form_view``) and the
designer's canvas (``designer.canvas_layout``), so the canvas shows a form as its
users will see it. Qt-free: this module places, the views draw.

- An item spans its width's share of the columns (``"1/3"`` → 4), at least one.
- Items fill a row left to right; one that does not fit starts the next row.
- A layout item that groups the items after it (a section) takes a whole row; the
  items after it belong to it until the next such item.
- Visibility plays no part: the runtime hides a field in its cell (the others do not
  move up), so a form's grid is the same whatever its values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

from widgets.base import WIDTH_FRACTIONS, FieldSpecBase
from widgets.registry import FieldTypeRegistry

GRID_COLUMNS = 12


@dataclass(frozen=True)
class GridCell:
    """The place of one item: its row, first column and number of columns."""

    row: int
    column: int
    span: int


@dataclass(frozen=True)
class FormCell(GridCell):
    """The place of one field of a form, with the section it belongs to."""

    key: str
    #: The key of the section (a ``groups_following`` item) holding this item.
    section: str | None = None
    #: Whether this item is a section: it heads the items after it.
    heads_section: bool = False


def span_of(width: str, full_row: bool = False) -> int:
    """Columns of a field width (``"1/3"`` → 4); an unknown width takes the whole row."""
    if full_row:
        return GRID_COLUMNS
    return max(1, round(WIDTH_FRACTIONS.get(width, 1.0) * GRID_COLUMNS))


def place(spans: Sequence[int]) -> list[GridCell]:
    """Cells for items of ``spans`` in order: an item that does not fit starts a row."""
    cells: list[GridCell] = []
    row, used = -1, GRID_COLUMNS
    for span in spans:
        if used + span > GRID_COLUMNS:
            row, used = row + 1, 0
        cells.append(GridCell(row, used, span))
        used += span
    return cells


def form_cells(fields: Sequence[FieldSpecBase], registry: FieldTypeRegistry) -> list[FormCell]:
    """The cells of a form's top-level items, in form order."""
    heads = [registry.of(spec).groups_following for spec in fields]
    spans = [span_of(spec.width, head) for spec, head in zip(fields, heads, strict=True)]
    cells: list[FormCell] = []
    section: str | None = None
    for spec, head, cell in zip(fields, heads, place(spans), strict=True):
        if head:
            section = spec.key
        holder = None if head else section
        cells.append(FormCell(cell.row, cell.column, cell.span, spec.key, holder, head))
    return cells


def rows_of(cells: Sequence[GridCell]) -> list[list[int]]:
    """Indexes of ``cells`` per row, top down (cells are in placing order)."""
    indexes = range(len(cells))
    return [list(row) for _row, row in groupby(indexes, key=lambda index: cells[index].row)]


def column_extent(cell: GridCell, width: float, spacing: int) -> tuple[int, int]:
    """Left offset and width in pixels of ``cell`` in an area ``width`` wide, with
    ``spacing`` pixels between columns: all columns equally wide."""
    column = (width - spacing * (GRID_COLUMNS - 1)) / GRID_COLUMNS
    left = round(cell.column * (column + spacing))
    return left, round(cell.span * column + (cell.span - 1) * spacing)
