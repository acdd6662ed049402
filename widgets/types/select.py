"""One choice from a list of options; the stored value is the option's ``value`` code.

Also holds the option helpers the multiselect type shares.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sqlalchemy import String
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldSpecBase, FieldType, FieldValueError, Option, SpecProblem
from widgets.types._shared import refuse_nul


def default_options() -> list[Option]:
    """What a select dropped from the palette starts with (the builder renames them)."""
    return [Option(value="option_1", label="Option 1"), Option(value="option_2", label="Option 2")]


def option_text(value: Any) -> str:
    """An option value or label as text (workbooks give 1.0 for a cell typed 1)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FieldValueError(tr("please choose one of the options"))
    return refuse_nul(str(value)).strip()


def match_option(options: list[Option], value: Any) -> str:
    """The option value that ``value`` names: a value, else a label (case-insensitive)."""
    text = option_text(value)
    for option in options:
        if option.value == text:
            return option.value
    folded = text.casefold()
    for attribute in ("value", "label"):
        for option in options:
            if getattr(option, attribute).strip().casefold() == folded:
                return option.value
    choices = ", ".join(option.label for option in options)
    raise FieldValueError(
        tr("'{value}' is not one of the choices: {choices}").format(value=text, choices=choices)
    )


def option_label(options: list[Option], value: str) -> str:
    """The label of an option value; an unknown value (option since removed) as is."""
    return next((option.label for option in options if option.value == value), value)


def option_problems(options: list[Option]) -> list[SpecProblem]:
    """At least one option; values and labels unique (ignoring case, as input does)."""
    if not options:
        return [SpecProblem("options", tr("add at least one option"))]
    problems = []
    for attribute in ("value", "label"):
        seen: set[str] = set()
        for index, option in enumerate(options):
            text = getattr(option, attribute).strip().casefold()
            if text in seen:
                message = tr("'{value}' is used by two options").format(
                    value=getattr(option, attribute)
                )
                problems.append(SpecProblem(f"options[{index}].{attribute}", message))
            seen.add(text)
    return problems


class SelectSpec(FieldSpecBase):
    options: list[Option] = Field(default_factory=default_options)
    display: Literal["dropdown", "radio"] = "dropdown"


class SelectType(FieldType[SelectSpec]):
    name = "select"
    spec_model = SelectSpec
    title = "Choice"
    title_zh = "单选"
    group = "choice"
    icon = "mdi6.form-dropdown"
    editor = "widgets.editors.select:SelectEditor"
    description = "One option from a list, shown as a dropdown or as radio buttons."
    sample_attributes = {
        "options": [
            {"value": "icu", "label": "重症监护室"},
            {"value": "er", "label": "急诊科"},
            {"value": "ward_3", "label": "内科三病区"},
        ]
    }

    def single_choice_labels(self, spec: SelectSpec) -> list[str] | None:
        return [option.label for option in spec.options]

    def sample_values(self, spec: SelectSpec) -> list[Any]:
        return [option.value for option in spec.options[:3]]

    def check_spec(self, spec: SelectSpec) -> list[SpecProblem]:
        problems = option_problems(spec.options)
        return problems or super().check_spec(spec)

    def coerce(self, spec: SelectSpec, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return match_option(spec.options, value)

    def cell_checker(self, spec: SelectSpec):
        """An option value is already canonical; labels and others take the slow path."""
        slow = super().cell_checker(spec)
        values = frozenset(option.value for option in spec.options)

        def check(value: Any) -> Any:
            return value if value.__class__ is str and value in values else slow(value)

        return check

    def validate(self, spec: SelectSpec, value: Any) -> None:
        if value is not None and all(option.value != value for option in spec.options):
            raise FieldValueError(
                tr("'{value}' is no longer one of the choices").format(value=value)
            )

    def sql_type(self, spec: SelectSpec) -> TypeEngine:
        return String(100)

    def display(self, spec: SelectSpec, value: Any, context: Any = None) -> str:
        return "" if value is None else option_label(spec.options, value)

    def expression_type(self, spec: SelectSpec) -> ExprType:
        return "text"

    def describe(self, spec: SelectSpec) -> str:
        options = ", ".join(option.label for option in spec.options)
        return tr("one of: {options}").format(options=options)


FIELD_TYPE = SelectType()
