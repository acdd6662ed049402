"""The outline: the app as a tree (forms → sections → fields, views, roles).

Selecting a field selects it in the document (the canvas follows); selecting a
form, view, role or the app asks for it to be shown (``target_activated``). The
tree is rebuilt on structural signals, coalesced into one rebuild per event-loop
turn; label edits update one item. Fields are reordered by dragging them.

A rebuild assembles the whole tree detached from the view and inserts it at once:
one insertion for the view to process instead of one per item.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QDropEvent, QIcon
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from designer.document import DesignerDocument, EditError
from designer.i18n import type_title
from resources import icons

TARGET_ROLE = Qt.ItemDataRole.UserRole


@functools.cache
def _icon(name: str) -> QIcon:
    """Icons are shared: a tree of 300 fields uses a handful of them."""
    return icons.icon(name, color="#546e7a")


class Outline(QTreeWidget):
    target_activated = Signal(tuple)
    form_activated = Signal(str)
    message = Signal(str)

    def __init__(self, document: DesignerDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.items: dict[tuple, QTreeWidgetItem] = {}
        self._syncing = False
        self.setHeaderHidden(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.rebuild)
        for signal in (
            document.spec_reset, document.field_added, document.field_removed,
            document.field_moved, document.field_key_changed, document.form_added,
            document.form_removed, document.form_renamed, document.form_key_changed,
            document.view_added, document.view_removed, document.role_added,
            document.role_removed,
        ):  # fmt: skip
            signal.connect(self._timer.start)
        document.view_changed.connect(self._on_titled_changed)
        document.role_changed.connect(self._on_titled_changed)
        document.property_changed.connect(self._on_property)
        document.selection_changed.connect(self.sync_selection)
        self.itemSelectionChanged.connect(self._on_selection)
        self.rebuild()

    # -- building ----------------------------------------------------------------
    def rebuild(self) -> None:
        self._timer.stop()
        self._syncing = True
        self.setUpdatesEnabled(False)
        self.clear()
        self.items = {}
        spec = self.document.spec
        app = self._item(None, ("app",), spec.title, "mdi6.application-outline")
        forms = self._item(app, ("forms",), self.tr("Forms"), "mdi6.folder-outline")
        for form in spec.forms:
            self._add_form(forms, form.key)
        views = self._item(app, ("views",), self.tr("List views"), "mdi6.folder-outline")
        for view in spec.views:
            self._item(views, ("view", view.key), view.title, "mdi6.table-eye")
        roles = self._item(app, ("roles",), self.tr("Roles"), "mdi6.folder-outline")
        for role in spec.roles:
            self._item(roles, ("role", role.key), role.title, "mdi6.account-key-outline")
        self.addTopLevelItem(app)
        self.expandToDepth(2)
        self.setUpdatesEnabled(True)
        self._syncing = False
        self.sync_selection()

    def _add_form(self, parent: QTreeWidgetItem, form_key: str) -> None:
        form = self.document.form(form_key)
        node = self._item(parent, ("form", form_key), form.title, "mdi6.form-select")
        group = node
        for spec in form.fields:
            field_type = self.document.registry.of(spec)
            holder = node if field_type.groups_following else group
            item = self._field_item(holder, form_key, spec)
            if field_type.groups_following:
                group = item
            for child in self.document.children(spec) or []:
                self._field_item(item, form_key, child)

    def _field_item(self, parent: QTreeWidgetItem, form_key: str, spec) -> QTreeWidgetItem:
        field_type = self.document.registry.of(spec)
        item = self._item(parent, ("field", form_key, spec.key), spec.label, field_type.icon)
        item.setToolTip(0, f"{type_title(field_type)} · {spec.key}")
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled)
        return item

    def _item(self, parent, target: tuple, text: str, icon: str) -> QTreeWidgetItem:
        """An item under ``parent`` (``None``: not in a tree yet)."""
        item = QTreeWidgetItem([text]) if parent is None else QTreeWidgetItem(parent, [text])
        item.setData(0, TARGET_ROLE, target)
        item.setIcon(0, _icon(icon))
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        item.setFlags(flags | (Qt.ItemFlag.ItemIsDropEnabled if target[0] == "form" else flags))
        self.items[target] = item
        return item

    def _on_property(self, form: str, key: str, name: str) -> None:
        item = self.items.get(("field", form, key))
        if name == "label" and item is not None:
            item.setText(0, self.document.field(form, key).label)

    def _on_titled_changed(self, key: str, name: str) -> None:
        self._timer.start()

    # -- selection ---------------------------------------------------------------
    def sync_selection(self) -> None:
        """Select the items of the document's selection (without echoing it back)."""
        self._syncing = True
        self.clearSelection()
        for path in self.document.selection():
            item = self.items.get(("field", path.form, path.key))
            if item is not None:
                item.setSelected(True)
                self.scrollToItem(item)
        self._syncing = False

    def _on_selection(self) -> None:
        if self._syncing:
            return
        targets = [item.data(0, TARGET_ROLE) for item in self.selectedItems()]
        fields = [t for t in targets if t[0] == "field"]
        if fields:
            self.form_activated.emit(fields[0][1])
            self.document.set_selection(self.document.field_path(t[1], t[2]) for t in fields)
        elif targets and targets[0][0] in ("form", "view", "role", "app"):
            if targets[0][0] == "form":
                self.form_activated.emit(targets[0][1])
            self.document.set_selection([])
            self.target_activated.emit(tuple(targets[0]))

    def select_target(self, target: tuple) -> None:
        item = self.items.get(tuple(target))
        if item is not None:
            self.setCurrentItem(item)

    # -- reordering by drag --------------------------------------------------------
    def dropEvent(self, event: QDropEvent) -> None:
        target = self.itemAt(event.position().toPoint())
        dragged = [item.data(0, TARGET_ROLE) for item in self.selectedItems()]
        event.ignore()  # the document moves the field; the tree is rebuilt from it
        if target is None or not dragged or dragged[0][0] != "field":
            return
        position = self.dropIndicatorPosition()
        after = position != QAbstractItemView.DropIndicatorPosition.AboveItem
        into = position == QAbstractItemView.DropIndicatorPosition.OnItem
        self.drop_field(dragged[0][2], target.data(0, TARGET_ROLE), after, into)

    def drop_field(self, key: str, target: tuple, after: bool, into: bool = False) -> None:
        """Move field ``key`` before/after the target item (into a subtable when
        dropped on it, to the start of a form when dropped on the form)."""
        form_key = target[1]
        try:
            if target[0] == "form":
                self.document.move_field(form_key, key, 0)
                return
            spec = self.document.field(form_key, target[2])
            if into and self.document.children(spec) is not None:
                size = len(self.document.children(spec))
                self.document.move_field(form_key, key, size, target[2])
                return
            path = self.document.field_path(form_key, target[2])
            siblings = self._siblings(form_key, path.parent)
            index = siblings.index(target[2]) + (1 if after else 0)
            moving = self.document.field_path(form_key, key)
            if moving.parent == path.parent and siblings.index(key) < index:
                index -= 1
            self.document.move_field(form_key, key, index, path.parent)
        except EditError as error:
            self.message.emit(error.message)

    def _siblings(self, form_key: str, parent: str | None) -> list[str]:
        if parent is None:
            return [spec.key for spec in self.document.form(form_key).fields]
        holder = self.document.field(form_key, parent)
        return [spec.key for spec in self.document.children(holder) or []]
