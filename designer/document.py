"""The designer's document: the AppSpec being built, its undo stack, selection and file.

The document is the only writer of the spec. Its public edit methods validate and
push one command each (``designer.commands``); commands call the document's
underscored mutators, which change the spec and emit one specific past-tense
signal. Views (palette, canvas, inspector, outline) read ``spec`` and listen.
QtCore and QtGui's undo stack only: no widgets here.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from designer import commands as cmd
from designer import commands_app as app_cmd
from designer.cascade import Target, Usage, field_usages, form_usages, rename_in_expression
from designer.document_model import DocumentModel, EditError, FieldPath
from designer.keys import is_free, key_from_label
from resources.messages import tr
from runtime.package import PackageContents, read_package, write_package
from runtime.spec.formula_inputs import formula_grant_warnings
from runtime.spec.load import spec_problems
from runtime.spec.models import AppSpec, FormSpec, Grant, RoleSpec, SortKey, ViewSpec
from runtime.spec.problems import Problem, SpecError
from runtime.spec.reserved import is_reserved, reserved_problem
from runtime.spec.upgrade import upgrade_document
from widgets.base import KEY_RE, FieldSpecBase, Option, SpecModel, flatten_errors
from widgets.registry import FieldTypeRegistry, default_registry

#: Attributes changed by their own methods, never by ``set_*_property``.
#: Attributes with their own edit method (what to do instead).
_OWN_METHODS = frozenset(
    {"key", "type", "fields", "forms", "views", "roles", "grants", "format", "spec_version"}
    | {"version", "published"}
)


def _own_method(name: str) -> str:
    """Why ``name`` can't be set as a property, and what to do instead."""
    advice = {
        "key": tr("rename the key instead"),
        "type": tr("a field's type can't change; add a new field"),
        "fields": tr("add, move or remove fields instead"),
        "forms": tr("add or remove forms instead"),
        "views": tr("add or remove views instead"),
        "roles": tr("add or remove roles instead"),
        "grants": tr("change the role's access with set_grant"),
        "format": tr("the file format is fixed"),
        "spec_version": tr("the file format is fixed"),
        "version": tr("publish to raise the version"),
        "published": tr("publish the app instead"),
    }[name]
    return tr("'{name}' can't be set here: {advice}").format(name=name, advice=advice)


__all__ = ["DesignerDocument", "EditError", "FieldPath", "build_large_form"]


class DesignerDocument(DocumentModel):
    """The app being designed. See the module docstring for who may change what."""

    dirty_changed = Signal(bool)
    problems_changed = Signal()
    path_changed = Signal()

    def __init__(
        self,
        spec: AppSpec,
        registry: FieldTypeRegistry = default_registry,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(spec, registry, parent)
        self._stack = QUndoStack(self)
        self._path: Path | None = None
        self._assets: dict[str, bytes] = {}
        self._save_generation = 0
        self._published_keys = self._current_keys() if spec.published else set()
        self._stack.cleanChanged.connect(self._on_clean_changed)
        self._stack.indexChanged.connect(self._on_index_changed)

    def _on_clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean)

    def _on_index_changed(self, _index: int) -> None:
        self.problems_changed.emit()

    # -- creating and files --------------------------------------------------
    @classmethod
    def new(cls, registry: FieldTypeRegistry = default_registry) -> DesignerDocument:
        """A blank app with one empty form."""
        form = FormSpec(key="form_1", title="Form 1")
        return cls(AppSpec(id="new_app", title="New app", forms=[form]), registry)

    @classmethod
    def from_spec(
        cls, spec: AppSpec, registry: FieldTypeRegistry = default_registry
    ) -> DesignerDocument:
        return cls(spec.model_copy(deep=True), registry)

    @classmethod
    def open(
        cls, path: str | Path, registry: FieldTypeRegistry = default_registry
    ) -> DesignerDocument:
        """Open a package folder or ``.fwapp``. Cross-reference problems do not stop it
        (the builder repairs them); PackageError or SpecError (plain messages) do."""
        spec, assets = _read(path, registry)
        result = cls(spec, registry)
        result._assets = assets
        result._path = Path(path)
        return result

    def revert(self) -> None:
        """Drop unsaved edits and the history: reload the file, emit ``spec_reset``."""
        if self._path is None:
            raise EditError(tr("the app was never saved"))
        self._spec, self._assets = _read(self._path, self._registry)
        self._published_keys = self._current_keys() if self._spec.published else set()
        self._selection = []
        self._changed()
        self._stack.clear()
        self.spec_reset.emit()
        self.selection_changed.emit()

    @property
    def undo_stack(self) -> QUndoStack:
        """For undo/redo actions and a history view; push edits through the methods."""
        return self._stack

    @property
    def path(self) -> Path | None:
        return self._path

    def set_path(self, path: str | Path | None) -> None:
        """Where Save writes: a restored recovery copy keeps its original file."""
        new = Path(path) if path is not None else None
        if new != self._path:
            self._path = new
            self.path_changed.emit()

    def is_dirty(self) -> bool:
        return not self._stack.isClean()

    def window_title(self) -> str:
        """``"<app title> (<file>)* — Formwright Designer"``, ``*`` while unsaved."""
        name = self._path.name if self._path else "untitled"
        star = "*" if self.is_dirty() else ""
        return f"{self._spec.title} ({name}){star} — Formwright Designer"

    def save(self, path: str | Path | None = None) -> Path:
        """Write the package atomically (``.fwapp`` by suffix, else a folder); clean."""
        target = Path(path) if path is not None else self._path
        if target is None:
            raise EditError(tr("choose where to save the app"))
        self._write(target, self._spec.to_json_dict())
        self.mark_saved()
        if target != self._path:
            self._path = target
            self.path_changed.emit()
        return target

    def mark_saved(self) -> None:
        """A save point: the stack is clean and the next edit starts a new undo step."""
        self._save_generation += 1
        self._stack.setClean()

    def publish(self, path: str | Path | None = None) -> Path:
        """Raise the version, mark published, freeze the keys, save.

        Not undoable: published keys name columns in workspaces, so the history
        before publishing is dropped rather than letting undo change them.
        """
        target = Path(path) if path is not None else self._path
        if target is None:
            raise EditError(tr("choose where to save the app"))
        data = self._spec.to_json_dict() | {"version": self._spec.version + 1, "published": True}
        self._write(target, data)
        self._spec.version += 1
        self._spec.published = True
        self._published_keys = self._current_keys()
        self._stack.clear()
        self._changed()
        self.app_property_changed.emit("version")
        self.app_property_changed.emit("published")
        return self.save(target)

    def _write(self, target: Path, data: dict) -> None:
        write_package(target, PackageContents(app_json=data, assets=self._assets))

    # -- queries -------------------------------------------------------------
    def problems(self) -> list[Problem]:
        """What ``formwright check`` would report, with JSON paths; cached per edit."""
        if self._problems is None:
            self._problems = spec_problems(self._spec.to_json_dict(), self._registry)
        return self._problems

    def warnings(self) -> list[Problem]:
        """What ``formwright check`` warns about a valid app (a grant showing a formula
        over a field it hides); they do not block publishing."""
        if self.problems():
            return []
        return formula_grant_warnings(self._spec, self._registry)

    def references_to(self, form_key: str, key: str) -> list[Usage]:
        """What names this field (and, for a subtable, its columns) elsewhere: views,
        expressions, lookups, role field modes. Show it before deleting."""
        spec = self.field(form_key, key)
        skip = frozenset({key} | {child.key for child in self.children(spec) or []})
        parent = self.field_path(form_key, key).parent
        usages = field_usages(self._spec, self._registry, form_key, key, parent, skip)
        for child in self.children(spec) or []:
            usages += field_usages(self._spec, self._registry, form_key, child.key, key, skip)
        return list(dict.fromkeys(usages))

    def references_to_form(self, form_key: str) -> list[Usage]:
        """Views on the form, role grants for it, lookups in other forms pointing at it."""
        return form_usages(self._spec, self._registry, self.form(form_key).key, False)

    def is_key_frozen(self, form_key: str, key: str | None = None) -> bool:
        """Whether a form key (``key=None``) or field key was published and is fixed."""
        return self._spec.published and (form_key, key) in self._published_keys

    # -- edits: fields -------------------------------------------------------
    def add_field(
        self,
        form_key: str,
        type_name: str,
        label: str,
        index: int | None = None,
        parent: str | None = None,
        key: str | None = None,
        **attributes: Any,
    ) -> str:
        """Add a field (or section, note) at ``index`` (end when ``None``) of the form or
        of subtable ``parent``; the key is made from the label unless given."""
        taken = self.field_keys(form_key)
        key = self._checked_new_key(key, taken) if key else key_from_label(label, taken)
        try:
            spec = self._registry.get(type_name).new_spec(key, label, **attributes)
        except (KeyError, ValidationError) as error:
            raise EditError(_plain_error(error)) from None
        siblings = self._container(form_key, parent)
        index = len(siblings) if index is None else max(0, min(index, len(siblings)))
        self._check_placement(spec, parent)
        self._push(cmd.InsertFieldCommand(self, form_key, parent, index, spec))
        return key

    def add_section(self, form_key: str, label: str, index: int | None = None) -> str:
        """A section starts a group of the fields after it, until the next section."""
        return self.add_field(form_key, "section", label, index)

    def remove_field(self, form_key: str, key: str) -> list[Usage]:
        """Delete a field and clean every reference to it in one undo step; returns
        the references that were cleaned (ask :meth:`references_to` to confirm first)."""
        usages = self.references_to(form_key, key)
        self._push(app_cmd.remove_field_command(self, form_key, key))
        return usages

    def move_field(self, form_key: str, key: str, index: int, parent: str | None = None) -> None:
        """Move to ``index`` of the form (``parent=None``) or of a subtable; ``index`` is
        the position after the move. Moving past a section moves into its group."""
        spec = self.field(form_key, key)
        if parent == key:
            raise EditError(tr("a field can't be moved into itself"))
        self._check_placement(spec, parent)
        size = len(self._container(form_key, parent))
        if self.field_path(form_key, key).parent != parent:
            size += 1
        index = max(0, min(index, size - 1))
        if self._find(form_key, key)[1:] != (parent, index):
            self._push(cmd.MoveFieldCommand(self, form_key, key, parent, index))

    def duplicate_field(self, form_key: str, key: str) -> str:
        """A copy right after the original, with fresh keys (columns too)."""
        siblings, parent, index = self._find(form_key, key)
        duplicate = siblings[index].model_copy(deep=True)
        taken = self.field_keys(form_key)
        family = [duplicate, *(self.children(duplicate) or [])]
        renames = {}
        for spec in family:
            renames[spec.key] = spec.key = key_from_label(spec.key + "_copy", taken)
            taken.add(spec.key)
        for spec in family[1:]:  # row formulas name their sibling columns
            self._rename_in_expressions(spec, renames)
        self._push(cmd.InsertFieldCommand(self, form_key, parent, index + 1, duplicate))
        return duplicate.key

    def set_field_property(self, form_key: str, key: str, name: str, value: Any) -> None:
        """Set one attribute; an invalid value raises EditError and nothing is pushed.
        Keystroke edits of one attribute merge into one undo step until a save point."""
        self._set(("field", form_key, key), name, value)

    def rename_field_key(self, form_key: str, key: str, new_key: str) -> None:
        """Change a field key and every reference to it, until the key is published."""
        self.field(form_key, key)
        if self.is_key_frozen(form_key, key):
            raise EditError(
                tr("'{key}' was published; its key can't change any more").format(key=key)
            )
        if new_key != key:
            self._checked_new_key(new_key, self.field_keys(form_key))
            self._push(app_cmd.rename_field_key_command(self, form_key, key, new_key))

    # -- edits: options --------------------------------------------------------
    def add_option(
        self,
        form_key: str,
        key: str,
        label: str,
        value: str | None = None,
        index: int | None = None,
    ) -> str:
        """Add a choice to a select/multiselect; its value is made from the label."""
        options = self._options(form_key, key)
        value = value or key_from_label(label, {o.value for o in options}, "option")
        try:
            option = Option(value=value, label=label)
        except ValidationError as error:
            raise EditError(_plain_error(error)) from None
        index = len(options) if index is None else max(0, min(index, len(options)))
        self._push(app_cmd.InsertOptionCommand(self, form_key, key, index, option))
        return value

    def remove_option(self, form_key: str, key: str, value: str) -> None:
        index = self._option_index(form_key, key, value)
        self._push(app_cmd.remove_option_command(self, form_key, key, index))

    def move_option(self, form_key: str, key: str, value: str, index: int) -> None:
        old = self._option_index(form_key, key, value)
        index = max(0, min(index, len(self._options(form_key, key)) - 1))
        if index != old:
            self._push(app_cmd.MoveOptionCommand(self, form_key, key, old, index))

    # -- edits: forms ----------------------------------------------------------
    def add_form(self, title: str, key: str | None = None, index: int | None = None) -> str:
        taken = {form.key for form in self._spec.forms}
        key = self._checked_new_key(key, taken) if key else key_from_label(title, taken, "form")
        form = _validated_model(FormSpec, key=key, title=title)
        return self._insert_item_command("form", form, index)

    def remove_form(self, form_key: str) -> list[Usage]:
        """Delete a form with its views and grants; lookups to it are cleared.
        Returns what was removed or cleared besides the form."""
        usages = self.references_to_form(form_key)
        self._push(app_cmd.remove_form_command(self, form_key))
        return usages

    def rename_form(self, form_key: str, title: str) -> None:
        """Change the title shown to users; the key stays."""
        self.set_form_property(form_key, "title", title)

    def set_form_property(self, form_key: str, name: str, value: Any) -> None:
        self._set(("form", form_key), name, value)

    def rename_form_key(self, form_key: str, new_key: str) -> None:
        self.form(form_key)
        if self.is_key_frozen(form_key):
            raise EditError(
                tr("the form '{form}' was published; its key can't change any more").format(
                    form=form_key
                )
            )
        if new_key != form_key:
            self._checked_new_key(new_key, {form.key for form in self._spec.forms})
            self._push(app_cmd.rename_form_key_command(self, form_key, new_key))

    # -- edits: views and roles ------------------------------------------------
    def add_view(
        self,
        form_key: str,
        title: str,
        key: str | None = None,
        index: int | None = None,
        **attributes: Any,
    ) -> str:
        """A list of a form's records: ``columns``, ``filter``, ``sort`` as in app.json."""
        self.form(form_key)
        taken = {view.key for view in self._spec.views}
        key = self._checked_new_key(key, taken) if key else key_from_label(title, taken, "view")
        view = _validated_model(ViewSpec, key=key, form=form_key, title=title, **attributes)
        return self._insert_item_command("view", view, index)

    def remove_view(self, view_key: str) -> None:
        self._item("view", view_key)
        self._push(app_cmd.TakeItemCommand(self, "view", view_key))

    def set_view_property(self, view_key: str, name: str, value: Any) -> None:
        """``title``, ``form``, ``columns``, ``filter`` or ``sort`` (SortKey or dicts)."""
        if name == "sort":
            value = [SortKey.model_validate(item) for item in value or []]
        self._set(("view", view_key), name, value)

    def add_role(
        self, title: str, key: str | None = None, index: int | None = None, **attributes: Any
    ) -> str:
        taken = {role.key for role in self._spec.roles} | {"admin"}
        key = self._checked_new_key(key, taken) if key else key_from_label(title, taken, "role")
        role = _validated_model(RoleSpec, key=key, title=title, **attributes)
        return self._insert_item_command("role", role, index)

    def remove_role(self, role_key: str) -> None:
        self._item("role", role_key)
        self._push(app_cmd.TakeItemCommand(self, "role", role_key))

    def set_role_property(self, role_key: str, name: str, value: Any) -> None:
        """``title`` or ``description``; access per form goes through :meth:`set_grant`."""
        self._set(("role", role_key), name, value)

    def set_grant(
        self,
        role_key: str,
        form_key: str,
        *,
        actions: Iterable[str] | None = None,
        scope: str | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        """Change what a role may do with a form; parts left ``None`` stay as they are."""
        self.form(form_key)
        grants = copy.deepcopy(self._item("role", role_key).grants)
        if form_key not in grants and fields is None:
            # Granting a form shows the role its fields as they are now; fields added
            # later stay hidden from it until granted (deny by default).
            fields = {key: "edit" for key in self._value_field_keys(form_key)}
        old = grants.get(form_key, Grant()).model_dump()
        new = {"actions": actions, "scope": scope, "fields": fields}
        data = old | {name: value for name, value in new.items() if value is not None}
        grants[form_key] = _validated_model(Grant, **data)
        self._set_validated(("role", role_key), "grants", grants, f"Change access of {role_key}")

    def set_field_mode(self, role_key: str, form_key: str, key: str, mode: str | None) -> None:
        """``"edit"``, ``"readonly"`` or ``"hidden"`` (also ``None``) for one field.

        Hidden fields are left out of the grant: a field it does not list is hidden.
        """
        self.field(form_key, key)
        grant = self._item("role", role_key).grants.get(form_key, Grant())
        fields = {name: value for name, value in grant.fields.items() if name != key}
        listed = {key: mode} if mode in ("edit", "readonly") else {}
        self.set_grant(role_key, form_key, fields=fields | listed)

    def _value_field_keys(self, form_key: str) -> list[str]:
        """Top-level fields of a form that hold values (what a grant lists)."""
        return [
            spec.key
            for spec in self.form(form_key).fields
            if self.registry.of(spec).has_value or self.registry.of(spec).children(spec)
        ]

    def remove_grant(self, role_key: str, form_key: str) -> None:
        grants = copy.deepcopy(self._item("role", role_key).grants)
        if grants.pop(form_key, None) is not None:
            self._set_validated(
                ("role", role_key), "grants", grants, f"Remove access of {role_key}"
            )

    def set_app_property(self, name: str, value: Any) -> None:
        """``title``, ``description`` or ``id`` of the app."""
        self._set(("app",), name, value)

    @contextlib.contextmanager
    def edit_group(self, text: str) -> Iterator[None]:
        """Edits inside the block are one undo step (a drop that also sets attributes)."""
        self._stack.beginMacro(text)
        try:
            yield
        finally:
            self._stack.endMacro()

    # -- helpers -----------------------------------------------------------------
    def _push(self, command: Any) -> None:
        self._stack.push(command)

    def _set(self, target: Target, name: str, value: Any) -> None:
        owner = self._owner(target)
        if name in _OWN_METHODS:
            raise EditError(_own_method(name))
        if target == ("app",) and name == "id" and self._spec.published:
            raise EditError(tr("the app was published; its id can't change any more"))
        probe = owner.model_copy()
        try:
            type(owner).__pydantic_validator__.validate_assignment(probe, name, value)
        except ValidationError as error:
            raise EditError(_plain_error(error, name)) from None
        self._set_validated(target, name, getattr(probe, name))

    def _set_validated(self, target: Target, name: str, value: Any, text: str = "") -> None:
        if getattr(self._owner(target), name) != value:
            self._push(cmd.SetPropertyCommand(self, target, name, value, text=text))

    def _insert_item_command(self, kind: str, item: SpecModel, index: int | None) -> str:
        items = getattr(self._spec, f"{kind}s")
        index = len(items) if index is None else max(0, min(index, len(items)))
        self._push(app_cmd.InsertItemCommand(self, kind, index, item))
        return item.key

    def _check_placement(self, spec: FieldSpecBase, parent: str | None) -> None:
        if parent is None:
            return
        field_type = self._registry.of(spec)
        if not field_type.has_value:
            raise EditError(tr("layout items can't be columns of a subtable"))
        if self.children(spec) is not None:
            raise EditError(tr("a subtable can't contain another subtable"))

    def _checked_new_key(self, key: str, taken: set[str]) -> str:
        if not KEY_RE.match(key):
            raise EditError(
                tr("a key is lowercase letters, digits and _ (start with a letter, at most 40)")
            )
        if is_reserved(key):
            raise EditError(reserved_problem(key))
        if not is_free(key, taken):
            raise EditError(tr("'{key}' is taken").format(key=key))
        return key

    def _rename_in_expressions(self, spec: FieldSpecBase, renames: dict[str, str]) -> None:
        for attribute in ("visible_when", *self._registry.of(spec).expressions(spec)):
            text = getattr(spec, attribute)
            for old, new in renames.items():
                text = rename_in_expression(text, old, new) if text else text
            setattr(spec, attribute, text)


def _read(path: str | Path, registry: FieldTypeRegistry) -> tuple[AppSpec, dict[str, bytes]]:
    """The structurally valid spec and the assets of a package."""
    contents = read_package(path)
    document = upgrade_document(contents.app_json)
    try:
        spec = AppSpec.model_validate(document, context={"registry": registry})
    except ValidationError as error:
        problems = [Problem(p, m) for p, m in flatten_errors(error.errors())]
        raise SpecError(problems) from None
    return spec, dict(contents.assets)


def _validated_model(model: type[SpecModel], **data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise EditError(_plain_error(error)) from None


def _plain_error(error: Exception, name: str = "") -> str:
    if isinstance(error, KeyError):
        return tr("unknown field type '{type}'").format(type=error.args[0])
    problems = list(flatten_errors(error.errors()))  # type: ignore[attr-defined]
    path, message = problems[0]
    where = path or name
    return f"{where}: {message}" if where else message


def build_large_form(n: int = 300) -> DesignerDocument:
    """A document with one form of ``n`` assorted fields, for benchmarks."""
    document = DesignerDocument.new()
    cycle = ("text", "number", "date", "select", "checkbox", "textarea")
    for i in range(n):
        if i % 25 == 0:
            document.add_section("form_1", f"Section {i // 25 + 1}")
        document.add_field("form_1", cycle[i % len(cycle)], f"Field {i + 1}")
    document.mark_saved()
    return document
