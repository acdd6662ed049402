"""The palette: every registered field type, grouped, searchable, draggable.

A drag carries ``application/x-formwright-field-type`` with ``{"type": name}`` as
JSON; a double-click asks for the type to be appended (``type_activated``).
"""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.i18n import group_title, type_title
from resources import icons
from widgets.registry import FieldTypeRegistry

FIELD_TYPE_MIME = "application/x-formwright-field-type"
TYPE_ROLE = Qt.ItemDataRole.UserRole


def field_type_mime(type_name: str) -> QMimeData:
    """The drag payload of a palette item (tests build drops with it too)."""
    mime = QMimeData()
    mime.setData(FIELD_TYPE_MIME, json.dumps({"type": type_name}).encode())
    return mime


def type_from_mime(mime: QMimeData) -> str | None:
    if not mime.hasFormat(FIELD_TYPE_MIME):
        return None
    payload = bytes(mime.data(FIELD_TYPE_MIME).data())
    try:
        return str(json.loads(payload)["type"])
    except (ValueError, KeyError, TypeError):
        return None


class PaletteTree(QTreeWidget):
    """Groups as top-level items, field types below; drags a type's MIME data."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setRootIsDecorated(False)
        self.setIndentation(8)

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:
        names = [item.data(0, TYPE_ROLE) for item in items if item.data(0, TYPE_ROLE)]
        return field_type_mime(names[0]) if names else QMimeData()

    def mimeTypes(self) -> list[str]:
        return [FIELD_TYPE_MIME]


class Palette(QWidget):
    """Search box over a tree of field types."""

    type_activated = Signal(str)

    def __init__(self, registry: FieldTypeRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("Search fields…"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.tree = PaletteTree(self)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._fill()

    def _fill(self) -> None:
        for group, types in self.registry.by_group().items():
            header = QTreeWidgetItem(self.tree, [group_title(group)])
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = header.font(0)
            font.setBold(True)
            header.setFont(0, font)
            for field_type in types:
                item = QTreeWidgetItem(header, [type_title(field_type)])
                item.setData(0, TYPE_ROLE, field_type.name)
                item.setIcon(0, icons.icon(field_type.icon, color="#37474f"))
                item.setToolTip(0, self.tr(field_type.description))
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
        self.tree.expandAll()

    def items(self) -> dict[str, QTreeWidgetItem]:
        """The type items by type name."""
        found = {}
        for group_index in range(self.tree.topLevelItemCount()):
            header = self.tree.topLevelItem(group_index)
            for index in range(header.childCount()):
                item = header.child(index)
                found[item.data(0, TYPE_ROLE)] = item
        return found

    def filter(self, text: str) -> None:
        """Show the types whose title, Chinese title, name or description match."""
        needle = text.strip().casefold()
        for group_index in range(self.tree.topLevelItemCount()):
            header = self.tree.topLevelItem(group_index)
            shown = 0
            for index in range(header.childCount()):
                item = header.child(index)
                match = not needle or needle in self._haystack(item.data(0, TYPE_ROLE))
                item.setHidden(not match)
                shown += match
            header.setHidden(shown == 0)

    def _haystack(self, name: str) -> str:
        field_type = self.registry.get(name)
        words = (name, field_type.title, field_type.title_zh, field_type.description)
        return " ".join(words).casefold()

    def visible_types(self) -> list[str]:
        return [name for name, item in self.items().items() if not item.isHidden()]

    def _on_double_click(self, item: QTreeWidgetItem, _column: int) -> None:
        name = item.data(0, TYPE_ROLE)
        if name:
            self.type_activated.emit(name)
