"""The AppSpec document: the single source of truth of an app (``app.json``)."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from widgets.base import KEY_PATTERN, FieldSpec, FieldSpecBase, SpecModel

FORMAT_NAME: Final = "formwright-app"
#: The package format this runtime writes. Older formats are upgraded on load.
SPEC_VERSION = 1

Action = Literal["create", "read", "update", "delete", "export", "import"]
ACTIONS: tuple[str, ...] = ("create", "read", "update", "delete", "export", "import")
Scope = Literal["own", "department", "department_tree", "all"]
#: What a role may do with one field. A field a grant does not list is hidden:
#: deny by default, so a field added in a later version stays invisible to a role
#: until the builder grants it.
FieldMode = Literal["edit", "readonly", "hidden"]


class FormSpec(SpecModel):
    key: str = Field(pattern=KEY_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    icon: str | None = None
    fields: list[FieldSpec] = Field(default_factory=list)

    def field(self, key: str) -> FieldSpecBase | None:
        """A top-level field (or layout item) by key."""
        return next((item for item in self.fields if item.key == key), None)


class SortKey(SpecModel):
    field: str
    desc: bool = False


class ViewSpec(SpecModel):
    key: str = Field(pattern=KEY_PATTERN)
    form: str
    title: str = Field(min_length=1, max_length=200)
    columns: list[str] = Field(default_factory=list)
    filter: str | None = None
    sort: list[SortKey] = Field(default_factory=list)


class Grant(SpecModel):
    """What a role may do with one form: actions, row scope and field modes."""

    actions: list[Action] = Field(default_factory=list)
    scope: Scope = "own"
    fields: dict[str, FieldMode] = Field(default_factory=dict)


class RoleSpec(SpecModel):
    key: str = Field(pattern=KEY_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    grants: dict[str, Grant] = Field(default_factory=dict)


class AppSpec(SpecModel):
    format: Literal["formwright-app"] = FORMAT_NAME
    spec_version: int = SPEC_VERSION
    id: str = Field(pattern=KEY_PATTERN)
    version: int = Field(default=1, ge=1)
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    published: bool = False
    forms: list[FormSpec] = Field(default_factory=list)
    views: list[ViewSpec] = Field(default_factory=list)
    roles: list[RoleSpec] = Field(default_factory=list)

    def form(self, key: str) -> FormSpec | None:
        return next((form for form in self.forms if form.key == key), None)

    def view(self, key: str) -> ViewSpec | None:
        return next((view for view in self.views if view.key == key), None)

    def role(self, key: str) -> RoleSpec | None:
        return next((role for role in self.roles if role.key == key), None)

    def to_json_dict(self) -> dict:
        """The ``app.json`` content: defaults left out so files stay small."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        data.update(format=FORMAT_NAME, spec_version=self.spec_version, version=self.version)
        for form_data, form in zip(data.get("forms", []), self.forms, strict=True):
            form_data["fields"] = [field_json(item) for item in form.fields]
        return data


def field_json(spec: FieldSpecBase) -> dict:
    """One field as it appears in ``app.json``: key, type and label first."""
    data = spec.model_dump(mode="json", exclude_defaults=True)
    head = {"key": spec.key, "type": spec.type, "label": spec.label}
    for name, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict) and "type" in value[0]:
            data[name] = [field_json(child) for child in getattr(spec, name)]
    return head | {name: value for name, value in data.items() if name not in head}
