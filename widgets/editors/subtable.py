"""Editor of subtables: a grid whose cells edit with their column type's own editor."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from resources import icons
from widgets.base import NO_REFERENCES, FieldSpecBase, ReferenceSource, default_value
from widgets.editors.base import FieldEditor, create_editor
from widgets.registry import default_registry
from widgets.types.subtable import cell_message

Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel):
    """The rows being edited: one dict per row with every column key."""

    def __init__(
        self,
        columns: list[FieldSpecBase],
        parent: QObject | None = None,
        references: ReferenceSource = NO_REFERENCES,
    ) -> None:
        super().__init__(parent)
        self.columns = columns
        self.types = [default_registry.of(column) for column in columns]
        self.references = references
        self.rows: list[dict[str, Any]] = []
        #: Per row, text typed into a cell that is not a value of its column:
        #: column key -> (text, problem). Shown in the cell, never stored.
        self.typed: list[dict[str, tuple[str, str]]] = []
        self.read_only = False

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def cell(self, index: Index) -> Any:
        return self.rows[index.row()].get(self.columns[index.column()].key)

    def set_cell(self, index: Index, value: Any, typed: tuple[str, str] | None = None) -> None:
        """Store a cell's value; ``typed`` is (text, problem) when the text typed is
        not a value of the column (the value is then ``None`` or out of range)."""
        key = self.columns[index.column()].key
        row = index.row()
        if self.rows[row].get(key) == value and self.typed[row].get(key) == typed:
            return
        self.rows[row][key] = value
        if typed is None:
            self.typed[row].pop(key, None)
        else:
            self.typed[row][key] = typed
        self.dataChanged.emit(index, index)

    def typed_text(self, index: Index) -> tuple[str, str] | None:
        return self.typed[index.row()].get(self.columns[index.column()].key)

    def problems(self) -> list[tuple[int, FieldSpecBase, str]]:
        """(row number from 1, column, problem) of every cell with unreadable text."""
        return [
            (number, column, entries[column.key][1])
            for number, entries in enumerate(self.typed, 1)
            for column in self.columns
            if column.key in entries
        ]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column, field_type = self.columns[index.column()], self.types[index.column()]
        typed = self.typed_text(index)
        if typed is not None and role == Qt.ItemDataRole.DisplayRole:
            return typed[0]
        if typed is not None and role == Qt.ItemDataRole.ToolTipRole:
            return typed[1]
        if typed is not None and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor("#c62828"))
        if role == Qt.ItemDataRole.DisplayRole:
            try:
                return field_type.display(column, self.cell(index))
            except Exception:  # a half-typed value must not break painting
                return str(self.cell(index))
        if (
            role == Qt.ItemDataRole.TextAlignmentRole
            and field_type.expression_type(column) == "number"
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        column = self.columns[section]
        return f"{column.label} *" if column.required else column.label

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self.read_only and not self.types[index.column()].computed:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def blank_row(self) -> dict[str, Any]:
        """A new row: each column's default (like a new record's fields)."""
        return {
            column.key: default_value(field_type, column, self.references)
            for column, field_type in zip(self.columns, self.types, strict=True)
        }

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = [{column.key: row.get(column.key) for column in self.columns} for row in rows]
        self.typed = [{} for _row in self.rows]
        self.endResetModel()

    def insert_row(self, at: int) -> None:
        self.beginInsertRows(QModelIndex(), at, at)
        self.rows.insert(at, self.blank_row())
        self.typed.insert(at, {})
        self.endInsertRows()

    def remove_row(self, at: int) -> None:
        self.beginRemoveRows(QModelIndex(), at, at)
        del self.rows[at]
        del self.typed[at]
        self.endRemoveRows()

    def set_computed(self, row: int, values: dict[str, Any]) -> None:
        """Show formula results in a row (no edit: ``computed_changed`` only)."""
        for number, (column, field_type) in enumerate(zip(self.columns, self.types, strict=True)):
            if field_type.computed and self.rows[row].get(column.key) != values.get(column.key):
                self.rows[row][column.key] = values.get(column.key)
                index = self.index(row, number)
                self.dataChanged.emit(index, index)


class CellDelegate(QStyledItemDelegate):
    """Edits a cell with the editor of its column's type (via the registry)."""

    def __init__(self, model: RowsModel, references: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.references = references

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        editor = create_editor(self.model.columns[index.column()], self.references, parent)
        editor.setAutoFillBackground(True)
        # Commit on every edit, so the model is current whatever closes the editor.
        editor.value_changed.connect(lambda: self.commitData.emit(editor))
        return editor

    def setEditorData(self, editor: FieldEditor, index: Index) -> None:
        """Load the cell into its editor — but never over what the user is typing.

        Every keystroke commits (see :meth:`createEditor`) and the view answers each
        commit with this call: rewriting the editor then would turn ``120.5`` into
        ``120.50`` under the cursor and swallow the next key.
        """
        typed = self.model.typed_text(index)
        if typed is not None and hasattr(editor, "set_text"):
            if editor.text() != typed[0]:
                editor.set_text(typed[0])
            return
        value = self.model.cell(index)
        if editor.value() != value:
            editor.set_value(value)

    def setModelData(self, editor: FieldEditor, model: Any, index: Index) -> None:
        problem = None if editor.keeps_typed_text else editor.problem()
        typed = (editor.text(), problem) if problem and hasattr(editor, "set_text") else None
        self.model.set_cell(index, editor.value(), typed)

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: Index
    ) -> None:
        editor.setGeometry(option.rect)


class SubtableEditor(FieldEditor):
    """Rows in a grid with Add row / Remove row (also Insert / Delete keys)."""

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.field_type = default_registry.get("subtable")
        self.layout_.setDirection(QBoxLayout.Direction.TopToBottom)
        self.layout_.setSpacing(4)
        self.model = RowsModel(self.field_type.children(spec), self, self.references)
        self.table = self._make_table()
        self.layout_.addWidget(self.table, 1)
        self.layout_.addLayout(self._make_buttons())
        self._computing = False  # formula results shown are not edits
        self.model.dataChanged.connect(self._on_data_changed)
        self.table.selectionModel().currentChanged.connect(lambda *_: self._update_buttons())
        self.setFocusProxy(self.table)
        self.set_value(None)

    def _make_table(self) -> QTableView:
        table = QTableView(self)
        table.setModel(self.model)
        table.setItemDelegate(CellDelegate(self.model, self.references, table))
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(self._edit_triggers())
        table.setAlternatingRowColors(True)
        table.verticalHeader().setDefaultSectionSize(max(30, table.fontMetrics().height() + 14))
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = table.horizontalHeader()
        stretch = len(self.model.columns) <= 5
        header.setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch if stretch else QHeaderView.ResizeMode.Interactive
        )
        header.setDefaultSectionSize(130)
        table.setMinimumHeight(140)
        table.installEventFilter(self)
        return table

    @staticmethod
    def _edit_triggers() -> QAbstractItemView.EditTrigger:
        triggers = QAbstractItemView.EditTrigger
        return (
            triggers.DoubleClicked
            | triggers.EditKeyPressed
            | triggers.AnyKeyPressed
            | triggers.SelectedClicked
        )

    def _make_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.add_button = QPushButton(
            icons.icon("mdi6.table-row-plus-after"), self.tr("Add row"), self
        )
        self.add_button.setToolTip(self.tr("Add a row below the current one (Insert)"))
        self.add_button.clicked.connect(self.add_row)
        self.remove_button = QPushButton(
            icons.icon("mdi6.table-row-remove"), self.tr("Remove row"), self
        )
        self.remove_button.setToolTip(self.tr("Remove the current row (Delete)"))
        self.remove_button.clicked.connect(self.remove_row)
        self.count_label = QLabel(self)
        self.count_label.setStyleSheet("color: palette(placeholder-text);")
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        row.addWidget(self.count_label)
        return row

    def _on_data_changed(self, *_args) -> None:
        if not self._computing:
            self.value_changed.emit()

    # -- rows ---------------------------------------------------------------
    def row_count(self) -> int:
        return self.model.rowCount()

    def can_add(self) -> bool:
        limit = self.spec.max_rows
        return not self._read_only and (limit is None or self.row_count() < limit)

    def can_remove(self) -> bool:
        return (
            not self._read_only
            and self.row_count() > self.spec.min_rows
            and self.table.currentIndex().isValid()
        )

    def add_row(self) -> None:
        """Add a blank row below the current one; its first cell becomes current (type to fill)."""
        if not self.can_add():
            return
        current = self.table.currentIndex()
        at = current.row() + 1 if current.isValid() else self.row_count()
        self.model.insert_row(at)
        index = self.model.index(at, 0)
        self.table.setCurrentIndex(index)
        self.table.setFocus()
        self._update_buttons()
        self.value_changed.emit()

    def remove_row(self) -> None:
        if not self.can_remove():
            return
        at = self.table.currentIndex().row()
        self.model.remove_row(at)
        if self.row_count():
            self.table.setCurrentIndex(self.model.index(min(at, self.row_count() - 1), 0))
        self._update_buttons()
        self.value_changed.emit()

    def _update_buttons(self) -> None:
        self.add_button.setEnabled(self.can_add())
        self.remove_button.setEnabled(self.can_remove())
        limits = []
        if self.spec.min_rows:
            limits.append(self.tr("at least {count}").format(count=self.spec.min_rows))
        if self.spec.max_rows is not None:
            limits.append(self.tr("at most {count}").format(count=self.spec.max_rows))
        rows = len(self.model.rows or [])
        count = self.tr("1 row") if rows == 1 else self.tr("{count} rows").format(count=rows)
        self.count_label.setText(f"{count} ({self.tr(', ').join(limits)})" if limits else count)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Insert adds a row, Delete removes one (when no cell is being edited)."""
        editing = self.table.state() == QAbstractItemView.State.EditingState
        if watched is self.table and event.type() == QEvent.Type.KeyPress and not editing:
            if event.key() == Qt.Key.Key_Insert:
                self.add_row()
                return True
            if event.key() == Qt.Key.Key_Delete:
                self.remove_row()
                return True
        return super().eventFilter(watched, event)

    # -- formulas -----------------------------------------------------------
    def apply_formulas(self, compute) -> None:
        """Show the row formulas' results live: ``compute(rows)`` (the form's own
        formula logic) returns the rows with their formula columns filled in. Rows
        with nothing typed in stay blank."""
        empty = self.field_type.row_is_empty
        filled = [at for at, row in enumerate(self.model.rows) if not empty(self.spec, row)]
        results = compute([dict(self.model.rows[at]) for at in filled])
        by_row = dict(zip(filled, results, strict=True))
        self._computing = True
        try:
            for at in range(self.row_count()):
                self.model.set_computed(at, by_row.get(at, {}))
        finally:
            self._computing = False

    # -- value --------------------------------------------------------------
    def problem(self) -> str | None:
        """The first cell whose text is not a value of its column ("row 2, Qty: …")."""
        problems = self.model.problems()
        if not problems:
            return None
        number, column, message = problems[0]
        return cell_message(number, column, message)

    def value(self) -> Any:
        """The rows with anything filled in (blank rows are not kept)."""
        empty = self.field_type.row_is_empty
        rows = [dict(row) for row in self.model.rows if not empty(self.spec, row)]
        return rows or None

    def set_value(self, value: Any) -> None:
        rows = [dict(row) for row in value or []]
        while len(rows) < self.spec.min_rows:
            rows.append(self.model.blank_row())
        self.model.set_rows(rows)
        self._update_buttons()

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.model.read_only = read_only
        triggers = (
            QAbstractItemView.EditTrigger.NoEditTriggers if read_only else self._edit_triggers()
        )
        self.table.setEditTriggers(triggers)
        self.add_button.setVisible(not read_only)
        self.remove_button.setVisible(not read_only)
        self._update_buttons()
