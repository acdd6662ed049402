"""Pickers over ids with names (users, departments, records), shared by their editors.

A :class:`ReferencePicker` looks like a line edit showing the chosen name (or
removable chips when several may be chosen). Clicking it, pressing Enter/F4/Down
or just typing opens a :class:`PickerPopup`: a search box (debounced) over a
result list; Enter or a double-click chooses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from widgets.editors.base import FieldEditor
from widgets.references import ReferenceKind
from widgets.registry import default_registry

SEARCH_DELAY_MS = 250
ID_ROLE = Qt.ItemDataRole.UserRole
Search = Callable[[str], list[tuple[int, str]]]

FIELD_STYLE = """
QFrame#pickerField { border: 1px solid palette(mid); border-radius: 3px;
                     background: palette(base); }
QFrame#pickerField:focus { border: 1px solid palette(highlight); }
QFrame#chip { background: #e4ecf7; border: 1px solid #b9cbe6; border-radius: 10px; }
QLabel#placeholder { color: palette(placeholder-text); }
"""


class FlowLayout(QLayout):
    """Lays items out left to right, wrapping to new lines (chips)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setSpacing(spacing)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:
        """Everything on one line (the layout wraps when given less width)."""
        hints = [item.sizeHint() for item in self._items]
        width = sum(hint.width() for hint in hints) + self.spacing() * max(len(hints) - 1, 0)
        height = max((hint.height() for hint in hints), default=0)
        margins = self.contentsMargins()
        return QSize(
            width + margins.left() + margins.right(), height + margins.top() + margins.bottom()
        )

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _arrange(self, rect: QRect, apply: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        x, y, line_height, spacing = area.x(), area.y(), 0, self.spacing()
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and line_height > 0:
                x, y, line_height = area.x(), y + line_height + spacing, 0
            if apply:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + spacing
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y() + margins.bottom()


class Chip(QFrame):
    """One chosen name with a small remove button."""

    removed = Signal(int)

    def __init__(self, ident: int, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ident = ident
        self.setObjectName("chip")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 1, 2, 1)
        layout.setSpacing(2)
        self.label = QLabel(name, self)
        layout.addWidget(self.label)
        self.remove_button = QToolButton(self)
        self.remove_button.setIcon(icons.icon("mdi6.close"))
        self.remove_button.setIconSize(QSize(12, 12))
        self.remove_button.setAutoRaise(True)
        self.remove_button.setToolTip(self.tr("Remove {name}").format(name=name))
        self.remove_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.remove_button.clicked.connect(lambda: self.removed.emit(self.ident))
        layout.addWidget(self.remove_button)


class PickerPopup(QFrame):
    """A search box over a result list, shown under the picker."""

    picked = Signal(int, str)

    def __init__(self, search: Search, multiple: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._search = search
        self.multiple = multiple
        self.selected: set[int] = set()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.search_line = QLineEdit(self)
        self.search_line.setPlaceholderText(self.tr("Type to search…"))
        self.search_line.setClearButtonEnabled(True)
        self.search_line.addAction(
            icons.icon("mdi6.magnify"), QLineEdit.ActionPosition.LeadingPosition
        )
        self.search_line.installEventFilter(self)
        layout.addWidget(self.search_line)
        self.results = QListWidget(self)
        self.results.setUniformItemSizes(True)
        self.results.itemActivated.connect(self.choose)
        layout.addWidget(self.results)
        self.status = QLabel("", self)
        self.status.setObjectName("placeholder")
        layout.addWidget(self.status)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.refresh)
        self.search_line.textEdited.connect(lambda _text: self.timer.start())
        self.search_line.returnPressed.connect(self._choose_current)

    def popup(self, anchor: QWidget, text: str = "") -> None:
        """Show under ``anchor``, searching for ``text`` right away."""
        self.search_line.setText(text)
        self.refresh()
        self.resize(max(anchor.width(), 300), 320)
        self.move(anchor.mapToGlobal(QPoint(0, anchor.height())))
        self.show()
        self.search_line.setFocus()

    def refresh(self) -> None:
        self.timer.stop()
        current = self.results.currentItem()
        keep = current.data(ID_ROLE) if current else None
        self.results.clear()
        for ident, name in self._search(self.search_line.text().strip()):
            item = QListWidgetItem(name, self.results)
            item.setData(ID_ROLE, ident)
            self._mark(item)
            if ident == keep:
                self.results.setCurrentItem(item)
        if self.results.currentItem() is None and self.results.count():
            self.results.setCurrentRow(0)
        self.status.setText("" if self.results.count() else self.tr("No matches"))
        self.status.setVisible(not self.results.count())

    def _mark(self, item: QListWidgetItem) -> None:
        chosen = item.data(ID_ROLE) in self.selected
        item.setIcon(
            icons.icon("mdi6.check")
            if chosen
            else icons.icon("mdi6.checkbox-blank-off-outline", color="transparent")
        )

    def choose(self, item: QListWidgetItem) -> None:
        ident = item.data(ID_ROLE)
        self.picked.emit(ident, item.text())
        if self.multiple:
            self.selected ^= {ident}
            self._mark(item)
        else:
            self.hide()

    def _choose_current(self) -> None:
        if self.timer.isActive():
            self.refresh()  # Enter right after typing: search first
        if self.results.currentItem() is not None:
            self.choose(self.results.currentItem())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up/Down/PageUp/PageDown in the search box move through the results."""
        keys = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)
        if event.type() == QEvent.Type.KeyPress and event.key() in keys:
            forwarded = QKeyEvent(event.type(), event.key(), event.modifiers())
            QApplication.sendEvent(self.results, forwarded)
            return True
        return super().eventFilter(watched, event)


class ReferencePicker(QWidget):
    """Shows chosen names and opens a :class:`PickerPopup` to change them."""

    changed = Signal()

    def __init__(
        self,
        search: Search,
        name_of: Callable[[int], str],
        multiple: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setStyleSheet(FIELD_STYLE)
        self.multiple = multiple
        self._name_of = name_of
        self._ids: list[int] = []
        self._names: dict[int, str] = {}
        self._read_only = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.field = QFrame(self)
        self.field.setObjectName("pickerField")
        self.field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.field.setMinimumHeight(28)
        self.field.installEventFilter(self)
        self.field.setCursor(Qt.CursorShape.PointingHandCursor)
        self.chips = FlowLayout(self.field)
        self.chips.setContentsMargins(6, 3, 6, 3)
        layout.addWidget(self.field, 1)
        self.choose_button = self._button(
            "mdi6.magnify", self.tr("Choose… (Enter)"), self.open_popup
        )
        self.clear_button = self._button("mdi6.close-circle-outline", self.tr("Clear"), self.clear)
        layout.addWidget(self.choose_button)
        layout.addWidget(self.clear_button)
        self.popup = PickerPopup(search, multiple, self)
        self.popup.picked.connect(self._picked)
        self.setFocusProxy(self.field)
        self._rebuild()

    def _button(self, icon: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icons.icon(icon))
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    # -- value --------------------------------------------------------------
    def ids(self) -> list[int]:
        return list(self._ids)

    def set_ids(self, ids: list[int]) -> None:
        """Show these ids (no ``changed``)."""
        self._ids = list(ids)
        self._rebuild()

    def name(self, ident: int) -> str:
        if ident not in self._names:
            self._names[ident] = self._name_of(ident)
        return self._names[ident]

    def clear(self) -> None:
        if self._ids and not self._read_only:
            self._ids = []
            self._rebuild()
            self.changed.emit()

    def remove(self, ident: int) -> None:
        if ident in self._ids and not self._read_only:
            self._ids.remove(ident)
            self._rebuild()
            self.changed.emit()

    def _picked(self, ident: int, name: str) -> None:
        self._names[ident] = name
        if not self.multiple:
            self._ids = [ident]
            self.field.setFocus()
        elif ident in self._ids:
            self._ids.remove(ident)
        else:
            self._ids.append(ident)
        self._rebuild()
        self.changed.emit()

    # -- view ---------------------------------------------------------------
    def _rebuild(self) -> None:
        while self.chips.count():
            widget = self.chips.takeAt(0).widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        for ident in self._ids:
            self.chips.addWidget(self._label_for(ident))
        if not self._ids:
            text = "" if self._read_only else self.tr("Click or type to choose…")
            placeholder = QLabel(text, self.field)
            placeholder.setObjectName("placeholder")
            self.chips.addWidget(placeholder)
        self.clear_button.setVisible(bool(self._ids) and not self._read_only)
        self.field.setToolTip(", ".join(self.name(ident) for ident in self._ids))
        self.updateGeometry()

    def _label_for(self, ident: int) -> QWidget:
        if not self.multiple:
            return QLabel(self.name(ident), self.field)
        chip = Chip(ident, self.name(ident), self.field)
        chip.remove_button.setVisible(not self._read_only)
        chip.removed.connect(self.remove)
        return chip

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.choose_button.setVisible(not read_only)
        self.field.setCursor(
            Qt.CursorShape.ArrowCursor if read_only else Qt.CursorShape.PointingHandCursor
        )
        self._rebuild()

    def open_popup(self, text: str = "") -> None:
        if self._read_only:
            return
        self.popup.selected = set(self._ids)
        self.popup.popup(self.field, text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keyboard and mouse on the field: open the popup, clear, remove last chip."""
        if watched is self.field and not self._read_only:
            if event.type() == QEvent.Type.MouseButtonRelease:
                self.open_popup()
                return True
            if event.type() == QEvent.Type.KeyPress:
                return self._key(event)
        return super().eventFilter(watched, event)

    def _key(self, event: QKeyEvent) -> bool:
        opening = (
            Qt.Key.Key_Return,
            Qt.Key.Key_Enter,
            Qt.Key.Key_F4,
            Qt.Key.Key_Down,
            Qt.Key.Key_Space,
        )
        if event.key() in opening:
            self.open_popup()
            return True
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._ids:
            self.remove(self._ids[-1])
            return True
        text = event.text()
        if (
            text
            and text.isprintable()
            and not event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.open_popup(text)
            return True
        return False


class ReferenceEditor(FieldEditor):
    """Base of the user, department and lookup editors: a :class:`ReferencePicker`.

    The field type says what the ids are ids of (:meth:`kind`) and whether there
    may be several; subclasses say how to search.
    """

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.field_type = default_registry.of(spec)
        self.multiple = self.field_type.is_multiple(spec)
        self.picker = ReferencePicker(self.search, self.name_of, self.multiple, self)
        self.picker.changed.connect(self.value_changed)
        self.layout_.addWidget(self.picker)
        self.setFocusProxy(self.picker)

    def kind(self) -> ReferenceKind:
        return self.field_type.reference_kind(self.spec)

    def search(self, text: str) -> list[tuple[int, str]]:
        raise NotImplementedError

    def name_of(self, ident: int) -> str:
        return self.references.name_of(self.kind(), ident)

    def value(self) -> Any:
        ids = self.picker.ids()
        if self.multiple:
            return sorted(set(ids)) or None
        return ids[0] if ids else None

    def set_value(self, value: Any) -> None:
        if value is None:
            self.picker.set_ids([])
        else:
            self.picker.set_ids(list(value) if isinstance(value, (list, tuple)) else [value])

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.picker.set_read_only(read_only)
