"""Departments of the organisation (ward, clinic, office): ids with names."""

from __future__ import annotations

from typing import Any

from resources.messages import tr
from widgets.references import DEPARTMENT, ReferenceKind
from widgets.types.user import PeopleFieldType, PeopleSpec, ReferenceTexts


class DepartmentSpec(PeopleSpec):
    pass


class DepartmentType(PeopleFieldType[DepartmentSpec]):
    name = "department"
    spec_model = DepartmentSpec
    title = "Department"
    title_zh = "部门"
    group = "people"
    icon = "mdi6.office-building"
    editor = "widgets.editors.department:DepartmentEditor"
    description = "A ward, clinic or office (or several), chosen from the organisation."
    sample_attributes = {"multiple": True}

    def texts(self) -> ReferenceTexts:
        return ReferenceTexts(
            tr("please choose a department from the list"),
            tr("only one department can be chosen"),
            tr("no department named '{name}'"),
            tr("department names, several separated by 、 or ,"),
            tr("department name (or #id)"),
        )

    def reference_kind(self, spec: DepartmentSpec) -> ReferenceKind:
        return DEPARTMENT

    def sample_values(self, spec: DepartmentSpec) -> list[Any]:
        return [[3, 5, 12], [8]] if spec.multiple else [3, 8]


FIELD_TYPE = DepartmentType()
