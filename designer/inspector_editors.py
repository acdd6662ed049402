"""Property editors of the inspector, chosen by a table from the attribute's type.

Like magicgui's TypeMap: :data:`PROPERTY_EDITORS` is a list of (matcher, editor
class) and the first matching row wins. Matchers look at the pydantic field info
(annotation, ``ge``/``le``, ``max_length``) and at what the field type says about
the attribute (an expression, a reference to a form or a field). Editors emit
``edited(value)``; the inspector turns that into one document call.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from annotated_types import Ge, Le, MaxLen
from pydantic.fields import FieldInfo
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QSpinBox, QWidget

from designer.document import DesignerDocument
from resources.i18n import tr


@dataclass
class PropertyContext:
    """Everything an editor needs to know about the attribute it edits."""

    document: DesignerDocument
    target: tuple[str, ...]
    name: str
    info: FieldInfo
    value: Any
    expression_result: str | None = None  # set when the attribute is an expression
    is_expression: bool = False
    reference: str | None = None  # "form" or "field" when it names one
    reference_form: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> Any:
        """The annotation without ``| None``."""
        annotation = self.info.annotation
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            rest = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            return rest[0] if len(rest) == 1 else annotation
        return annotation

    @property
    def optional(self) -> bool:
        return type(None) in typing.get_args(self.info.annotation)

    def bound(self, kind: type) -> Any:
        """The ``ge``/``le``/``max_length`` constraint of the attribute, if any."""
        name = {Ge: "ge", Le: "le", MaxLen: "max_length"}[kind]
        return next((getattr(m, name) for m in self.info.metadata if isinstance(m, kind)), None)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class LineProperty(QLineEdit):
    """Any scalar as text; empty is ``None`` when the attribute is optional."""

    edited = Signal(object)

    def __init__(self, context: PropertyContext) -> None:
        super().__init__()
        self.optional = context.optional or context.info.annotation is Any
        self.set_value(context.value)
        self.textEdited.connect(self._emit)

    def _emit(self, text: str) -> None:
        self.edited.emit(None if self.optional and not text.strip() else text)

    def set_value(self, value: Any) -> None:
        if self.text() != _text(value):
            self.setText(_text(value))


class MultiLineProperty(QPlainTextEdit):
    """Long text (a note's text, descriptions)."""

    edited = Signal(object)

    def __init__(self, context: PropertyContext) -> None:
        super().__init__()
        self.setFixedHeight(90)
        self.set_value(context.value)
        self.textChanged.connect(lambda: self.edited.emit(self.toPlainText()))

    def set_value(self, value: Any) -> None:
        if self.toPlainText() != _text(value):
            self.blockSignals(True)
            self.setPlainText(_text(value))
            self.blockSignals(False)


class BoolProperty(QCheckBox):
    edited = Signal(object)

    def __init__(self, context: PropertyContext) -> None:
        super().__init__()
        self.set_value(context.value)
        self.clicked.connect(lambda checked: self.edited.emit(bool(checked)))

    def set_value(self, value: Any) -> None:
        self.setChecked(bool(value))


class SpinProperty(QSpinBox):
    """An integer within its ``ge``/``le``; for an optional one the lowest is "none"."""

    edited = Signal(object)

    def __init__(self, context: PropertyContext) -> None:
        super().__init__()
        low = context.bound(Ge)
        high = context.bound(Le)
        self.none_value = (low if low is not None else 0) - 1 if context.optional else None
        self.setRange(
            self.none_value if self.none_value is not None else low or 0, high or 1_000_000
        )
        if self.none_value is not None:
            self.setSpecialValueText(tr("(none)"))
        self.set_value(context.value)
        self.valueChanged.connect(self._emit)

    def _emit(self, value: int) -> None:
        self.edited.emit(None if value == self.none_value else value)

    def set_value(self, value: Any) -> None:
        shown = self.none_value if value is None else int(value)
        if self.value() != shown:
            self.blockSignals(True)
            self.setValue(shown)
            self.blockSignals(False)


class ChoiceProperty(QComboBox):
    """One of a ``Literal``'s values."""

    edited = Signal(object)

    def __init__(self, context: PropertyContext) -> None:
        super().__init__()
        for value in typing.get_args(context.base):
            self.addItem(tr(str(value)), value)
        self.set_value(context.value)
        self.activated.connect(lambda index: self.edited.emit(self.itemData(index)))

    def set_value(self, value: Any) -> None:
        self.setCurrentIndex(max(0, self.findData(value)))


class ListProperty(QLineEdit):
    """A list of words typed comma-separated (file extensions)."""

    edited = Signal(object)

    def __init__(self, context: PropertyContext) -> None:
        super().__init__()
        self.setPlaceholderText(tr("comma-separated, e.g. pdf, docx"))
        self.set_value(context.value)
        self.textEdited.connect(
            lambda text: self.edited.emit([p.strip() for p in text.split(",") if p.strip()])
        )

    def set_value(self, value: Any) -> None:
        text = ", ".join(value or [])
        if [p.strip() for p in self.text().split(",") if p.strip()] != list(value or []):
            self.setText(text)


class ReferenceProperty(QComboBox):
    """A form of the app, or a field of the referenced form (lookups)."""

    edited = Signal(object)

    def __init__(self, context: PropertyContext) -> None:
        super().__init__()
        self.addItem(tr("(choose)"), "")
        spec = context.document.spec
        if context.reference == "form":
            for form in spec.forms:
                self.addItem(f"{form.title} ({form.key})", form.key)
        else:
            form = spec.form(context.reference_form or "")
            registry = context.document.registry
            for item in form.fields if form else []:
                if registry.of(item).has_value:
                    self.addItem(f"{item.label} ({item.key})", item.key)
        self.set_value(context.value)
        self.activated.connect(lambda index: self.edited.emit(self.itemData(index)))

    def set_value(self, value: Any) -> None:
        index = self.findData(value or "")
        if index < 0:
            self.addItem(str(value), value)
            index = self.count() - 1
        self.setCurrentIndex(index)


def _is_literal(context: PropertyContext) -> bool:
    return typing.get_origin(context.base) is Literal


def _is_long_text(context: PropertyContext) -> bool:
    limit = context.bound(MaxLen)
    return context.base is str and limit is not None and limit >= 1000


def _is_bounded_int(context: PropertyContext) -> bool:
    return context.base is int and context.bound(Le) is not None


def _lazy(module: str, name: str) -> Callable[[PropertyContext], QWidget]:
    def build(context: PropertyContext) -> QWidget:
        import importlib

        return getattr(importlib.import_module(module), name)(context)

    return build


Matcher = Callable[[PropertyContext], bool]
PROPERTY_EDITORS: list[tuple[Matcher, Callable[[PropertyContext], QWidget]]] = [
    (lambda c: c.is_expression, _lazy("designer.inspector_widgets", "ExpressionProperty")),
    (lambda c: c.reference is not None, ReferenceProperty),
    (lambda c: c.name == "options", _lazy("designer.inspector_widgets", "OptionsProperty")),
    (
        lambda c: c.name == "pattern" and c.optional and c.base is str,
        _lazy("designer.inspector_widgets", "RegexProperty"),
    ),
    (lambda c: c.base is bool, BoolProperty),
    (_is_literal, ChoiceProperty),
    (_is_bounded_int, SpinProperty),
    (lambda c: c.base == list[str], ListProperty),
    (_is_long_text, MultiLineProperty),
    (lambda c: c.base in (str, int, Decimal) or c.info.annotation is Any, LineProperty),
]


def editor_for(context: PropertyContext) -> QWidget | None:
    """The first editor whose matcher accepts the attribute; ``None`` if none does."""
    for matches, build in PROPERTY_EDITORS:
        if matches(context):
            return build(context)
    return None
