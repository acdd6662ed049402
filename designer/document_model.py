"""The document's model half: the AppSpec, lookups by key, and the mutators.

Mutators (underscored) are called by undo commands only; each changes the spec in
one place and emits one specific past-tense signal. :class:`DesignerDocument`
(``designer.document``) adds the undo stack, files and the public edit methods.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from PySide6.QtCore import QObject, Signal

from designer.cascade import Target
from resources.messages import tr
from runtime.spec.models import AppSpec, FormSpec
from runtime.spec.problems import Problem
from widgets.base import FieldSpecBase, Option, SpecModel
from widgets.registry import FieldTypeRegistry


class EditError(ValueError):
    """An edit the document refused; ``message`` is one sentence for the builder."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def no_such(kind: str, key: str) -> str:
    """ "there is no form 'x'" for a kind of document item (a translated sentence)."""
    templates = {
        "form": tr("there is no form '{key}'"),
        "view": tr("there is no view '{key}'"),
        "role": tr("there is no role '{key}'"),
        "field": tr("there is no field '{key}'"),
    }
    return (templates.get(kind) or tr("there is no {kind} '{key}'")).format(kind=kind, key=key)


class FieldPath(NamedTuple):
    """A field by key: ``parent`` is the subtable holding it, ``None`` at top level."""

    form: str
    key: str
    parent: str | None = None


class DocumentModel(QObject):
    """The spec with its change signals; the only code that writes it."""

    spec_reset = Signal()
    field_added = Signal(str, str, object, int)  # form, key, parent key | None, index
    field_removed = Signal(str, str, object, int)  # form, key, parent key | None, index
    field_moved = Signal(str, str, object, int)  # form, key, new parent | None, new index
    field_key_changed = Signal(str, str, str)  # form, old key, new key
    property_changed = Signal(str, str, str)  # form, field key, attribute
    option_added = Signal(str, str, int)  # form, field key, index
    option_removed = Signal(str, str, int)  # form, field key, index
    option_moved = Signal(str, str, int, int)  # form, field key, old index, new index
    form_added = Signal(str, int)  # form key, index
    form_removed = Signal(str, int)
    form_renamed = Signal(str, str)  # form key, new title
    form_changed = Signal(str, str)  # form key, attribute
    form_key_changed = Signal(str, str)  # old key, new key
    view_added = Signal(str, int)
    view_removed = Signal(str, int)
    view_changed = Signal(str, str)  # view key, attribute
    role_added = Signal(str, int)
    role_removed = Signal(str, int)
    role_changed = Signal(str, str)  # role key, attribute
    app_property_changed = Signal(str)
    selection_changed = Signal()

    def __init__(self, spec: AppSpec, registry: FieldTypeRegistry, parent: QObject | None) -> None:
        super().__init__(parent)
        self._spec = spec
        self._registry = registry
        self._selection: list[FieldPath] = []
        self._problems: list[Problem] | None = None

    @property
    def spec(self) -> AppSpec:
        """The current AppSpec: read it, never change it (use the edit methods)."""
        return self._spec

    @property
    def registry(self) -> FieldTypeRegistry:
        return self._registry

    def form(self, form_key: str) -> FormSpec:
        form = self._spec.form(form_key)
        if form is None:
            raise EditError(no_such("form", form_key))
        return form

    def field(self, form_key: str, key: str) -> FieldSpecBase:
        """A field or subtable column by key."""
        siblings, _parent, index = self._find(form_key, key)
        return siblings[index]

    def field_path(self, form_key: str, key: str) -> FieldPath:
        return FieldPath(form_key, key, self._find(form_key, key)[1])

    def field_keys(self, form_key: str) -> set[str]:
        """Every key used in a form, subtable columns included (they share one scope)."""
        return {spec.key for spec in self._walk(self.form(form_key))}

    def children(self, spec: FieldSpecBase) -> list[FieldSpecBase] | None:
        """The live list of nested fields of a subtable-like field, else ``None``."""
        return self._registry.of(spec).nested_fields(spec)

    def selection(self) -> list[FieldPath]:
        return list(self._selection)

    def set_selection(self, paths: Iterable[FieldPath | tuple]) -> None:
        selection = [FieldPath(*path) for path in paths]
        if selection != self._selection:
            self._selection = selection
            self.selection_changed.emit()

    def _insert_field(
        self, form_key: str, parent: str | None, index: int, spec: FieldSpecBase
    ) -> None:
        self._container(form_key, parent).insert(index, spec)
        self._changed()
        self.field_added.emit(form_key, spec.key, parent, index)

    def _take_field(self, form_key: str, key: str) -> tuple[str | None, int, FieldSpecBase]:
        siblings, parent, index = self._find(form_key, key)
        spec = siblings.pop(index)
        gone = {key} | {child.key for child in self.children(spec) or []}
        self._changed()
        self.field_removed.emit(form_key, key, parent, index)
        remaining = [p for p in self._selection if not (p.form == form_key and p.key in gone)]
        self.set_selection(remaining)
        return parent, index, spec

    def _move_field(self, form_key: str, key: str, parent: str | None, index: int) -> None:
        siblings, _old_parent, old_index = self._find(form_key, key)
        spec = siblings.pop(old_index)
        self._container(form_key, parent).insert(index, spec)
        self._changed()
        self.field_moved.emit(form_key, key, parent, index)
        self._replace_in_selection(form_key, key, FieldPath(form_key, key, parent))

    def _rename_field_key(self, form_key: str, key: str, new_key: str) -> None:
        spec = self.field(form_key, key)
        spec.key = new_key
        self._changed()
        self.field_key_changed.emit(form_key, key, new_key)
        self._replace_in_selection(form_key, key, self.field_path(form_key, new_key))

    def _rename_form_key(self, form_key: str, new_key: str) -> None:
        self.form(form_key).key = new_key
        self._changed()
        self.form_key_changed.emit(form_key, new_key)
        paths = [p._replace(form=new_key) if p.form == form_key else p for p in self._selection]
        self.set_selection(paths)

    def _get_attribute(self, target: Target, name: str) -> Any:
        return copy.deepcopy(getattr(self._owner(target), name))

    def _set_attribute(self, target: Target, name: str, value: Any) -> None:
        setattr(self._owner(target), name, copy.deepcopy(value))
        self._changed()
        kind, *keys = target
        if kind == "field":
            self.property_changed.emit(keys[0], keys[1], name)
        elif kind == "form":
            self.form_changed.emit(keys[0], name)
            if name == "title":
                self.form_renamed.emit(keys[0], value)
        elif kind == "app":
            self.app_property_changed.emit(name)
        else:
            getattr(self, f"{kind}_changed").emit(keys[0], name)

    def _insert_item(self, kind: str, index: int, item: SpecModel) -> None:
        getattr(self._spec, f"{kind}s").insert(index, item)
        self._changed()
        getattr(self, f"{kind}_added").emit(item.key, index)

    def _take_item(self, kind: str, key: str) -> tuple[int, SpecModel]:
        items = getattr(self._spec, f"{kind}s")
        index = next(i for i, item in enumerate(items) if item.key == key)
        item = items.pop(index)
        self._changed()
        getattr(self, f"{kind}_removed").emit(key, index)
        if kind == "form":
            self.set_selection(p for p in self._selection if p.form != key)
        return index, item

    def _insert_option(self, form_key: str, key: str, index: int, option: Option) -> None:
        self._options(form_key, key).insert(index, option)
        self._changed()
        self.option_added.emit(form_key, key, index)
        self.property_changed.emit(form_key, key, "options")

    def _take_option(self, form_key: str, key: str, index: int) -> Option:
        option = self._options(form_key, key).pop(index)
        self._changed()
        self.option_removed.emit(form_key, key, index)
        self.property_changed.emit(form_key, key, "options")
        return option

    def _move_option(self, form_key: str, key: str, old: int, new: int) -> None:
        options = self._options(form_key, key)
        options.insert(new, options.pop(old))
        self._changed()
        self.option_moved.emit(form_key, key, old, new)
        self.property_changed.emit(form_key, key, "options")

    def _changed(self) -> None:
        self._problems = None

    def _owner(self, target: Target) -> SpecModel:
        kind, *keys = target
        if kind == "app":
            return self._spec
        if kind == "field":
            return self.field(*keys)
        if kind == "form":
            return self.form(keys[0])
        return self._item(kind, keys[0])

    def _item(self, kind: str, key: str) -> SpecModel:
        item = getattr(self._spec, kind)(key)
        if item is None:
            raise EditError(no_such(kind, key))
        return item

    def _walk(self, form: FormSpec) -> Iterator[FieldSpecBase]:
        for spec in form.fields:
            yield spec
            yield from self.children(spec) or []

    def _find(self, form_key: str, key: str) -> tuple[list[FieldSpecBase], str | None, int]:
        """The list holding a field, its parent key and its index there."""
        fields = self.form(form_key).fields
        for index, spec in enumerate(fields):
            if spec.key == key:
                return fields, None, index
            children = self.children(spec) or []
            for child_index, child in enumerate(children):
                if child.key == key:
                    return children, spec.key, child_index
        raise EditError(tr("form '{form}' has no field '{field}'").format(form=form_key, field=key))

    def _container(self, form_key: str, parent: str | None) -> list[FieldSpecBase]:
        if parent is None:
            return self.form(form_key).fields
        children = self.children(self.field(form_key, parent))
        if children is None:
            raise EditError(tr("'{key}' can't hold fields").format(key=parent))
        return children

    def _options(self, form_key: str, key: str) -> list[Option]:
        spec = self.field(form_key, key)
        if "options" not in type(spec).model_fields:
            raise EditError(tr("'{key}' has no options").format(key=key))
        return spec.options

    def _option_index(self, form_key: str, key: str, value: str) -> int:
        options = self._options(form_key, key)
        for index, option in enumerate(options):
            if option.value == value:
                return index
        raise EditError(tr("'{key}' has no option '{value}'").format(key=key, value=value))

    def _replace_in_selection(self, form_key: str, key: str, path: FieldPath) -> None:
        self.set_selection(
            path if (p.form, p.key) == (form_key, key) else p for p in self._selection
        )

    def _current_keys(self) -> set[tuple[str, str | None]]:
        keys: set[tuple[str, str | None]] = set()
        for form in self._spec.forms:
            keys.add((form.key, None))
            keys.update((form.key, spec.key) for spec in self._walk(form))
        return keys
