"""The permission policy: deny by default, admin all, the union of a user's roles."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from runtime.services.actor import Actor
from runtime.services.permissions import PermissionDenied, Policy, in_scope
from runtime.spec import parse_app_spec
from runtime.spec.models import AppSpec, Grant, RoleSpec
from runtime.store.query import RowScope
from runtime.store.repository import scope_condition
from runtime.store.schema import system_columns


def spec_with_roles(*roles: dict) -> AppSpec:
    return parse_app_spec(
        {
            "format": "formwright-app",
            "spec_version": 1,
            "id": "clinic",
            "version": 1,
            "title": "Clinic",
            "forms": [
                {
                    "key": "visit",
                    "title": "Visit",
                    "fields": [
                        {"key": "head", "type": "section", "label": "Visit"},
                        {"key": "patient", "type": "text", "label": "Patient"},
                        {"key": "diagnosis", "type": "text", "label": "Diagnosis"},
                        {"key": "phone", "type": "phone", "label": "Phone"},
                        {"key": "fee", "type": "number", "label": "Fee"},
                    ],
                },
                {
                    "key": "ward",
                    "title": "Ward",
                    "fields": [{"key": "name", "type": "text", "label": "Name"}],
                },
            ],
            "roles": list(roles),
        }
    )


NURSE = {
    "key": "nurse",
    "title": "Nurse",
    "grants": {
        "visit": {
            "actions": ["create", "read", "update"],
            "scope": "own",
            # fee and phone are not listed: hidden (deny by default)
            "fields": {"patient": "edit", "diagnosis": "readonly"},
        }
    },
}
DOCTOR = {
    "key": "doctor",
    "title": "Doctor",
    "grants": {
        "visit": {
            "actions": ["read", "update", "export"],
            "scope": "department_tree",
            "fields": {
                "patient": "edit",
                "diagnosis": "edit",
                "fee": "readonly",
                "phone": "hidden",
            },
        }
    },
}
CLERK = {
    "key": "clerk",
    "title": "Clerk",
    "grants": {
        "visit": {
            "actions": ["read"],
            "scope": "department",
            "fields": {"patient": "edit", "diagnosis": "edit", "phone": "edit", "fee": "edit"},
        }
    },
}


def actor(*roles: str, admin: bool = False, **extra) -> Actor:
    return Actor(
        user_id=7,
        username="li",
        display_name="Li Na",
        is_admin=admin,
        roles={"clinic": frozenset(roles)},
        **extra,
    )


SPEC = spec_with_roles(NURSE, DOCTOR, CLERK)


def test_deny_by_default():
    policy = Policy(SPEC, actor())
    assert not policy.allowed("visit", "read")
    assert policy.scope("visit", "read") is None
    assert policy.field_mode("visit", "patient") == "hidden"
    assert policy.visible_fields("visit") == []
    assert policy.writable_fields("visit") == []
    assert policy.readable_forms() == []
    with pytest.raises(PermissionDenied, match="Li Na may not see 'Visit'"):
        policy.require("visit", "read")
    # A granted role does not open other forms.
    nurse = Policy(SPEC, actor("nurse"))
    assert not nurse.allowed("ward", "read")
    assert nurse.actions("ward") == frozenset()
    assert not nurse.allowed("visit", "delete")
    assert nurse.readable_forms() == ["visit"]


def test_roles_of_other_apps_do_not_count():
    other = Actor(user_id=7, username="li", roles={"pharmacy": frozenset({"nurse"})})
    assert not Policy(SPEC, other).allowed("visit", "read")


def test_admin_sees_everything():
    for policy in (Policy(SPEC, actor(admin=True)), Policy(SPEC, actor("admin"))):
        assert policy.actions("ward") == {
            "create",
            "read",
            "update",
            "delete",
            "export",
            "import",
        }
        assert policy.scope("visit", "delete") == "all"
        assert policy.field_mode("visit", "fee") is None
        assert policy.visible_fields("visit") == ["patient", "diagnosis", "phone", "fee"]
        assert policy.writable_fields("visit", "create") == policy.visible_fields("visit")
        assert policy.redact("visit", {"fee": 3, "phone": "x"}) == {"fee": 3, "phone": "x"}
    # Even an admin cannot act on a form the app does not have.
    assert not Policy(SPEC, actor(admin=True)).allowed("nothing", "read")


def test_single_role():
    policy = Policy(SPEC, actor("nurse"))
    assert policy.actions("visit") == {"create", "read", "update"}
    assert policy.scope("visit", "read") == "own"
    assert policy.scope("visit", "export") is None
    assert policy.field_mode("visit", "patient") is None
    assert policy.field_mode("visit", "diagnosis") == "readonly"
    assert policy.field_mode("visit", "fee") == "hidden"
    # Layout items are not fields.
    assert policy.visible_fields("visit") == ["patient", "diagnosis"]
    assert policy.writable_fields("visit") == ["patient"]
    assert policy.redact("visit", {"patient": "Wang", "fee": 12, "phone": "1"}) == {
        "patient": "Wang"
    }
    policy.check_writes("visit", ["patient"], "update")
    with pytest.raises(PermissionDenied, match="Diagnosis"):
        policy.check_writes("visit", ["patient", "diagnosis"], "update")


def test_union_of_roles():
    policy = Policy(SPEC, actor("nurse", "doctor", "clerk"))
    assert policy.actions("visit") == {"create", "read", "update", "export"}
    # The widest scope among the roles granting the action.
    assert policy.scope("visit", "read") == "department_tree"
    assert policy.scope("visit", "create") == "own"  # only the nurse creates
    assert policy.scope("visit", "export") == "department_tree"
    # Most permissive mode: hidden for the nurse, readonly for the doctor, edit for
    # the clerk → visible and writable… by the form's grants.
    assert policy.field_mode("visit", "fee") is None
    assert policy.field_mode("visit", "diagnosis") is None
    # Per action: only roles granting that action count.
    assert policy.field_mode("visit", "fee", "update") == "readonly"  # nurse hid, doctor ro
    assert policy.field_mode("visit", "phone", "update") == "hidden"
    assert policy.field_mode("visit", "fee", "create") == "hidden"
    assert policy.writable_fields("visit", "update") == ["patient", "diagnosis"]
    assert policy.writable_fields("visit", "create") == ["patient"]
    assert policy.writable_fields("visit", "delete") == []
    assert policy.visible_fields("visit") == ["patient", "diagnosis", "phone", "fee"]

    two = Policy(SPEC, actor("nurse", "doctor"))
    assert two.field_mode("visit", "phone") == "hidden"  # hidden in both
    assert two.field_mode("visit", "fee") == "readonly"  # hidden + readonly
    assert "phone" not in two.visible_fields("visit")


def test_a_field_added_later_is_hidden_until_granted():
    """Deny by default: a new version's new field is invisible to every role."""
    data = SPEC.to_json_dict()
    data["forms"][0]["fields"].append({"key": "allergy", "type": "text", "label": "Allergy"})
    data["forms"].append({"key": "billing", "title": "Billing", "fields": []})
    newer = parse_app_spec(data)
    for roles in (("nurse",), ("doctor",), ("clerk",), ("nurse", "doctor", "clerk")):
        policy = Policy(newer, actor(*roles))
        assert policy.field_mode("visit", "allergy") == "hidden"
        assert "allergy" not in policy.visible_fields("visit")
        assert policy.actions("billing") == frozenset()
    assert Policy(newer, actor(admin=True)).field_mode("visit", "allergy") is None


def test_dangling_references_are_ignored():
    ghost = RoleSpec(
        key="ghost",
        title="Ghost",
        grants={
            "removed_form": Grant(actions=["read", "delete"], scope="all"),
            "visit": Grant(
                actions=["read"],
                scope="department",
                fields={
                    "gone": "readonly",
                    "patient": "edit",
                    "diagnosis": "edit",
                    "phone": "edit",
                },
            ),
        },
    )
    spec = SPEC.model_copy(update={"roles": [*SPEC.roles, ghost]})
    policy = Policy(spec, actor("ghost", "retired_role"))
    assert not policy.allowed("removed_form", "read")
    assert policy.scope("removed_form", "read") is None
    assert policy.field_mode("removed_form", "x") == "hidden"
    assert policy.allowed("visit", "read")
    assert policy.field_mode("visit", "gone") == "hidden"  # not a field of the form
    assert policy.visible_fields("visit") == ["patient", "diagnosis", "phone"]
    # A role that grants nothing (empty actions) gives nothing either.
    empty = RoleSpec(key="empty", title="Empty", grants={"ward": Grant(actions=[])})
    spec = SPEC.model_copy(update={"roles": [empty]})
    assert Policy(spec, actor("empty")).field_mode("ward", "name") == "hidden"


def test_row_checks_in_python():
    member = actor(
        "nurse",
        "doctor",
        department_ids=frozenset({2}),
        primary_department=2,
        department_tree_ids=frozenset({2, 5, 6}),
    )
    policy = Policy(SPEC, member)
    assert policy.row_allowed("visit", "read", created_by=99, owner_department=6)
    assert not policy.row_allowed("visit", "read", created_by=99, owner_department=3)
    assert policy.row_allowed("visit", "create", created_by=7, owner_department=None)
    assert not policy.row_allowed("visit", "create", created_by=8, owner_department=2)
    with pytest.raises(PermissionDenied, match="another user"):
        policy.require_row("visit", "create", created_by=8, owner_department=2)
    assert not in_scope(None, member, 7, 2)
    assert in_scope("all", member, None, None)
    # department_tree without an expanded set falls back to the departments.
    plain = Actor(user_id=1, username="x", department_ids=frozenset({2}))
    assert in_scope("department_tree", plain, None, 2)
    assert not in_scope("department", plain, None, None)


@pytest.fixture
def record_table(db_url):
    engine = sa.create_engine(db_url)
    metadata = sa.MetaData()
    table = sa.Table("clinic__visit", metadata, *system_columns())
    metadata.create_all(engine)
    now = datetime(2024, 1, 1)
    rows = [
        # id, created_by, owner_department
        (1, 7, 2),
        (2, 8, 2),
        (3, 8, 5),
        (4, 7, None),
        (5, 9, 3),
        (6, None, 6),
    ]
    with engine.begin() as connection:
        for ident, created_by, department in rows:
            connection.execute(
                table.insert().values(
                    id=ident,
                    created_by=created_by,
                    owner_department=department,
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )
    yield engine, table
    engine.dispose()


def test_scope_condition_on_both_engines(record_table):
    engine, table = record_table
    member = actor(
        department_ids=frozenset({2}),
        department_tree_ids=frozenset({2, 5, 6}),
        primary_department=2,
    )

    def ids(scope, who=member):
        kind = scope or "none"
        departments = {
            "department": who.department_ids,
            "department_tree": who.department_tree_ids | who.department_ids,
        }
        row_scope = RowScope(kind, who.user_id, frozenset(departments.get(kind, ())))
        condition = scope_condition(table, row_scope)
        query = sa.select(table.c.id).where(condition).order_by(table.c.id)
        with engine.connect() as connection:
            return [row.id for row in connection.execute(query)]

    assert ids("all") == [1, 2, 3, 4, 5, 6]
    assert ids("own") == [1, 4]
    assert ids("department") == [1, 2]
    assert ids("department_tree") == [1, 2, 3, 6]
    assert ids(None) == []
    assert ids("own", Actor(user_id=None, username="system")) == []
    assert ids("department", actor()) == []
    # Values are bound, never spliced into the SQL text.
    sql = str(scope_condition(table, RowScope("department", 7, frozenset({2}))).compile(engine))
    assert "2" not in sql
    policy = Policy(SPEC, Actor(user_id=7, username="li", roles={"clinic": frozenset({"nurse"})}))
    assert policy.row_scope("visit", "read") == RowScope("own", 7, frozenset())
    assert policy.row_scope("ward", "read") == RowScope("none")
    with engine.connect() as connection:
        condition = scope_condition(table, policy.row_scope("visit", "read"))
        query = sa.select(table.c.id).where(condition)
        assert sorted(row.id for row in connection.execute(query)) == [1, 4]
