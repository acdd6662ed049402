"""Multi-line text (notes, descriptions, nursing observations)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from resources.messages import tr
from widgets.base import FieldSpecBase
from widgets.types._shared import StringFieldType


class TextAreaSpec(FieldSpecBase):
    max_length: int | None = Field(default=None, ge=1, le=100_000)
    placeholder: str = ""


class TextAreaType(StringFieldType[TextAreaSpec]):
    name = "textarea"
    spec_model = TextAreaSpec
    title = "Long text"
    title_zh = "多行文本"
    group = "basic"
    icon = "mdi6.form-textarea"
    editor = "widgets.editors.textarea:TextAreaEditor"
    description = "Several lines of free text: notes, descriptions, observations."
    #: No spec limit means an unbounded TEXT column.
    default_length = None

    def sample_values(self, spec: TextAreaSpec) -> list[Any]:
        return [
            "患者夜间睡眠良好。\n晨起体温 36.8℃，无不适主诉。",
            "Pump alarm at 03:10, line re-primed.",
            '=HYPERLINK("x")',
        ]

    def coerce(self, spec: TextAreaSpec, value: Any) -> Any:
        """Line breaks are stored as ``\\n`` (Windows clipboards and cells bring ``\\r\\n``)."""
        text = super().coerce(spec, value)
        return None if text is None else text.replace("\r\n", "\n").replace("\r", "\n")

    def describe(self, spec: TextAreaSpec) -> str:
        if spec.max_length:
            return tr("text, may have several lines, at most {limit} characters").format(
                limit=spec.max_length
            )
        return tr("text, may have several lines")


FIELD_TYPE = TextAreaType()
