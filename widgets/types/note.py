"""A static text on the form (instructions, a reminder): layout only."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import FieldSpecBase, FieldType, SpecProblem
from widgets.types.section import layout_problems


class NoteSpec(FieldSpecBase):
    text: str = Field(default="", max_length=5000)


class NoteType(FieldType[NoteSpec]):
    name = "note"
    spec_model = NoteSpec
    title = "Note"
    title_zh = "说明文字"
    group = "layout"
    icon = "mdi6.note-text-outline"
    editor = "widgets.editors.note:NoteEditor"
    description = "Fixed text shown on the form: instructions or a reminder (may be several lines)."
    has_value = False
    sample_attributes = {
        "text": "请核对患者身份后再填写。\nCheck the patient's identity before filling in."
    }

    def check_spec(self, spec: NoteSpec) -> list[SpecProblem]:
        return super().check_spec(spec) + layout_problems(spec)

    def sql_type(self, spec: NoteSpec) -> TypeEngine | None:
        return None

    def describe(self, spec: NoteSpec) -> str:
        return tr("note (no value)")


FIELD_TYPE = NoteType()
