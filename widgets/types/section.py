"""A titled group: layout only. It holds the items after it until the next section."""

from __future__ import annotations

from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import FieldSpecBase, FieldType, SpecProblem


def layout_problems(spec: FieldSpecBase) -> list[SpecProblem]:
    """Value attributes make no sense on a layout item: flag them instead of ignoring."""
    problems = []
    if spec.type == "section":
        message = tr("a section holds no value")
    elif spec.type == "note":
        message = tr("a note holds no value")
    else:
        message = tr("a {type} holds no value").format(type=spec.type)
    for attribute in ("required", "unique", "readonly"):
        if getattr(spec, attribute):
            problems.append(SpecProblem(attribute, message))
    if spec.default is not None:
        problems.append(SpecProblem("default", message))
    return problems


class SectionSpec(FieldSpecBase):
    collapsed: bool = False


class SectionType(FieldType[SectionSpec]):
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
        return tr("section “{label}” (no value)").format(label=spec.label)


FIELD_TYPE = SectionType()
