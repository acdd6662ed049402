"""Form rules shared by the record service and the screens: visibility and formulas.

Qt-free so a save on any path (screen, import, CLI, API) applies the same rules,
and the form screen can run them live while the user types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from runtime.expressions import ExpressionError, evaluate, names_used, parse
from runtime.spec.models import FormSpec
from widgets.base import FieldSpecBase, FieldValueError
from widgets.registry import FieldTypeRegistry


@dataclass
class CompiledFormula:
    spec: FieldSpecBase
    node: Any
    depends_on: set[str]


@dataclass
class FormLogic:
    """The compiled expressions of one form (parse once, evaluate per save)."""

    form: FormSpec
    registry: FieldTypeRegistry
    visibility: dict[str, Any] = field(default_factory=dict)
    #: Top-level formulas in evaluation order (dependencies first).
    formulas: list[CompiledFormula] = field(default_factory=list)
    #: Formulas inside subtables: subtable key -> formulas over one row.
    row_formulas: dict[str, list[CompiledFormula]] = field(default_factory=dict)
    #: Which section (by key) each field belongs to, for section visibility.
    section_of: dict[str, str] = field(default_factory=dict)
    #: How formulas see each field (its type's ``expression_type``): a blank date is
    #: unknown to them, not day zero. ``row_types`` adds a subtable's columns.
    types: dict[str, str] = field(default_factory=dict)
    row_types: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def compile(cls, form: FormSpec, registry: FieldTypeRegistry) -> FormLogic:
        logic = cls(form, registry)
        logic.types = _types(form.fields, registry)
        section: str | None = None
        for spec in form.fields:
            field_type = registry.of(spec)
            if spec.visible_when:
                logic.visibility[spec.key] = parse(spec.visible_when)
            if field_type.groups_following:
                section = spec.key
            elif section is not None:
                logic.section_of[spec.key] = section
            children = field_type.children(spec)
            if children:
                logic.row_formulas[spec.key] = _ordered(_compile_formulas(children, registry))
                logic.row_types[spec.key] = {**logic.types, **_types(children, registry)}
        logic.formulas = _ordered(_compile_formulas(form.fields, registry))
        return logic

    def names_read(self) -> set[str]:
        """The fields the form's formulas and visibility rules read (a row formula
        reads the record's fields too)."""
        read = {name for node in self.visibility.values() for name in names_used(node)}
        for formula in [*self.formulas, *(f for fs in self.row_formulas.values() for f in fs)]:
            read |= formula.depends_on
        return read

    # -- visibility ---------------------------------------------------------
    def hidden_fields(self, values: dict[str, Any]) -> set[str]:
        """Keys hidden by their own ``visible_when`` or their section's."""
        hidden = {key for key, node in self.visibility.items() if not self._true(node, values)}
        return hidden | {key for key, section in self.section_of.items() if section in hidden}

    def _true(self, node: Any, values: dict[str, Any]) -> bool:
        try:
            return evaluate(node, values, types=self.types) is True
        except ExpressionError:
            return True  # a rule that cannot be evaluated never hides a field

    # -- formulas -----------------------------------------------------------
    def compute(
        self, values: dict[str, Any], today: date | None = None, now: datetime | None = None
    ) -> dict[str, Any]:
        """Values with every formula (row formulas first) computed and stored."""
        result = dict(values)
        for key in self.row_formulas:
            rows = result.get(key)
            if rows:
                result[key] = self.compute_rows(key, rows, result, today, now)
        return self._apply(self.formulas, result, today, now, keep=result, types=self.types)

    def compute_rows(
        self,
        key: str,
        rows: list[dict[str, Any]],
        values: dict[str, Any],
        today: date | None = None,
        now: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """The rows of subtable ``key`` with its formula columns computed; a row's
        formulas see the row's cells over the record's ``values``. The form screen
        calls this live as cells change; :meth:`compute` on every save."""
        formulas = self.row_formulas.get(key, [])
        types = self.row_types.get(key, self.types)
        return [
            self._apply(formulas, {**values, **row}, today, now, keep=row, types=types)
            for row in rows
        ]

    def _apply(self, formulas, scope, today, now, keep, types) -> dict[str, Any]:
        out = dict(keep)
        scope = dict(scope)
        for formula in formulas:
            value = self._evaluate(formula, scope, today, now, types)
            out[formula.spec.key] = scope[formula.spec.key] = value
        return out

    def _evaluate(self, formula: CompiledFormula, scope, today, now, types) -> Any:
        field_type = self.registry.of(formula.spec)
        try:
            raw = evaluate(formula.node, scope, today=today, now=now, types=types)
            value = field_type.coerce(formula.spec, raw)
            field_type.validate(formula.spec, value)
            return value
        except (ExpressionError, FieldValueError):
            return None  # e.g. division by zero: the result is blank, not an error


def _types(fields: list[FieldSpecBase], registry: FieldTypeRegistry) -> dict[str, str]:
    return {
        spec.key: registry.of(spec).expression_type(spec)
        for spec in fields
        if registry.of(spec).has_value
    }


def _compile_formulas(fields: list[FieldSpecBase], registry) -> list[CompiledFormula]:
    compiled = []
    for spec in fields:
        for attribute in registry.of(spec).expressions(spec):
            text = getattr(spec, attribute)
            if text:
                node = parse(text)
                compiled.append(CompiledFormula(spec, node, names_used(node)))
    return compiled


def _ordered(formulas: list[CompiledFormula]) -> list[CompiledFormula]:
    """Dependencies first (the spec validator already refused cycles)."""
    by_key = {formula.spec.key: formula for formula in formulas}
    ordered: list[CompiledFormula] = []
    done: set[str] = set()

    def visit(formula: CompiledFormula, trail: frozenset[str]) -> None:
        key = formula.spec.key
        if key in done or key in trail:
            return
        for name in formula.depends_on:
            if name in by_key:
                visit(by_key[name], trail | {key})
        done.add(key)
        ordered.append(formula)

    for formula in formulas:
        visit(formula, frozenset())
    return ordered
