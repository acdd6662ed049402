"""A record form rendered from the AppSpec: sections, rows of widths, live rules.

The same view serves the runtime's record window and the designer's preview. It
holds editors and shows errors; it never validates or saves by itself — the
record service does, and the window passes the service's errors back here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from runtime.services.records.form_logic import FormLogic
from runtime.spec.models import FormSpec
from widgets.base import FieldSpecBase, ReferenceSource
from widgets.editors.base import FieldEditor, create_editor
from widgets.form_grid import GRID_COLUMNS, GridCell, form_cells
from widgets.registry import FieldTypeRegistry, default_registry

ERROR_STYLE = "color: #c62828;"


@dataclass
class FieldCell:
    """One item of the form: its editor, and the label and error line around it."""

    spec: FieldSpecBase
    editor: FieldEditor
    container: QWidget
    label: QLabel | None = None
    error: QLabel | None = None
    members: list[str] = field(default_factory=list)  # keys grouped by a section


@dataclass
class _GridBand:
    """The items between two sections: a QGridLayout whose row 0 is ``first_row``
    of the form grid."""

    grid: QGridLayout
    first_row: int

    def add(self, widget: QWidget, cell: GridCell) -> None:
        # Top-aligned: a short field beside a tall one (radio list) stays level with its row.
        row = cell.row - self.first_row
        self.grid.addWidget(widget, row, cell.column, 1, cell.span, Qt.AlignmentFlag.AlignTop)


class RecordFormView(QScrollArea):
    """The fields of one form laid out in a 12-column grid, with live formulas
    and ``visible_when`` rules. ``edited`` fires on every user edit."""

    edited = Signal()

    def __init__(
        self,
        form: FormSpec,
        references: ReferenceSource | None = None,
        registry: FieldTypeRegistry = default_registry,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.form = form
        self.registry = registry
        self.references = references
        self.logic = FormLogic.compile(form, registry)
        self.cells: dict[str, FieldCell] = {}
        self._modes: dict[str, str] = {}
        self._dirty = False
        self._refresh_timer = QTimer(self, singleShot=True, interval=80)
        self._refresh_timer.timeout.connect(self.refresh_rules)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(self._build())
        self.refresh_rules()

    # -- building -----------------------------------------------------------
    def _build(self) -> QWidget:
        """Each item in its ``form_grid`` cell: sections in the page's column, the
        items between two sections in a grid of their own."""
        page = QWidget(self)
        column = QVBoxLayout(page)
        column.setContentsMargins(16, 12, 16, 16)
        band: _GridBand | None = None
        cells = form_cells(self.form.fields, self.registry)
        for spec, placed in zip(self.form.fields, cells, strict=True):
            cell = self._cell(spec, page)
            self.cells[spec.key] = cell
            if placed.section is not None:
                self.cells[placed.section].members.append(spec.key)
            if placed.heads_section:
                column.addWidget(cell.container)
                band = None
            else:
                band = band or _GridBand(self._new_grid(column), placed.row)
                band.add(cell.container, placed)
        column.addStretch(1)
        self._order_tabs()
        return page

    def _new_grid(self, column: QVBoxLayout) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(10)
        for index in range(GRID_COLUMNS):
            grid.setColumnStretch(index, 1)
        column.addLayout(grid)
        return grid

    def _cell(self, spec: FieldSpecBase, parent: QWidget) -> FieldCell:
        field_type = self.registry.of(spec)
        container = QWidget(parent)
        container.setObjectName(f"cell_{spec.key}")
        # Full width of its grid cell, only as tall as it needs (top-aligned rows).
        container.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        box = QVBoxLayout(container)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(3)
        editor = create_editor(spec, self.references, container, self.registry)
        editor.setObjectName(f"editor_{spec.key}")
        cell = FieldCell(spec, editor, container)
        if field_type.has_value:
            cell.label = self._label(spec, container)
            box.addWidget(cell.label)
        box.addWidget(editor)
        if field_type.has_value:
            cell.error = QLabel(container)
            cell.error.setStyleSheet(ERROR_STYLE)
            cell.error.setWordWrap(True)
            cell.error.hide()
            box.addWidget(cell.error)
        if field_type.computed or spec.readonly:
            editor.set_read_only(True)
        editor.value_changed.connect(lambda key=spec.key: self._on_edit(key))
        editor.finished.connect(lambda key=spec.key: self.show_problem(key))
        collapse = getattr(editor, "collapsed_changed", None)
        if collapse is not None:
            collapse.connect(lambda _c, key=spec.key: self.refresh_rules())
        return cell

    def _label(self, spec: FieldSpecBase, parent: QWidget) -> QLabel:
        mark = ' <span style="color:#c62828">*</span>' if spec.required else ""
        label = QLabel(f"{_escape(spec.label)}{mark}", parent)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        if spec.help:
            label.setToolTip(spec.help)
        return label

    def _order_tabs(self) -> None:
        """Tab moves through the fields in layout order (left to right, top down)."""
        editors = [cell.editor for cell in self.cells.values()]
        for first, second in itertools.pairwise(editors):
            QWidget.setTabOrder(first, second)

    # -- values -------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The values of every field with a value (formulas as last computed)."""
        return {
            key: cell.editor.value()
            for key, cell in self.cells.items()
            if self.registry.of(cell.spec).has_value
        }

    def set_values(self, values: dict[str, Any]) -> None:
        """Show a record; editors do not emit ``edited`` for this."""
        for key, cell in self.cells.items():
            if key in values:
                cell.editor.set_value(values[key])
        self.clear_errors()
        self._dirty = False
        self.refresh_rules()

    def is_dirty(self) -> bool:
        return self._dirty

    def mark_clean(self) -> None:
        self._dirty = False

    def _on_edit(self, key: str) -> None:
        self._dirty = True
        cell = self.cells[key]
        if cell.error is not None:
            cell.error.hide()
        self._refresh_timer.start()
        self.edited.emit()

    def show_problem(self, key: str) -> None:
        """The user left a field: say under it what is wrong with what was typed."""
        cell = self.cells[key]
        if cell.error is None:
            return
        problem = cell.editor.problem()
        if problem:
            cell.error.setText(problem)
            cell.error.show()
        else:
            cell.error.hide()

    def typing_problems(self) -> dict[str, str]:
        """Fields whose typed text is not a value (or is outside the field's limits):
        a form with any of them is not saved, since the editor's value is not what
        the user typed. Hidden and read-only fields are not asked, nor editors that
        give the text as typed (the service names their problems)."""
        problems = {}
        for key, cell in self.cells.items():
            editor = cell.editor
            if cell.container.isHidden() or editor.is_read_only() or editor.keeps_typed_text:
                continue
            problem = editor.problem()
            if problem:
                problems[key] = problem
        return problems

    # -- rules --------------------------------------------------------------
    def refresh_rules(self) -> None:
        """Recompute formulas and show/hide fields by ``visible_when`` and sections."""
        values = self.values()
        computed = self.logic.compute(values)
        for key in self.logic.row_formulas:
            cell = self.cells.get(key)
            if cell is not None:
                cell.editor.apply_formulas(
                    lambda rows, key=key: self.logic.compute_rows(key, rows, values)
                )
        for key, cell in self.cells.items():
            if self.registry.of(cell.spec).computed and computed.get(key) != values.get(key):
                cell.editor.set_value(computed.get(key))
        hidden = self.logic.hidden_fields(computed) | {
            key for key, mode in self._modes.items() if mode == "hidden"
        }
        for key, cell in self.cells.items():
            cell.container.setVisible(key not in hidden)
            for member in cell.members:
                if self._collapsed(cell) and member in self.cells:
                    self.cells[member].container.setVisible(False)

    def _collapsed(self, cell: FieldCell) -> bool:
        is_collapsed = getattr(cell.editor, "is_collapsed", None)
        return bool(is_collapsed and is_collapsed())

    # -- permissions and errors --------------------------------------------
    def apply_field_modes(self, modes: dict[str, str]) -> None:
        """``hidden`` fields disappear; ``readonly`` ones show but refuse edits."""
        self._modes = dict(modes)
        for key, mode in modes.items():
            cell = self.cells.get(key)
            if cell is not None and mode == "readonly":
                cell.editor.set_read_only(True)
        self.refresh_rules()

    def set_read_only(self, read_only: bool) -> None:
        for key, cell in self.cells.items():
            fixed = self.registry.of(cell.spec).computed or cell.spec.readonly
            fixed = fixed or self._modes.get(key) == "readonly"
            cell.editor.set_read_only(read_only or fixed)

    def set_errors(self, errors: dict[str, str]) -> None:
        """Show the service's messages under their fields; focus the first one."""
        self.clear_errors()
        first: FieldCell | None = None
        for path, message in errors.items():
            key = path.split(".")[0].split("[")[0]
            cell = self.cells.get(key)
            if cell is None or cell.error is None:
                continue
            cell.error.setText(message)
            cell.error.show()
            first = first or cell
        if first is not None:
            self.ensureWidgetVisible(first.container)
            first.editor.setFocus()

    def clear_errors(self) -> None:
        for cell in self.cells.values():
            if cell.error is not None:
                cell.error.hide()

    def error_text(self, key: str) -> str:
        cell = self.cells[key]
        return cell.error.text() if cell.error is not None and cell.error.isVisibleTo(self) else ""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
