"""Where a drop lands on the canvas, from the cursor position alone.

Over an item: before it when the cursor is in its first half (left half in a row
shared with others, top half for a full-width item), else after it. Over a
subtable's column strip: between the columns. Elsewhere: before the first item
below the cursor, or at the end. Moves of existing fields carry
``application/x-formwright-field`` (``{"form": ..., "key": ...}``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from PySide6.QtCore import QMimeData, QPoint, QRect

FIELD_MIME = "application/x-formwright-field"
MARKER = 3


@dataclass(frozen=True)
class DropTarget:
    """An insertion point: ``index`` in the form (``parent=None``) or a subtable."""

    parent: str | None
    index: int
    marker: QRect


@dataclass(frozen=True)
class Slot:
    """An item the cursor can be over: its key, its geometry in canvas coordinates."""

    key: str
    rect: QRect


def field_mime(form_key: str, key: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(FIELD_MIME, json.dumps({"form": form_key, "key": key}).encode())
    return mime


def field_from_mime(mime: QMimeData) -> tuple[str, str] | None:
    if not mime.hasFormat(FIELD_MIME):
        return None
    try:
        data = json.loads(bytes(mime.data(FIELD_MIME).data()))
        return str(data["form"]), str(data["key"])
    except (ValueError, KeyError, TypeError):
        return None


def _vertical(rect: QRect, left: bool) -> QRect:
    x = rect.left() - MARKER - 2 if left else rect.right() + 2
    return QRect(x, rect.top(), MARKER, rect.height())


def _horizontal(rect: QRect, top: bool) -> QRect:
    y = rect.top() - MARKER - 2 if top else rect.bottom() + 3
    return QRect(rect.left(), y, rect.width(), MARKER)


def top_level_target(slots: list[Slot], pos: QPoint, page_width: int) -> DropTarget:
    """Before/after the item under ``pos``, else before the next row, else the end."""
    for index, slot in enumerate(slots):
        rect = slot.rect
        if not rect.contains(pos):
            continue
        if rect.width() >= page_width * 0.7:
            before = pos.y() < rect.center().y()
            return DropTarget(None, index + (not before), _horizontal(rect, before))
        before = pos.x() < rect.center().x()
        return DropTarget(None, index + (not before), _vertical(rect, before))
    for index, slot in enumerate(slots):
        if slot.rect.top() > pos.y():
            return DropTarget(None, index, _horizontal(slot.rect, True))
    if slots:
        return DropTarget(None, len(slots), _horizontal(slots[-1].rect, False))
    return DropTarget(None, 0, QRect(20, 16, max(40, page_width - 40), MARKER))


def column_target(parent: str, chips: list[Slot], strip: QRect, pos: QPoint) -> DropTarget:
    """Between the chips of a subtable's column strip (at the end past the last)."""
    for index, chip in enumerate(chips):
        if pos.x() < chip.rect.center().x():
            return DropTarget(parent, index, _vertical(chip.rect, True))
    if chips:
        return DropTarget(parent, len(chips), _vertical(chips[-1].rect, False))
    return DropTarget(
        parent, 0, QRect(strip.left() + 4, strip.top() + 3, MARKER, strip.height() - 6)
    )
