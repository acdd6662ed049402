"""Yes or no. ``False`` is a real answer, not an empty field."""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import Boolean
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldSpecBase, FieldType, FieldValueError

TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "是", "对", "有", "√", "✓", "✔"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "否", "错", "无", "没有", "×", "✗", "✘"})


def hint() -> str:
    """What to enter when a value is not a yes or a no."""
    return tr("please answer yes or no (是/否)")


class CheckboxSpec(FieldSpecBase):
    pass


class CheckboxType(FieldType[CheckboxSpec]):
    name = "checkbox"
    spec_model = CheckboxSpec
    title = "Checkbox"
    title_zh = "是/否"
    group = "basic"
    icon = "mdi6.checkbox-marked-outline"
    editor = "widgets.editors.checkbox:CheckboxEditor"
    description = "A yes/no question answered with a tick (urgent, consent given)."

    def sample_values(self, spec: CheckboxSpec) -> list[Any]:
        return [True, False]

    def cell_checker(self, spec):
        slow = super().cell_checker(spec)
        return lambda value: value if value is True or value is False else slow(value)

    def coerce(self, spec: CheckboxSpec, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            if value in (0, 1):
                return bool(value)
            raise FieldValueError(hint())
        if isinstance(value, str):
            return self._from_word(value)
        raise FieldValueError(hint())

    def _from_word(self, text: str) -> bool | None:
        word = unicodedata.normalize("NFKC", text).strip().casefold()
        if word == "":
            return None
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise FieldValueError(hint())

    def validate(self, spec: CheckboxSpec, value: Any) -> None:
        if value is not None and not isinstance(value, bool):
            raise FieldValueError(hint())

    def is_empty(self, value: Any) -> bool:
        return value is None or value == ""

    def sql_type(self, spec: CheckboxSpec) -> TypeEngine:
        return Boolean()

    def display(self, spec: CheckboxSpec, value: Any, context: Any = None) -> str:
        if value is None:
            return ""
        return tr("Yes") if value else tr("No")

    def to_excel(self, spec: CheckboxSpec, value: Any, context: Any = None) -> Any:
        return value

    def expression_type(self, spec: CheckboxSpec) -> ExprType:
        return "boolean"

    def describe(self, spec: CheckboxSpec) -> str:
        return tr("yes or no (是/否, TRUE/FALSE, 1/0)")


FIELD_TYPE = CheckboxType()
