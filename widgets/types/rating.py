"""A star rating from 1 to ``max`` (satisfaction, pain-free sleep quality...)."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import SmallInteger
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldSpecBase, FieldType, FieldValueError

FULL, EMPTY = "★", "☆"
_NUMBER_TEXT = re.compile(r"(\d{1,2})\s*(?:/\s*\d{1,2}|星|颗星|分|stars?)?", re.IGNORECASE)


class RatingSpec(FieldSpecBase):
    max: int = Field(default=5, ge=3, le=10)


class RatingType(FieldType[RatingSpec]):
    name = "rating"
    spec_model = RatingSpec
    title = "Rating"
    title_zh = "评分"
    group = "advanced"
    icon = "mdi6.star-outline"
    editor = "widgets.editors.rating:RatingEditor"
    description = "A number of stars, 1 to 3–10 (0 stars means not rated)."
    sample_attributes = {"max": 5}

    def sample_values(self, spec: RatingSpec) -> list[Any]:
        return [1, 3, spec.max]

    def coerce(self, spec: RatingSpec, value: Any) -> Any:
        """A whole number of stars; 0 means "not rated" and is ``None``."""
        if value is None:
            return None
        if isinstance(value, str):
            value = self._from_text(value)
            if value is None:
                return None
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise FieldValueError(tr("1 to {max} stars").format(max=spec.max))
        if value != int(value):
            raise FieldValueError(
                tr("please give a whole number of stars (1 to {max} stars)").format(max=spec.max)
            )
        return int(value) or None

    def _from_text(self, text: str) -> int | None:
        text = unicodedata.normalize("NFKC", text).strip()
        if text == "":
            return None
        if set(text) <= {FULL, EMPTY, "*"}:
            return text.count(FULL) + text.count("*")
        match = _NUMBER_TEXT.fullmatch(text)
        if match is None:
            raise FieldValueError(tr("please give a number of stars, like 3"))
        return int(match.group(1))

    def validate(self, spec: RatingSpec, value: Any) -> None:
        if value is not None and not 1 <= value <= spec.max:
            raise FieldValueError(tr("please give 1 to {max} stars").format(max=spec.max))

    def sql_type(self, spec: RatingSpec) -> TypeEngine:
        return SmallInteger()

    def display(self, spec: RatingSpec, value: Any, context: Any = None) -> str:
        if value is None:
            return ""
        return FULL * value + EMPTY * max(spec.max - value, 0)

    def to_excel(self, spec: RatingSpec, value: Any, context: Any = None) -> Any:
        return value

    def excel_number_format(self, spec: RatingSpec) -> str:
        return "0"

    def expression_type(self, spec: RatingSpec) -> ExprType:
        return "number"

    def describe(self, spec: RatingSpec) -> str:
        return tr("whole number of stars from 1 to {max}").format(max=spec.max)


FIELD_TYPE = RatingType()
