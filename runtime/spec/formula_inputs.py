"""Which fields each computed field of a form reads, directly or through other formulas.

A formula shows what it is computed from: ``bonus = salary * 0.1`` reveals the
salary. The permission policy hides such a field from a role that cannot see one
of its inputs, and ``formwright check`` warns about a grant that lists it as
readable (:func:`formula_grant_warnings`). Pure and Qt-free; parsed once per
form spec.
"""

from __future__ import annotations

import threading

from resources.messages import tr
from runtime.expressions import ExpressionError, names_used, parse
from runtime.spec.models import AppSpec, FormSpec
from runtime.spec.problems import Problem
from widgets.registry import FieldTypeRegistry, default_registry

_CACHE: dict[int, tuple[FormSpec, dict[str, frozenset[str]]]] = {}
_CACHE_LIMIT = 256
_LOCK = threading.Lock()


def formula_inputs(
    form: FormSpec, registry: FieldTypeRegistry = default_registry
) -> dict[str, frozenset[str]]:
    """Top-level field key -> the top-level fields its expressions read directly.

    Only fields whose value is computed (formulas) are keys; a subtable is a key
    when a formula of one of its columns reads fields outside the row. An
    expression that does not parse reads nothing here (the validator reports it).
    """
    with _LOCK:
        cached = _CACHE.get(id(form))
        if cached is not None and cached[0] is form:
            return cached[1]
    found: dict[str, frozenset[str]] = {}
    top = {spec.key for spec in form.fields}
    for spec in form.fields:
        field_type = registry.of(spec)
        names: set[str] = set()
        if field_type.computed:
            names |= _reads(spec, registry)
        children = field_type.children(spec)
        if children:
            own = {child.key for child in children}
            for child in children:
                if registry.of(child).computed:
                    names |= _reads(child, registry) - own
        names = (names & top) - {spec.key}
        if names:
            found[spec.key] = frozenset(names)
    with _LOCK:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[id(form)] = (form, found)  # keeps ``form`` alive: its id stays its own
    return found


def _reads(spec, registry: FieldTypeRegistry) -> set[str]:
    names: set[str] = set()
    for attribute in registry.of(spec).expressions(spec):
        text = getattr(spec, attribute, "")
        if not text:
            continue
        try:
            names |= names_used(parse(text))
        except ExpressionError:
            continue
    return names


def hidden_input(
    form: FormSpec, key: str, is_hidden, registry: FieldTypeRegistry = default_registry
) -> str | None:
    """The first field ``key``'s formulas read, directly or through other formulas,
    for which ``is_hidden(field)`` is true; ``None`` when there is none."""
    inputs = formula_inputs(form, registry)
    seen = {key}
    stack = sorted(inputs.get(key, ()), reverse=True)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if is_hidden(name):
            return name
        stack.extend(sorted(inputs.get(name, ()), reverse=True))
    return None


def formula_grant_warnings(
    spec: AppSpec, registry: FieldTypeRegistry = default_registry
) -> list[Problem]:
    """A grant listing a computed field as readable (``edit``/``readonly``) while
    one of its inputs is hidden from that grant: the runtime hides the field."""
    problems: list[Problem] = []
    forms = {form.key: form for form in spec.forms}
    for position, role in enumerate(spec.roles):
        for form_key, grant in role.grants.items():
            form = forms.get(form_key)
            if form is None:
                continue

            def hidden(name: str, grant=grant) -> bool:
                return grant.fields.get(name, "hidden") == "hidden"

            for field_key, mode in grant.fields.items():
                if mode == "hidden" or form.field(field_key) is None:
                    continue
                found = hidden_input(form, field_key, hidden, registry)
                if found is None:
                    continue
                message = tr(
                    "'{field}' is computed from '{input}', which role '{role}' cannot see; "
                    "the field is hidden for this role"
                ).format(field=field_key, input=found, role=role.key)
                path = f"roles[{position}].grants.{form_key}.fields.{field_key}"
                problems.append(Problem(path, message, level="warning"))
    return problems
