"""Several choices from a list of options: a list of option values in option order."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import JSON
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldSpecBase, FieldType, FieldValueError, Option, SpecProblem
from widgets.types.select import default_options, match_option, option_label, option_problems

SEPARATORS = re.compile(r"[,，、;；\n]")
JOINER = "、"


class MultiSelectSpec(FieldSpecBase):
    options: list[Option] = Field(default_factory=default_options)
    display: Literal["checkboxes", "dropdown"] = "checkboxes"
    min_selected: int | None = Field(default=None, ge=0)
    max_selected: int | None = Field(default=None, ge=1)


def _only(count: int) -> str:
    if count == 1:
        return tr("there are only 1 option")
    return tr("there are only {count} options").format(count=count)


def _at_least(count: int) -> str:
    if count == 1:
        return tr("choose at least 1 option")
    return tr("choose at least {count} options").format(count=count)


def _at_most(count: int) -> str:
    if count == 1:
        return tr("choose at most 1 option")
    return tr("choose at most {count} options").format(count=count)


class MultiSelectType(FieldType[MultiSelectSpec]):
    name = "multiselect"
    spec_model = MultiSelectSpec
    title = "Multiple choice"
    title_zh = "多选"
    group = "choice"
    icon = "mdi6.checkbox-multiple-marked-outline"
    editor = "widgets.editors.multiselect:MultiSelectEditor"
    description = "Any number of options from a list (allergies, symptoms, equipment used)."
    sample_attributes = {
        "options": [
            {"value": "penicillin", "label": "青霉素"},
            {"value": "cephalosporin", "label": "头孢类"},
            {"value": "sulfa", "label": "磺胺类"},
            {"value": "seafood", "label": "海鲜"},
        ]
    }

    def sample_values(self, spec: MultiSelectSpec) -> list[Any]:
        values = [option.value for option in spec.options]
        return [values[:1], values[:3:2], values[1:]]

    def check_spec(self, spec: MultiSelectSpec) -> list[SpecProblem]:
        problems = option_problems(spec.options)
        low, high, count = spec.min_selected, spec.max_selected, len(spec.options)
        if low is not None and high is not None and low > high:
            problems.append(
                SpecProblem("min_selected", tr("the minimum is larger than the maximum"))
            )
        if low is not None and low > count:
            problems.append(SpecProblem("min_selected", _only(count)))
        if high is not None and high > count:
            problems.append(SpecProblem("max_selected", _only(count)))
        return problems or super().check_spec(spec)

    def coerce(self, spec: MultiSelectSpec, value: Any) -> Any:
        """Option values in option order, without duplicates; nothing chosen is None."""
        if value is None:
            return None
        if isinstance(value, str):
            items = self._split(spec, value)
        elif isinstance(value, Iterable) and not isinstance(value, (bytes, dict)):
            items = list(value)
        else:
            items = [value]
        chosen = {match_option(spec.options, item) for item in items if str(item).strip()}
        ordered = [option.value for option in spec.options if option.value in chosen]
        return ordered or None

    def _split(self, spec: MultiSelectSpec, text: str) -> list[str]:
        """Labels or values separated by , ， 、 ; ； — unless the whole text is one option."""
        try:
            return [match_option(spec.options, text)] if text.strip() else []
        except FieldValueError:
            return [item for item in SEPARATORS.split(text) if item.strip()]

    def validate(self, spec: MultiSelectSpec, value: Any) -> None:
        if value is None:
            return
        known = {option.value for option in spec.options}
        for item in value:
            if item not in known:
                raise FieldValueError(
                    tr("'{value}' is no longer one of the choices").format(value=item)
                )
        if spec.min_selected is not None and len(value) < spec.min_selected:
            raise FieldValueError(_at_least(spec.min_selected))
        if spec.max_selected is not None and len(value) > spec.max_selected:
            raise FieldValueError(_at_most(spec.max_selected))

    def sql_type(self, spec: MultiSelectSpec) -> TypeEngine:
        return JSON()

    def to_json(self, spec: MultiSelectSpec, value: Any) -> Any:
        return None if value is None else list(value)

    def display(self, spec: MultiSelectSpec, value: Any, context: Any = None) -> str:
        if not value:
            return ""
        return JOINER.join(option_label(spec.options, item) for item in value)

    def expression_type(self, spec: MultiSelectSpec) -> ExprType:
        return "list"

    def describe(self, spec: MultiSelectSpec) -> str:
        labels = ", ".join(option.label for option in spec.options)
        low, high = spec.min_selected, spec.max_selected
        if low and high:
            template = tr(
                "any of: {options} (at least {min}, at most {max}); separate several with 、 or ,"
            )
        elif low:
            template = tr("any of: {options} (at least {min}); separate several with 、 or ,")
        elif high:
            template = tr("any of: {options} (at most {max}); separate several with 、 or ,")
        else:
            template = tr("any of: {options}; separate several with 、 or ,")
        return template.format(options=labels, min=low, max=high)


FIELD_TYPE = MultiSelectType()
