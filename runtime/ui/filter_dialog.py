"""The filter builder: rows of field / operator / value, combined with AND or OR.

Each value is typed in the field's own editor (a date picker for dates, the
option list for selects), so a filter never needs a syntax. Operators come from
``OPERATORS_BY_KIND`` by how expressions see the field.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.services.query import (
    OPERATOR_LABELS,
    OPERATORS_BY_KIND,
    AllOf,
    AnyOf,
    Condition,
    Filter,
)
from runtime.spec.models import FormSpec
from runtime.ui.i18n import tr
from widgets.base import FieldSpecBase, FieldValueError, ReferenceSource
from widgets.editors.base import create_editor
from widgets.registry import FieldTypeRegistry, default_registry

NO_VALUE = frozenset({"is_empty", "not_empty"})
#: Operators whose value is typed as text (a piece of it, or a comma-separated list).
TYPED_AS_TEXT = frozenset({"in"})


def filterable_fields(form: FormSpec, registry: FieldTypeRegistry) -> list[FieldSpecBase]:
    """Fields stored in a column whose values can be typed (not files or subtables)."""
    return [
        spec
        for spec in form.fields
        if registry.of(spec).has_value
        and registry.of(spec).excel_roundtrip
        and registry.of(spec).sql_type(spec) is not None
    ]


class ConditionRow(QWidget):
    """One condition: pick a field, then an operator, then type the value."""

    def __init__(
        self,
        fields: list[FieldSpecBase],
        references: ReferenceSource | None,
        registry: FieldTypeRegistry,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.fields = fields
        self.references = references
        self.registry = registry
        self.values: list[Any] = []  # the value widgets (editors or line edits)
        self.field_box = QComboBox(self)
        for spec in fields:
            self.field_box.addItem(spec.label, spec.key)
        self.op_box = QComboBox(self)
        self.value_area = QHBoxLayout()
        self.remove_button = QToolButton(self, icon=icons.icon("mdi6.close"), toolTip=tr("Remove"))
        self.remove_button.clicked.connect(self.deleteLater)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field_box, 2)
        layout.addWidget(self.op_box, 1)
        layout.addLayout(self.value_area, 3)
        layout.addWidget(self.remove_button)
        self.field_box.currentIndexChanged.connect(self._field_changed)
        self.op_box.currentIndexChanged.connect(self._rebuild_value)
        self._field_changed()

    @property
    def spec(self) -> FieldSpecBase:
        return self.fields[self.field_box.currentIndex()]

    @property
    def op(self) -> str:
        return self.op_box.currentData()

    def set_condition(self, condition: Condition, value: Any = None) -> None:
        """Show a condition; ``value`` overrides its value (a list of list elements)."""
        self.field_box.setCurrentIndex(self.field_box.findData(condition.field))
        self.op_box.setCurrentIndex(self.op_box.findData(condition.op))
        self._show_value(condition.value if value is None else value)

    def _field_changed(self) -> None:
        kind = self.registry.of(self.spec).expression_type(self.spec)
        self.op_box.blockSignals(True)
        self.op_box.clear()
        for op in OPERATORS_BY_KIND.get(kind, OPERATORS_BY_KIND["any"]):
            self.op_box.addItem(tr(OPERATOR_LABELS[op]), op)
        self.op_box.blockSignals(False)
        self._rebuild_value()

    def _rebuild_value(self) -> None:
        for widget in self.values:
            widget.deleteLater()
        count = 0 if self.op in NO_VALUE else 2 if self.op == "between" else 1
        self.values = [self._value_widget() for _ in range(count)]
        for widget in self.values:
            self.value_area.addWidget(widget)

    def _value_widget(self) -> QWidget:
        field_type = self.registry.of(self.spec)
        if self.op in TYPED_AS_TEXT or field_type.computed or field_type.always_unique:
            hint = tr("values, separated by commas") if self.op == "in" else tr("value")
            return QLineEdit(self, placeholderText=hint)
        return create_editor(self.spec, self.references, self, self.registry)

    def _show_value(self, value: Any) -> None:
        parts = list(value) if self.op == "between" and value is not None else [value]
        for widget, part in zip(self.values, parts, strict=False):
            if isinstance(widget, QLineEdit):
                items = part if isinstance(part, list | tuple) else [part]
                texts = [self.registry.of(self.spec).display(self.spec, item) for item in items]
                widget.setText(", ".join(texts))
            else:
                widget.set_value(part)

    # -- the condition --------------------------------------------------------
    def condition(self) -> Filter | None:
        """The condition, or None while the value is missing or does not parse."""
        if self.op in NO_VALUE:
            return Condition(self.spec.key, self.op)
        try:
            values = [self._read(widget) for widget in self.values]
        except FieldValueError:
            return None
        if any(value in (None, "", []) for value in values):
            return None
        if self.op == "between":
            return Condition(self.spec.key, "between", tuple(values))
        return self._one(values[0])

    def _one(self, value: Any) -> Filter:
        """A list value with contains/not contains means each element (any/all of them)."""
        if isinstance(value, list) and self.op in ("contains", "not_contains"):
            parts = tuple(Condition(self.spec.key, self.op, item) for item in value)
            if len(parts) == 1:
                return parts[0]
            return AnyOf(parts) if self.op == "contains" else AllOf(parts)
        return Condition(self.spec.key, self.op, value)

    def _read(self, widget: QWidget) -> Any:
        if not isinstance(widget, QLineEdit):
            return widget.value()
        field_type = self.registry.of(self.spec)
        if self.op != "in":
            return field_type.parse(self.spec, widget.text())
        pieces = [piece for piece in widget.text().replace("，", ",").split(",") if piece.strip()]
        return [field_type.parse(self.spec, piece) for piece in pieces]


class FilterDialog(QDialog):
    """Edit a list's filter; :meth:`filter` is the result after ``exec()``."""

    def __init__(
        self,
        form: FormSpec,
        current: Filter | None = None,
        references: ReferenceSource | None = None,
        registry: FieldTypeRegistry = default_registry,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, windowTitle=tr("Filter — {form}").format(form=form.title))
        self.fields = filterable_fields(form, registry)
        self.references = references
        self.registry = registry
        self.match_all = QRadioButton(tr("all conditions (AND)"), self, checked=True)
        self.match_any = QRadioButton(tr("any condition (OR)"), self)
        self.rows_layout = QVBoxLayout()
        self.add_button = QPushButton(icons.icon("mdi6.plus"), tr("Add condition"), self)
        self.add_button.clicked.connect(lambda: self.add_condition())
        self.setMinimumWidth(720)
        self._build()
        self._show(current)

    def _build(self) -> None:
        match = QHBoxLayout()
        match.addWidget(QLabel(tr("Show records matching"), self))
        match.addWidget(self.match_all)
        match.addWidget(self.match_any)
        match.addStretch(1)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        clear = buttons.addButton(tr("Clear all"), QDialogButtonBox.ButtonRole.ResetRole)
        clear.clicked.connect(self.clear)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(match)
        layout.addLayout(self.rows_layout)
        add = QHBoxLayout()
        add.addWidget(self.add_button)
        add.addStretch(1)
        layout.addLayout(add)
        layout.addStretch(1)
        layout.addWidget(buttons)

    def add_condition(self, condition: Condition | None = None, value: Any = None) -> ConditionRow:
        row = ConditionRow(self.fields, self.references, self.registry, self)
        if condition is not None:
            row.set_condition(condition, value)
        self.rows_layout.addWidget(row)
        return row

    def rows(self) -> list[ConditionRow]:
        found = (self.rows_layout.itemAt(i).widget() for i in range(self.rows_layout.count()))
        return [row for row in found if isinstance(row, ConditionRow)]

    def clear(self) -> None:
        for row in self.rows():
            self.rows_layout.removeWidget(row)
            row.deleteLater()

    def filter(self) -> Filter | None:
        """The combined filter of the complete rows (None: no filter)."""
        parts = tuple(part for row in self.rows() if (part := row.condition()) is not None)
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return AllOf(parts) if self.match_all.isChecked() else AnyOf(parts)

    def _show(self, current: Filter | None) -> None:
        if isinstance(current, AnyOf) and all(isinstance(p, Condition) for p in current.parts):
            self.match_any.setChecked(True)
        parts = current.parts if isinstance(current, AllOf | AnyOf) else (current,)
        for part in parts:
            if isinstance(part, Condition):
                self.add_condition(part)
            elif isinstance(part, AnyOf | AllOf) and _same_field(part):
                first = part.parts[0]
                self.add_condition(first, [c.value for c in part.parts])
        if not self.rows():
            self.add_condition()


def _same_field(group: AllOf | AnyOf) -> bool:
    """A group made by one list row (contains each of several elements)."""
    return all(isinstance(p, Condition) for p in group.parts) and (
        len({(p.field, p.op) for p in group.parts}) == 1
    )
