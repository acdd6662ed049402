"""Formulas: a value computed from other fields with an Excel-like expression.

The runtime evaluates ``expression`` on save and stores the result, so lists,
filters and exports read it like any other column. The value's kind follows
``result``; everything that varies by result lives in one small class per result.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import BigInteger, Boolean, Date, Text
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldSpecBase, FieldType, FieldValueError, SpecProblem
from widgets.types._shared import ScaledDecimal
from widgets.types.number import MAX_ABS, number_text, number_value

ResultKind = Literal["number", "text", "date", "boolean"]


class FormulaSpec(FieldSpecBase):
    expression: str = Field(default="", max_length=2000)
    result: ResultKind = "number"
    decimals: int = Field(default=2, ge=0, le=6)


class NumberResult:
    def coerce(self, spec: FormulaSpec, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        result = number_value(spec.decimals, value)
        if result is not None and not -MAX_ABS < result < MAX_ABS:
            raise FieldValueError(tr("the result is too large"))
        return result

    def sql_type(self, spec: FormulaSpec) -> TypeEngine:
        return BigInteger() if spec.decimals == 0 else ScaledDecimal(spec.decimals)

    def to_json(self, value: Any) -> Any:
        return value if isinstance(value, int) else str(value)

    def display(self, spec: FormulaSpec, value: Any) -> str:
        return number_text(value, spec.decimals)

    def to_excel(self, value: Any) -> Any:
        return value

    def number_format(self, spec: FormulaSpec) -> str | None:
        return "0" if spec.decimals == 0 else "0." + "0" * spec.decimals

    def describe(self, expression: str) -> str:
        return tr("computed number (= {expression}); leave empty").format(expression=expression)

    def samples(self, spec: FormulaSpec) -> list[Any]:
        return [self.coerce(spec, "1234.5"), self.coerce(spec, "-3"), self.coerce(spec, "0")]


class TextResult:
    def coerce(self, spec: FormulaSpec, value: Any) -> Any:
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, date):
            value = value.isoformat()
        if not isinstance(value, (str, int, float, Decimal)):
            raise FieldValueError(tr("the result is not text"))
        text = str(value)
        return text if text.strip() else None

    def sql_type(self, spec: FormulaSpec) -> TypeEngine:
        return Text()

    def to_json(self, value: Any) -> Any:
        return value

    def display(self, spec: FormulaSpec, value: Any) -> str:
        return value

    def to_excel(self, value: Any) -> Any:
        return value

    def number_format(self, spec: FormulaSpec) -> str | None:
        return None

    def describe(self, expression: str) -> str:
        return tr("computed text (= {expression}); leave empty").format(expression=expression)

    def samples(self, spec: FormulaSpec) -> list[Any]:
        return ["张伟 · ICU", "overdue"]


EXCEL_EPOCH = date(1899, 12, 30)
DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


class DateResult:
    def coerce(self, spec: FormulaSpec, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 2958466:
            return EXCEL_EPOCH + timedelta(days=int(value))  # an Excel serial day
        if isinstance(value, str):
            match = DATE_RE.fullmatch(value.strip().split("T")[0].split(" ")[0])
            if match:
                try:
                    return date(*(int(part) for part in match.groups()))
                except ValueError:
                    pass
            if not value.strip():
                return None
        raise FieldValueError(tr("the result is not a date like 2024-03-15"))

    def sql_type(self, spec: FormulaSpec) -> TypeEngine:
        return Date()

    def to_json(self, value: Any) -> Any:
        return value.isoformat()

    def display(self, spec: FormulaSpec, value: Any) -> str:
        return value.isoformat()

    def to_excel(self, value: Any) -> Any:
        return value

    def number_format(self, spec: FormulaSpec) -> str | None:
        return "yyyy-mm-dd"

    def describe(self, expression: str) -> str:
        return tr("computed date (= {expression}); leave empty").format(expression=expression)

    def samples(self, spec: FormulaSpec) -> list[Any]:
        return [date(2024, 3, 15), date(2025, 12, 31)]


TRUE_WORDS = {"true", "yes", "y", "1", "是", "对", "✓", "√"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "不", "✗", "×"}


class BooleanResult:
    def coerce(self, spec: FormulaSpec, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float, Decimal)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = value.strip().lower()
            if word in TRUE_WORDS or word in FALSE_WORDS:
                return word in TRUE_WORDS
            if not word:
                return None
        raise FieldValueError(tr("the result is not yes or no"))

    def sql_type(self, spec: FormulaSpec) -> TypeEngine:
        return Boolean()

    def to_json(self, value: Any) -> Any:
        return value

    def display(self, spec: FormulaSpec, value: Any) -> str:
        return tr("Yes") if value else tr("No")

    def to_excel(self, value: Any) -> Any:
        return value

    def number_format(self, spec: FormulaSpec) -> str | None:
        return None

    def describe(self, expression: str) -> str:
        return tr("computed boolean (= {expression}); leave empty").format(expression=expression)

    def samples(self, spec: FormulaSpec) -> list[Any]:
        return [True, False]


RESULTS: dict[str, NumberResult | TextResult | DateResult | BooleanResult] = {
    "number": NumberResult(),
    "text": TextResult(),
    "date": DateResult(),
    "boolean": BooleanResult(),
}


class FormulaType(FieldType[FormulaSpec]):
    name = "formula"
    spec_model = FormulaSpec
    title = "Formula"
    title_zh = "公式"
    group = "advanced"
    icon = "mdi6.function-variant"
    editor = "widgets.editors.formula:FormulaEditor"
    description = "A value computed from other fields, like =qty * price in Excel."
    computed = True
    sample_attributes = {"expression": "ROUND(qty * price, 2)", "result": "number", "decimals": 2}

    def check_spec(self, spec: FormulaSpec) -> list[SpecProblem]:
        # A default makes no sense here; report that alone, not also its value.
        problems = [p for p in super().check_spec(spec) if p.attribute != "default"]
        if not spec.expression.strip():
            problems.append(SpecProblem("expression", tr("enter the formula")))
        if spec.default is not None:
            problems.append(SpecProblem("default", tr("a formula is computed; it has no default")))
        return problems

    def expressions(self, spec: FormulaSpec) -> dict[str, ExprType | None]:
        return {"expression": spec.result}

    def expression_type(self, spec: FormulaSpec) -> ExprType:
        return spec.result

    def sample_values(self, spec: FormulaSpec) -> list[Any]:
        return RESULTS[spec.result].samples(spec)

    def coerce(self, spec: FormulaSpec, value: Any) -> Any:
        return None if value is None else RESULTS[spec.result].coerce(spec, value)

    def sql_type(self, spec: FormulaSpec) -> TypeEngine:
        return RESULTS[spec.result].sql_type(spec)

    def to_json(self, spec: FormulaSpec, value: Any) -> Any:
        return None if value is None else RESULTS[spec.result].to_json(value)

    def display(self, spec: FormulaSpec, value: Any, context: Any = None) -> str:
        return "" if value is None else RESULTS[spec.result].display(spec, value)

    def to_excel(self, spec: FormulaSpec, value: Any, context: Any = None) -> Any:
        return None if value is None else RESULTS[spec.result].to_excel(value)

    def excel_number_format(self, spec: FormulaSpec) -> str | None:
        return RESULTS[spec.result].number_format(spec)

    def describe(self, spec: FormulaSpec) -> str:
        return RESULTS[spec.result].describe(spec.expression)


FIELD_TYPE = FormulaType()
