"""Undo commands for forms, views, roles and options, and the cascading edits.

A cascade (delete a field others name, rename a key) is one :class:`MacroCommand`:
first the steps that fix every reference, then the step that deletes or renames,
so one undo restores all of it. The command text says what was cleaned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from designer.cascade import (
    Usage,
    cleaned_value,
    field_usages,
    form_renamed_value,
    form_usages,
    renamed_value,
)
from designer.commands import (
    DocumentCommand,
    MacroCommand,
    RenameFieldKeyCommand,
    SetPropertyCommand,
    TakeFieldCommand,
)

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoCommand

    from designer.document import DesignerDocument
    from widgets.base import Option, SpecModel


class InsertItemCommand(DocumentCommand):
    """Insert a form, view or role (``kind``) at an index of its list."""

    def __init__(self, document: DesignerDocument, kind: str, index: int, item: SpecModel) -> None:
        super().__init__(document, f"Add {kind} “{item.title}”")
        self.kind = kind
        self.index = index
        self.item = item.model_copy(deep=True)

    def redo(self) -> None:
        self.document._insert_item(self.kind, self.index, self.item.model_copy(deep=True))

    def undo(self) -> None:
        self.document._take_item(self.kind, self.item.key)


class TakeItemCommand(DocumentCommand):
    """Remove a form, view or role; undo puts it back where it was."""

    def __init__(self, document: DesignerDocument, kind: str, key: str) -> None:
        super().__init__(document, f"Delete {kind} {key}")
        self.kind = kind
        self.key = key
        self.place: tuple[int, SpecModel] | None = None

    def redo(self) -> None:
        self.place = self.document._take_item(self.kind, self.key)

    def undo(self) -> None:
        index, item = self.place
        self.document._insert_item(self.kind, index, item)


class RenameFormKeyCommand(DocumentCommand):
    def __init__(self, document: DesignerDocument, form_key: str, new_key: str) -> None:
        super().__init__(document, f"Rename form key {form_key} to {new_key}")
        self.form_key = form_key
        self.new_key = new_key

    def redo(self) -> None:
        self.document._rename_form_key(self.form_key, self.new_key)

    def undo(self) -> None:
        self.document._rename_form_key(self.new_key, self.form_key)


class InsertOptionCommand(DocumentCommand):
    def __init__(
        self, document: DesignerDocument, form_key: str, key: str, index: int, option: Option
    ) -> None:
        super().__init__(document, f"Add option “{option.label}”")
        self.form_key = form_key
        self.key = key
        self.index = index
        self.option = option.model_copy()

    def redo(self) -> None:
        self.document._insert_option(self.form_key, self.key, self.index, self.option.model_copy())

    def undo(self) -> None:
        self.document._take_option(self.form_key, self.key, self.index)


class TakeOptionCommand(DocumentCommand):
    def __init__(self, document: DesignerDocument, form_key: str, key: str, index: int) -> None:
        super().__init__(document, "Delete option")
        self.form_key = form_key
        self.key = key
        self.index = index
        self.option: Option | None = None

    def redo(self) -> None:
        self.option = self.document._take_option(self.form_key, self.key, self.index)

    def undo(self) -> None:
        self.document._insert_option(self.form_key, self.key, self.index, self.option)


class MoveOptionCommand(DocumentCommand):
    def __init__(
        self, document: DesignerDocument, form_key: str, key: str, old: int, new: int
    ) -> None:
        super().__init__(document, "Move option")
        self.form_key = form_key
        self.key = key
        self.old = old
        self.new = new

    def redo(self) -> None:
        self.document._move_option(self.form_key, self.key, self.old, self.new)

    def undo(self) -> None:
        self.document._move_option(self.form_key, self.key, self.new, self.old)


# -- cascades ------------------------------------------------------------------


def _described(text: str, verb: str, usages: list[Usage]) -> str:
    if not usages:
        return text
    return f"{text} ({verb} {'; '.join(dict.fromkeys(u.description for u in usages))})"


def _by_attribute(usages: list[Usage]) -> dict[tuple, Usage]:
    """One usage per (owner, attribute): each becomes one property step."""
    return {(usage.target, usage.attribute): usage for usage in reversed(usages)}


def remove_field_command(document: DesignerDocument, form_key: str, key: str) -> MacroCommand:
    """Clean every reference to the field (and its columns), then delete it."""
    spec = document.field(form_key, key)
    gone = [key, *(child.key for child in document.children(spec) or [])]
    usages = document.references_to(form_key, key)
    steps: list[QUndoCommand] = []
    for (target, attribute), usage in _by_attribute(usages).items():
        probe = document._owner(target).model_copy(deep=True)
        for removed in gone:
            setattr(probe, attribute, cleaned_value(probe, usage, form_key, removed))
        steps.append(SetPropertyCommand(document, target, attribute, getattr(probe, attribute)))
    steps.append(TakeFieldCommand(document, form_key, key))
    text = _described(f"Delete field “{spec.label}”", "cleaned", usages)
    return MacroCommand(document, text, steps)


def rename_field_key_command(
    document: DesignerDocument, form_key: str, key: str, new_key: str
) -> MacroCommand:
    """Rewrite every reference to the field, then change its key."""
    parent = document.field_path(form_key, key).parent
    usages = field_usages(document.spec, document.registry, form_key, key, parent, frozenset({key}))
    steps: list[QUndoCommand] = []
    for (target, attribute), usage in _by_attribute(usages).items():
        owner = document._owner(target)
        value = renamed_value(owner, usage, form_key, key, new_key, parent)
        steps.append(SetPropertyCommand(document, target, attribute, value))
    steps.append(RenameFieldKeyCommand(document, form_key, key, new_key))
    text = _described(f"Rename key {key} to {new_key}", "updated", usages)
    return MacroCommand(document, text, steps)


def remove_form_command(document: DesignerDocument, form_key: str) -> MacroCommand:
    """Delete the form's views and grants, clear lookups to it, then delete it."""
    usages = document.references_to_form(form_key)
    steps: list[QUndoCommand] = []
    for (target, attribute), usage in _by_attribute(usages).items():
        if usage.kind == "view":
            steps.append(TakeItemCommand(document, "view", target[1]))
            continue
        value = cleaned_value(document._owner(target), usage, form_key, "")
        steps.append(SetPropertyCommand(document, target, attribute, value))
    steps.append(TakeItemCommand(document, "form", form_key))
    title = document.form(form_key).title
    return MacroCommand(document, _described(f"Delete form “{title}”", "cleaned", usages), steps)


def rename_form_key_command(
    document: DesignerDocument, form_key: str, new_key: str
) -> MacroCommand:
    """Point views, grants and lookups at the new key, then change it."""
    usages = form_usages(document.spec, document.registry, form_key, include_own=True)
    usages = [usage for usage in usages if usage.kind != "dependent"]
    steps: list[QUndoCommand] = []
    for (target, attribute), usage in _by_attribute(usages).items():
        value = form_renamed_value(document._owner(target), usage, form_key, new_key)
        steps.append(SetPropertyCommand(document, target, attribute, value))
    steps.append(RenameFormKeyCommand(document, form_key, new_key))
    text = _described(f"Rename form key {form_key} to {new_key}", "updated", usages)
    return MacroCommand(document, text, steps)


def remove_option_command(
    document: DesignerDocument, form_key: str, key: str, index: int
) -> MacroCommand:
    """Delete an option; a default that chose it is cleared in the same step."""
    spec = document.field(form_key, key)
    value = spec.options[index].value
    steps: list[QUndoCommand] = []
    default = spec.default
    if default == value or (isinstance(default, list) and value in default):
        kept = [item for item in default if item != value] if isinstance(default, list) else []
        target = ("field", form_key, key)
        steps.append(SetPropertyCommand(document, target, "default", kept or None))
    steps.append(TakeOptionCommand(document, form_key, key, index))
    label = spec.options[index].label
    text = f"Delete option “{label}”" + (" (cleared the default)" if len(steps) > 1 else "")
    return MacroCommand(document, text, steps)
