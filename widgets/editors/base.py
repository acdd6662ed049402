"""The editor contract: a QWidget that shows and edits one field's canonical value."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from widgets.base import NO_REFERENCES, FieldSpecBase, FieldValueError, ReferenceSource
from widgets.registry import FieldTypeRegistry, default_registry


class FieldEditor(QWidget):
    """Base of all editors.

    Subclasses build their child widgets in ``__init__`` and implement
    :meth:`value` and :meth:`set_value` over the canonical value of their type
    (see ``widgets.base``), emitting ``value_changed`` when the user edits.
    ``set_value`` must not emit ``value_changed``.
    """

    value_changed = Signal()
    #: True when :meth:`value` is the text typed even when it is not valid (text,
    #: phone...): nothing is lost, so the save goes ahead and the record service
    #: names the problem together with those of the other fields. False when an
    #: unreadable text has no value to give (dates, numbers): the form must refuse
    #: to save while :meth:`problem` has a message.
    keeps_typed_text = False
    #: The user is done with the editor (left it, pressed Enter): the form then shows
    #: :meth:`problem` under the field.
    finished = Signal()

    def __init__(
        self,
        spec: FieldSpecBase,
        references: ReferenceSource | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.spec = spec
        self.references = references or NO_REFERENCES
        self._read_only = False
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def problem(self) -> str | None:
        """What is wrong with what the user typed, or ``None``.

        Text that is not a value of the field (``2024-13-01`` in a date, ``-`` in a
        number) or is outside its limits gives a message. While an editor has one,
        :meth:`value` is not what the user typed, so a form shows the message under
        the field and refuses to save. Values put in by :meth:`set_value` are not
        judged here (a stored record older than tightened limits stays as it is).
        """
        return None

    def read_typed(
        self, text: str, read: Callable[[str], Any], typed: bool
    ) -> tuple[Any, str | None]:
        """(value or None, problem or None) of ``text`` read by ``read`` (which raises
        FieldValueError); the field's limits (``self.field_type``) are judged only for
        ``typed`` text."""
        if not text.strip():
            return None, None
        try:
            value = read(text)
        except FieldValueError as error:
            return None, error.message
        if typed:
            try:
                self.field_type.validate(self.spec, value)
            except FieldValueError as error:
                return value, error.message
        return value, None

    def apply_formulas(self, compute: Callable[[Any], Any]) -> None:
        """Show formulas computed inside the value (a subtable's formula columns):
        ``compute`` is the form's formula logic for this field. Most editors have none."""

    def set_read_only(self, read_only: bool) -> None:
        """Show the value but refuse edits (readonly fields, locked records)."""
        self._read_only = read_only
        for child in self.findChildren(QWidget):
            child.setEnabled(not read_only)

    def is_read_only(self) -> bool:
        return self._read_only


def editor_class(spec: FieldSpecBase, registry: FieldTypeRegistry = default_registry) -> type:
    """The editor class named by the field type (``"module:Class"``)."""
    module_name, _, class_name = registry.of(spec).editor.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def create_editor(
    spec: FieldSpecBase,
    references: ReferenceSource | None = None,
    parent: QWidget | None = None,
    registry: FieldTypeRegistry = default_registry,
) -> FieldEditor:
    """A new editor for a field spec, looked up through the registry."""
    return editor_class(spec, registry)(spec, references, parent)
