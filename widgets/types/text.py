"""Single-line text."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from resources.messages import tr
from widgets.base import FieldSpecBase, FieldValueError, SpecProblem
from widgets.types._pattern import PatternRefused, compile_pattern, pattern_matches
from widgets.types._shared import StringFieldType


class TextSpec(FieldSpecBase):
    max_length: int | None = Field(default=None, ge=1, le=4000)
    pattern: str | None = None
    placeholder: str = ""


class TextType(StringFieldType[TextSpec]):
    name = "text"
    spec_model = TextSpec
    title = "Text"
    title_zh = "单行文本"
    group = "basic"
    icon = "mdi6.form-textbox"
    editor = "widgets.editors.text:TextEditor"
    description = "One line of text: names, numbers with letters, short answers."

    def sample_values(self, spec: TextSpec) -> list[Any]:
        return ["Infusion pump", "输液泵 B-12", "=SUM(A1)"]

    def check_spec(self, spec: TextSpec) -> list[SpecProblem]:
        problems = super().check_spec(spec)
        if spec.pattern is not None:
            try:
                compile_pattern(spec.pattern)
            except PatternRefused as error:
                problems.append(SpecProblem("pattern", str(error)))
        return problems

    def validate(self, spec: TextSpec, value: Any) -> None:
        super().validate(spec, value)
        if value is None:
            return
        if "\n" in value or "\r" in value:
            raise FieldValueError(tr("must be a single line"))
        if spec.pattern and not self.pattern_matches(spec, value):
            raise FieldValueError(tr("does not have the expected format"))

    def pattern_matches(self, spec: TextSpec, value: str) -> bool:
        """Whether ``value`` fits the spec's pattern, in time linear in its length.

        A pattern that check refused (a package not checked) matches nothing;
        without a pattern every value fits.
        """
        if spec.pattern is None:
            return True
        try:
            return pattern_matches(spec.pattern, value)
        except PatternRefused:
            return False

    def cell_checker(self, spec: TextSpec):
        """Plain one-line text within the limit needs no further work."""
        slow = super().cell_checker(spec)
        limit = self.length_limit(spec)
        if spec.pattern or limit is None:
            return slow

        def check(value: Any) -> Any:
            if (
                value.__class__ is str
                and len(value) <= limit
                and value.strip()
                and ("\n" not in value and "\r" not in value and "\x00" not in value)
            ):
                return value
            return slow(value)

        return check

    def describe(self, spec: TextSpec) -> str:
        if spec.max_length:
            return tr("text, at most {limit} characters").format(limit=spec.max_length)
        return tr("text")


FIELD_TYPE = TextType()
