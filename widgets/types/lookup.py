"""Lookup: a reference to one record of another form, shown by one of its fields."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from resources.messages import tr
from widgets.base import FieldSpecBase, Reference, SpecProblem
from widgets.references import RecordRef
from widgets.types.user import ReferenceFieldType, ReferenceTexts


class LookupSpec(FieldSpecBase):
    form: str = Field(default="", max_length=40)
    display_field: str = Field(default="", max_length=40)


class LookupType(ReferenceFieldType[LookupSpec]):
    name = "lookup"
    spec_model = LookupSpec
    title = "Lookup"
    title_zh = "关联记录"
    group = "relations"
    icon = "mdi6.link-variant"
    editor = "widgets.editors.lookup:LookupEditor"
    description = "Links to a record of another form, e.g. the device of a repair request."
    sample_attributes = {"form": "device", "display_field": "name"}

    def texts(self) -> ReferenceTexts:
        return ReferenceTexts(
            tr("please choose a record from the list"),
            tr("only one record can be chosen"),
            tr("no record named '{name}'"),
            tr("record names, several separated by 、 or ,"),
            tr("record name (or #id)"),
        )

    def reference_kind(self, spec: LookupSpec) -> RecordRef:
        return RecordRef(spec.form, spec.display_field)

    def references(self, spec: LookupSpec) -> list[Reference]:
        refs = []
        if spec.form:
            refs.append(Reference("form", "form", spec.form))
            if spec.display_field:
                refs.append(Reference("display_field", "field", (spec.form, spec.display_field)))
        return refs

    def check_spec(self, spec: LookupSpec) -> list[SpecProblem]:
        problems = super().check_spec(spec)
        if not spec.form:
            problems.append(SpecProblem("form", tr("choose the form to look up")))
        if not spec.display_field:
            problems.append(SpecProblem("display_field", tr("choose the field to show")))
        return problems

    def sample_values(self, spec: LookupSpec) -> list[Any]:
        return [1, 17, 2048]

    def describe(self, spec: LookupSpec) -> str:
        if not spec.display_field:  # an unfinished spec (check_spec says so)
            return tr("the of a record of form '{form}' (or #id)").format(form=spec.form)
        return tr("the {field} of a record of form '{form}' (or #id)").format(
            field=spec.display_field, form=spec.form
        )


FIELD_TYPE = LookupType()
