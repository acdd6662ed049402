"""What refers to a field or a form, and the value each reference takes after a
delete (cleaned) or a key rename (rewritten).

Qt-free: the document turns each :class:`Usage` into a property command, so one
undo restores the deleted or renamed item and every reference with it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from runtime.expressions import ExpressionError
from runtime.expressions.lexer import Token, tokenize
from runtime.spec.models import AppSpec, FormSpec
from widgets.base import FieldSpecBase, SpecModel
from widgets.registry import FieldTypeRegistry

#: Address of an owner of attributes: ("app",), ("form", form), ("field", form, key),
#: ("view", view) or ("role", role).
Target = tuple[str, ...]

#: How a usage holds the name: a list of columns, sort keys, an expression text, the
#: key itself (reference), a role's field modes, a view's form, a role's grant, or an
#: attribute that only makes sense with the form (a lookup's display field: dependent).
UsageKind = Literal[
    "columns", "sort", "expression", "reference", "field_modes", "view", "grant", "dependent"
]


@dataclass(frozen=True)
class Usage:
    """One attribute that names a field or a form: shown before a delete, fixed by it."""

    target: Target
    attribute: str
    kind: UsageKind
    description: str

    def __str__(self) -> str:
        return self.description


# -- expressions ---------------------------------------------------------------


def mentions(text: str | None, key: str, parent: str | None = None) -> list[Token]:
    """Identifier tokens of ``text`` naming field ``key`` (``parent.key`` for a column).

    Function names (followed by ``(``) and columns of other tables are not mentions.
    Text that does not tokenize mentions nothing (the problems list shows it).
    """
    if not text:
        return []
    try:
        tokens = tokenize(text)
    except ExpressionError:
        return []
    found = []
    for i, token in enumerate(tokens):
        if token.kind != "ident" or token.text != key or tokens[i + 1].kind == "(":
            continue
        dotted = i > 0 and tokens[i - 1].kind == "."
        if dotted and not (i > 1 and tokens[i - 2].text == parent and parent is not None):
            continue
        found.append(token)
    return found


def rename_in_expression(text: str, key: str, new_key: str, parent: str | None = None) -> str:
    """``text`` with every mention of ``key`` replaced by ``new_key``."""
    for token in reversed(mentions(text, key, parent)):
        text = text[: token.pos] + new_key + text[token.pos + len(token.text) :]
    return text


# -- finding usages ------------------------------------------------------------


def all_fields(form: FormSpec, registry: FieldTypeRegistry) -> Iterator[FieldSpecBase]:
    """Every field of a form, subtable columns right after their subtable."""
    for spec in form.fields:
        yield spec
        yield from registry.of(spec).children(spec)


def field_usages(
    spec: AppSpec,
    registry: FieldTypeRegistry,
    form_key: str,
    field_key: str,
    parent: str | None = None,
    skip: frozenset[str] = frozenset(),
) -> list[Usage]:
    """Everything that names field ``field_key`` of ``form_key``; fields in ``skip`` are
    left out (the field itself and, for a subtable, its columns)."""
    usages = list(_view_usages(spec, form_key, field_key, parent))
    form = spec.form(form_key)
    for item in all_fields(form, registry) if form else ():
        if item.key not in skip:
            usages.extend(_expression_usages(registry, form_key, item, field_key, parent))
    for other in spec.forms:
        for item in all_fields(other, registry):
            if other.key == form_key and item.key in skip:
                continue
            for reference in registry.of(item).references(item):
                if reference.kind == "field" and reference.target == (form_key, field_key):
                    where = f"field “{item.label}” of form “{other.title}”: {reference.attribute}"
                    target = ("field", other.key, item.key)
                    usages.append(Usage(target, reference.attribute, "reference", where))
    for role in spec.roles:
        grant = role.grants.get(form_key)
        if grant and field_key in grant.fields:
            where = f"role “{role.title}”: access to the field"
            usages.append(Usage(("role", role.key), "grants", "field_modes", where))
    return usages


def _view_usages(spec: AppSpec, form_key: str, key: str, parent: str | None) -> Iterator[Usage]:
    for view in spec.views:
        if view.form != form_key:
            continue
        target = ("view", view.key)
        if key in view.columns:
            yield Usage(target, "columns", "columns", f"view “{view.title}”: column")
        if any(sort_key.field == key for sort_key in view.sort):
            yield Usage(target, "sort", "sort", f"view “{view.title}”: sort order")
        if mentions(view.filter, key, parent):
            yield Usage(target, "filter", "expression", f"view “{view.title}”: filter")


def _expression_usages(
    registry: FieldTypeRegistry, form_key: str, item: FieldSpecBase, key: str, parent: str | None
) -> Iterator[Usage]:
    for attribute in ("visible_when", *registry.of(item).expressions(item)):
        if mentions(getattr(item, attribute), key, parent):
            where = f"field “{item.label}”: {attribute}"
            yield Usage(("field", form_key, item.key), attribute, "expression", where)


def form_usages(
    spec: AppSpec, registry: FieldTypeRegistry, form_key: str, include_own: bool
) -> list[Usage]:
    """Views on a form, role grants for it and lookups pointing at it.

    ``include_own`` also lists lookups inside the form itself (a rename must fix
    them; a delete removes them with the form).
    """
    usages = [
        Usage(("view", view.key), "form", "view", f"view “{view.title}”")
        for view in spec.views
        if view.form == form_key
    ]
    usages += [
        Usage(("role", role.key), "grants", "grant", f"role “{role.title}”: access to the form")
        for role in spec.roles
        if form_key in role.grants
    ]
    for other in spec.forms:
        if other.key == form_key and not include_own:
            continue
        for item in all_fields(other, registry):
            for reference in registry.of(item).references(item):
                target_form = reference.target if reference.kind == "form" else reference.target[0]
                if target_form == form_key:
                    where = f"field “{item.label}” of form “{other.title}”: {reference.attribute}"
                    target = ("field", other.key, item.key)
                    kind = "reference" if reference.kind == "form" else "dependent"
                    usages.append(Usage(target, reference.attribute, kind, where))
    return usages


# -- new values ----------------------------------------------------------------


def default_of(owner: SpecModel, attribute: str) -> Any:
    """The value an attribute has when nobody set it (``None``, ``""``…)."""
    return type(owner).model_fields[attribute].get_default(call_default_factory=True)


def cleaned_value(owner: SpecModel, usage: Usage, form_key: str, field_key: str) -> Any:
    """The attribute's value once field ``field_key`` no longer exists."""
    value = copy.deepcopy(getattr(owner, usage.attribute))
    if usage.kind == "columns":
        return [column for column in value if column != field_key]
    if usage.kind == "sort":
        return [sort_key for sort_key in value if sort_key.field != field_key]
    if usage.kind == "field_modes":
        value[form_key].fields.pop(field_key, None)
        return value
    if usage.kind == "grant":
        value.pop(form_key, None)
        return value
    return default_of(owner, usage.attribute)


def renamed_value(
    owner: SpecModel, usage: Usage, form_key: str, old: str, new: str, parent: str | None
) -> Any:
    """The attribute's value once field ``old`` is called ``new``."""
    value = copy.deepcopy(getattr(owner, usage.attribute))
    if usage.kind == "columns":
        return [new if column == old else column for column in value]
    if usage.kind == "sort":
        for sort_key in value:
            sort_key.field = new if sort_key.field == old else sort_key.field
        return value
    if usage.kind == "field_modes":
        modes = value[form_key].fields
        value[form_key].fields = {new if key == old else key: mode for key, mode in modes.items()}
        return value
    if usage.kind == "expression":
        return rename_in_expression(value, old, new, parent)
    return new  # a reference holds the key itself


def form_renamed_value(owner: SpecModel, usage: Usage, old: str, new: str) -> Any:
    """The attribute's value once form ``old`` is called ``new``."""
    value = copy.deepcopy(getattr(owner, usage.attribute))
    if usage.kind == "grant":
        return {new if key == old else key: grant for key, grant in value.items()}
    return new  # a view's form or a lookup's form
