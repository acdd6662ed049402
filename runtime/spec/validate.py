"""Cross-reference validation of an AppSpec: what pydantic alone cannot see.

Duplicate and reserved keys, dangling references (lookups, views, grants),
expressions that do not parse or type-check, formulas that depend on themselves.
Every problem carries the JSON path of the offending attribute.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from resources.messages import tr
from runtime.expressions import ExpressionError, TableType, check, names_used, parse
from runtime.spec.formula_messages import formula_message, wrong_result_message
from runtime.spec.models import AppSpec, FormSpec, RoleSpec, ViewSpec
from runtime.spec.problems import Problem
from runtime.spec.reserved import reserved_problem
from widgets.base import FieldSpecBase
from widgets.registry import FieldTypeRegistry, default_registry

BUILTIN_ROLES = frozenset({"admin"})


@dataclass
class FieldEntry:
    """A field of a form with its JSON path, and the subtable holding it if any."""

    path: str
    spec: FieldSpecBase
    parent: FieldSpecBase | None = None


@dataclass
class FormIndex:
    """The fields of one form, flattened, for lookups by key."""

    form: FormSpec
    path: str
    entries: list[FieldEntry] = field(default_factory=list)

    def top_level(self, key: str) -> FieldEntry | None:
        return next((e for e in self.entries if e.spec.key == key and e.parent is None), None)


def index_form(form: FormSpec, path: str, registry: FieldTypeRegistry) -> FormIndex:
    index = FormIndex(form, path)
    for position, spec in enumerate(form.fields):
        field_path = f"{path}.fields[{position}]"
        index.entries.append(FieldEntry(field_path, spec))
        for child_position, child in enumerate(registry.of(spec).children(spec)):
            index.entries.append(FieldEntry(f"{field_path}.fields[{child_position}]", child, spec))
    return index


def validate_app(spec: AppSpec, registry: FieldTypeRegistry = default_registry) -> list[Problem]:
    """Every cross-reference problem of a structurally valid spec."""
    validator = _Validator(spec, registry)
    return validator.run()


class _Validator:
    def __init__(self, spec: AppSpec, registry: FieldTypeRegistry) -> None:
        self.spec = spec
        self.registry = registry
        self.problems: list[Problem] = []
        self._scopes: dict[tuple[str, str | None], dict] = {}
        self.forms = {
            form.key: index_form(form, f"forms[{i}]", registry) for i, form in enumerate(spec.forms)
        }

    def report(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def run(self) -> list[Problem]:
        self.check_unique_keys(self.spec.forms, "forms", reserved=True)
        for index in self.forms.values():
            self.check_form(index)
        self.check_unique_keys(self.spec.views, "views", reserved=False)
        for position, view in enumerate(self.spec.views):
            self.check_view(view, f"views[{position}]")
        self.check_unique_keys(self.spec.roles, "roles", reserved=False)
        for position, role in enumerate(self.spec.roles):
            self.check_role(role, f"roles[{position}]")
        return self.problems

    # -- keys ---------------------------------------------------------------
    def check_unique_keys(self, items: Iterable, path: str, reserved: bool) -> None:
        seen: set[str] = set()
        for position, item in enumerate(items):
            key_path = f"{path}[{position}].key"
            if item.key in seen:
                self.report(key_path, tr("duplicate key '{key}'").format(key=item.key))
            seen.add(item.key)
            problem = reserved_problem(item.key) if reserved else None
            if problem:
                self.report(key_path, problem)

    # -- forms and fields ---------------------------------------------------
    def check_form(self, index: FormIndex) -> None:
        seen: set[str] = set()
        for entry in index.entries:
            key_path = f"{entry.path}.key"
            if entry.spec.key in seen:
                message = tr("duplicate field key '{key}' in this form")
                self.report(key_path, message.format(key=entry.spec.key))
            seen.add(entry.spec.key)
            problem = reserved_problem(entry.spec.key)
            if problem:
                self.report(key_path, problem)
            self.check_field(index, entry)
        self.check_formula_cycles(index)

    def check_field(self, index: FormIndex, entry: FieldEntry) -> None:
        field_type = self.registry.of(entry.spec)
        for problem in field_type.check_spec(entry.spec):
            self.report(f"{entry.path}.{problem.attribute}", problem.message)
        if entry.spec.unique and not can_be_unique(field_type, entry.spec):
            self.report(
                f"{entry.path}.unique",
                tr(
                    "only a field holding one value (text, number, date…) can be unique; "
                    "this one holds several or none"
                ),
            )
        for reference in field_type.references(entry.spec):
            self.check_reference(f"{entry.path}.{reference.attribute}", reference)
        scope = self.expression_scope(index, entry.parent)
        if entry.spec.visible_when:
            self.check_expression(
                f"{entry.path}.visible_when", entry.spec.visible_when, scope, "boolean"
            )
        for attribute, result in field_type.expressions(entry.spec).items():
            text = getattr(entry.spec, attribute)
            if text:
                self.check_expression(f"{entry.path}.{attribute}", text, scope, result)

    def check_reference(self, path: str, reference) -> None:
        if reference.kind == "form":
            if reference.target not in self.forms:
                self.report(path, tr("there is no form '{form}'").format(form=reference.target))
            return
        form_key, field_key = reference.target
        target = self.forms.get(form_key)
        if target is None:
            return  # reported by the form reference
        entry = target.top_level(field_key)
        if entry is None:
            message = tr("form '{form}' has no field '{field}'")
            self.report(path, message.format(form=form_key, field=field_key))
        elif not self.registry.of(entry.spec).has_value:
            message = tr("'{key}' is a layout item, not a field with a value")
            self.report(path, message.format(key=field_key))

    def expression_scope(self, index: FormIndex, subtable: FieldSpecBase | None) -> dict:
        """Names an expression may use: the form's fields, tables for subtables,
        and inside a subtable also that subtable's columns as plain values.

        Built once per (form, subtable): every field of a 300-field form asks.
        """
        key = (index.path, subtable.key if subtable is not None else None)
        if key not in self._scopes:
            self._scopes[key] = self._build_scope(index, subtable)
        return self._scopes[key]

    def _build_scope(self, index: FormIndex, subtable: FieldSpecBase | None) -> dict:
        scope: dict = {}
        for entry in index.entries:
            field_type = self.registry.of(entry.spec)
            if not field_type.has_value:
                continue
            if entry.parent is None:
                children = field_type.children(entry.spec)
                if children:
                    scope[entry.spec.key] = TableType(self.column_types(children))
                else:
                    scope[entry.spec.key] = field_type.expression_type(entry.spec)
            elif entry.parent is subtable:
                scope[entry.spec.key] = field_type.expression_type(entry.spec)
        return scope

    def column_types(self, children: list[FieldSpecBase]) -> dict[str, str]:
        return {
            child.key: self.registry.of(child).expression_type(child)
            for child in children
            if self.registry.of(child).has_value
        }

    def check_expression(self, path: str, text: str, scope: dict, result: str | None) -> None:
        try:
            found = check(parse(text), scope)
        except ExpressionError as error:
            self.report(path, formula_message(error))
            return
        if result and found not in (result, "any"):
            self.report(path, wrong_result_message(found, result))

    def check_formula_cycles(self, index: FormIndex) -> None:
        """A formula may not depend on itself, directly or through other formulas."""
        depends: dict[str, set[str]] = {}
        paths: dict[str, str] = {}
        for entry in index.entries:
            for attribute, _ in self.registry.of(entry.spec).expressions(entry.spec).items():
                text = getattr(entry.spec, attribute)
                try:
                    depends[entry.spec.key] = names_used(parse(text)) if text else set()
                except ExpressionError:
                    continue  # reported by check_expression
                paths[entry.spec.key] = f"{entry.path}.{attribute}"
        for key in depends:
            cycle = find_cycle(key, depends)
            if cycle:
                message = tr("the formula depends on itself: {cycle}")
                self.report(paths[key], message.format(cycle=" → ".join(cycle)))

    # -- views and roles ----------------------------------------------------
    def check_view(self, view: ViewSpec, path: str) -> None:
        index = self.forms.get(view.form)
        if index is None:
            self.report(f"{path}.form", tr("there is no form '{form}'").format(form=view.form))
            return
        for position, column in enumerate(view.columns):
            self.check_value_field(index, column, f"{path}.columns[{position}]")
        for position, sort_key in enumerate(view.sort):
            self.check_value_field(index, sort_key.field, f"{path}.sort[{position}].field")
        if view.filter:
            scope = self.expression_scope(index, None)
            self.check_expression(f"{path}.filter", view.filter, scope, "boolean")

    def check_value_field(self, index: FormIndex, key: str, path: str) -> None:
        entry = index.top_level(key)
        if entry is None:
            message = tr("form '{form}' has no field '{field}'")
            self.report(path, message.format(form=index.form.key, field=key))
        elif not self.registry.of(entry.spec).has_value:
            message = tr("'{key}' is a layout item, not a field with a value")
            self.report(path, message.format(key=key))

    def check_role(self, role: RoleSpec, path: str) -> None:
        if role.key in BUILTIN_ROLES:
            message = tr("'{key}' is a built-in role; choose another key")
            self.report(f"{path}.key", message.format(key=role.key))
        for form_key, grant in role.grants.items():
            index = self.forms.get(form_key)
            if index is None:
                message = tr("there is no form '{form}'").format(form=form_key)
                self.report(f"{path}.grants.{form_key}", message)
                continue
            for field_key in grant.fields:
                if index.top_level(field_key) is None:
                    self.report(
                        f"{path}.grants.{form_key}.fields.{field_key}",
                        tr("form '{form}' has no field '{field}'").format(
                            form=form_key, field=field_key
                        ),
                    )


def find_cycle(start: str, depends: dict[str, set[str]]) -> list[str] | None:
    """A path start → … → start through the dependency graph, or ``None``."""
    stack = [(start, [start])]
    visited: set[str] = set()
    while stack:
        node, trail = stack.pop()
        for name in sorted(depends.get(node, ())):
            if name == start:
                return [*trail, start]
            if name not in visited and name in depends:
                visited.add(name)
                stack.append((name, [*trail, name]))
    return None


def can_be_unique(field_type, spec) -> bool:
    """A unique index needs one plain column: not a layout item, a subtable, or a
    list of values stored as JSON (several people, several options, files)."""
    if not field_type.has_value or field_type.children(spec):
        return False
    column_type = field_type.sql_type(spec)
    return column_type is not None and not isinstance(column_type, sa.JSON)
