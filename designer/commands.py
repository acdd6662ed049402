"""Undo commands for fields and attributes: each redo/undo calls one document mutator.

Commands address what they change by key (form key, field key, view key…), never
by Python object, so they stay valid after other commands replace objects. They
keep their own deep copies of the specs they insert. Forms, views, roles, options
and the cascading edits are in ``designer.commands_app``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from designer.cascade import Target

if TYPE_CHECKING:
    from designer.document import DesignerDocument
    from widgets.base import FieldSpecBase

#: Command ids for QUndoCommand.id(): commands with one id may merge.
SET_PROPERTY_ID = 1001


class DocumentCommand(QUndoCommand):
    """A command on one document."""

    def __init__(self, document: DesignerDocument, text: str) -> None:
        super().__init__(text)
        self.document = document


class MacroCommand(DocumentCommand):
    """Steps done in order and undone in reverse: one undo step for a cascade.

    The steps are kept in a Python list rather than as Qt child commands: PySide
    frees Python-subclassed children twice when the stack deletes the parent.
    """

    def __init__(self, document: DesignerDocument, text: str, steps: list[QUndoCommand]) -> None:
        super().__init__(document, text)
        self.steps = steps

    def redo(self) -> None:
        for step in self.steps:
            step.redo()

    def undo(self) -> None:
        for step in reversed(self.steps):
            step.undo()


class SetPropertyCommand(DocumentCommand):
    """Set one attribute of the app, a form, a field, a view or a role.

    Consecutive edits of the same attribute merge (typing "A", "Ab", "Abc" is one
    step), but never across a save point: a command remembers the document's save
    generation and merges only with one of the same generation. (QUndoStack also
    refuses to merge into the clean state.)
    """

    def __init__(
        self, document: DesignerDocument, target: Target, name: str, value: Any, text: str = ""
    ) -> None:
        super().__init__(document, text or f"Set {name} of {'.'.join(target[1:]) or 'the app'}")
        self.target = target
        self.name = name
        self.old = document._get_attribute(target, name)
        self.new = copy.deepcopy(value)
        self.generation = document._save_generation

    def redo(self) -> None:
        self.document._set_attribute(self.target, self.name, self.new)

    def undo(self) -> None:
        self.document._set_attribute(self.target, self.name, self.old)

    def id(self) -> int:
        return SET_PROPERTY_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetPropertyCommand):
            return False
        same = (other.target, other.name, other.generation) == (
            self.target,
            self.name,
            self.generation,
        )
        if not same:
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)
        return True


class InsertFieldCommand(DocumentCommand):
    """Insert a field (or a copy) into a form or a subtable."""

    def __init__(
        self,
        document: DesignerDocument,
        form_key: str,
        parent: str | None,
        index: int,
        spec: FieldSpecBase,
    ) -> None:
        super().__init__(document, f"Add {spec.type} “{spec.label}”")
        self.form_key = form_key
        self.parent = parent
        self.index = index
        self.spec = spec.model_copy(deep=True)

    def redo(self) -> None:
        self.document._insert_field(
            self.form_key, self.parent, self.index, self.spec.model_copy(deep=True)
        )

    def undo(self) -> None:
        self.document._take_field(self.form_key, self.spec.key)


class TakeFieldCommand(DocumentCommand):
    """Remove a field; undo puts it back where it was."""

    def __init__(self, document: DesignerDocument, form_key: str, key: str) -> None:
        super().__init__(document, f"Delete field {key}")
        self.form_key = form_key
        self.key = key
        self.place: tuple[str | None, int, FieldSpecBase] | None = None

    def redo(self) -> None:
        self.place = self.document._take_field(self.form_key, self.key)

    def undo(self) -> None:
        parent, index, spec = self.place
        self.document._insert_field(self.form_key, parent, index, spec)


class MoveFieldCommand(DocumentCommand):
    """Move a field within a form, into or out of a subtable."""

    def __init__(
        self, document: DesignerDocument, form_key: str, key: str, parent: str | None, index: int
    ) -> None:
        super().__init__(document, f"Move field {key}")
        self.form_key = form_key
        self.key = key
        self.destination = (parent, index)
        _siblings, old_parent, old_index = document._find(form_key, key)
        self.origin = (old_parent, old_index)

    def redo(self) -> None:
        self.document._move_field(self.form_key, self.key, *self.destination)

    def undo(self) -> None:
        self.document._move_field(self.form_key, self.key, *self.origin)


class RenameFieldKeyCommand(DocumentCommand):
    """Change one field's key (references are fixed by sibling steps)."""

    def __init__(self, document: DesignerDocument, form_key: str, key: str, new_key: str) -> None:
        super().__init__(document, f"Rename key {key} to {new_key}")
        self.form_key = form_key
        self.key = key
        self.new_key = new_key

    def redo(self) -> None:
        self.document._rename_field_key(self.form_key, self.key, self.new_key)

    def undo(self) -> None:
        self.document._rename_field_key(self.form_key, self.new_key, self.key)
