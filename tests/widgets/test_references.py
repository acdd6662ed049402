"""The typed reference kinds (widgets/references.py) and what field types declare."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import pytest

from widgets.base import ReferenceSource, default_value
from widgets.references import (
    DEPARTMENT,
    USER,
    DepartmentRef,
    RecordRef,
    ReferenceKind,
    UserRef,
    as_reference_kind,
)
from widgets.registry import default_registry


def test_a_kind_is_its_plain_spelling_as_a_key() -> None:
    device = RecordRef("device", "name")
    assert USER == "user" and DEPARTMENT == "department"
    assert device == ("record", "device", "name") and device[1] == "device"
    assert device != RecordRef("device", "code") and device != ("record", "device")
    names = {(USER, 1): "Zhang Wei", (device, 17): "Pump P-17"}
    assert names[("user", 1)] == "Zhang Wei"
    assert names[(("record", "device", "name"), 17)] == "Pump P-17"
    with pytest.raises(FrozenInstanceError):
        device.form = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("plain", "kind"),
    [
        ("user", UserRef()),
        ("department", DepartmentRef()),
        (("record", "device"), RecordRef("device", "")),
        (("record", "device", "name"), RecordRef("device", "name")),
        (RecordRef("device", "name"), RecordRef("device", "name")),
    ],
)
def test_plain_spellings_read_back(plain, kind) -> None:
    read = as_reference_kind(plain)
    assert read == kind and type(read) is type(kind)


@pytest.mark.parametrize("bad", ["role", ("record",), ("record", "a", "b", "c"), 5, ["user"], ()])
def test_anything_else_is_not_a_kind(bad) -> None:
    with pytest.raises(ValueError, match="not a reference kind"):
        as_reference_kind(bad)


def test_a_new_kind_is_one_class_and_its_tag_is_its_own() -> None:
    @dataclass(frozen=True, eq=False)
    class DepartmentHeadRef(ReferenceKind):
        tag = "test_department_head"
        department: int

    try:
        assert as_reference_kind(("test_department_head", 3)) == DepartmentHeadRef(3)
        with pytest.raises(ValueError, match="already defined"):

            @dataclass(frozen=True, eq=False)
            class Again(ReferenceKind):
                tag = "test_department_head"
    finally:
        del ReferenceKind._by_tag["test_department_head"]


class Session(ReferenceSource):
    def current_user(self):
        return 7, "Zhang Wei"

    def current_department(self):
        return 3, "ICU"


def test_fields_declare_what_they_reference() -> None:
    lookup = default_registry.get("lookup")
    spec = lookup.new_spec("device", "Device", form="device", display_field="name")
    assert lookup.reference_kind(spec) == RecordRef("device", "name")
    assert default_registry.get("user").reference_kind(spec) is USER
    assert default_registry.get("text").reference_kind(spec) is None


@pytest.mark.parametrize(
    ("type_name", "multiple", "expected"),
    [("user", False, 7), ("user", True, [7]), ("department", True, [3])],
)
def test_people_fields_start_as_the_current_ones(type_name, multiple, expected) -> None:
    field_type = default_registry.get(type_name)
    spec = field_type.new_spec("who", "Who", multiple=multiple, default_current=True)
    assert field_type.follows_current(spec)
    assert default_value(field_type, spec, Session()) == expected
    assert default_value(field_type, spec, ReferenceSource()) is None
    plain = field_type.new_spec("who", "Who", multiple=multiple)
    assert not field_type.follows_current(plain)
    assert default_value(field_type, plain, Session()) is None


def test_only_people_kinds_have_a_current_one() -> None:
    assert USER.current(Session()) == (7, "Zhang Wei")
    assert DEPARTMENT.current(Session()) == (3, "ICU")
    assert RecordRef("device", "name").current(Session()) is None
