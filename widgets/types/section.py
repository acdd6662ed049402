"""A titled group: layout only. It holds the items after it until the next section."""

from __future__ import annotations

from sqlalchemy.types import TypeEngine

from widgets.base import FieldSpecBase, FieldType, SpecProblem


def layout_problems(spec: FieldSpecBase) -> list[SpecProblem]:
    """Value attributes make no sense on a layout item: flag them instead of ignoring."""
    problems = []
    for attribute in ("required", "unique", "readonly"):
        if getattr(spec, attribute):
            problems.append(SpecProblem(attribute, f"a {spec.type} holds no value"))
    if spec.default is not None:
        problems.append(SpecProblem("default", f"a {spec.type} holds no value"))
    return problems


class SectionSpec(FieldSpecBase):
    collapsed: bool = False


class SectionType(FieldType):
    name = "section"
    spec_model = SectionSpec
    title = "Section"
    title_zh = "分组标题"
    group = "layout"
    icon = "mdi6.format-section"
    editor = "widgets.editors.section:SectionEditor"
    description = "A titled group of the fields after it; can start collapsed or be hidden."
    has_value = False
    groups_following = True

    def check_spec(self, spec: SectionSpec) -> list[SpecProblem]:
        return super().check_spec(spec) + layout_problems(spec)

    def sql_type(self, spec: SectionSpec) -> TypeEngine | None:
        return None

    def describe(self, spec: SectionSpec) -> str:
        return f"section “{spec.label}” (no value)"


FIELD_TYPE = SectionType()
