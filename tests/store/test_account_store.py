"""The stores of users, roles, memberships and departments, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest

from runtime.store import accounts, org
from runtime.store.schema import users_table

NOW = datetime(2024, 5, 1, 8, 0)


def add_user(workspace, username: str, *, is_admin: bool = False) -> int:
    with workspace.engine.begin() as connection:
        return accounts.insert_user(connection, username, "", NOW, is_admin=is_admin)


def user(workspace, username: str) -> accounts.StoredUser:
    with workspace.reader() as connection:
        found = accounts.find_user_by_name(connection, username)
    assert found is not None
    return found


def test_a_user_is_found_by_any_case_of_the_name(workspace):
    user_id = add_user(workspace, "  Zhang.Wei ")
    with workspace.reader() as connection:
        for typed in ("zhang.wei", "ZHANG.WEI", " Zhang.Wei"):
            assert accounts.find_user_by_name(connection, typed).id == user_id
        assert accounts.find_user_by_name(connection, "zhang") is None
        assert accounts.find_user_by_name(connection, "zhang\x00wei") is None
        assert accounts.user_ids_by_key(connection) == {"zhang.wei": user_id}
    stored = user(workspace, "zhang.wei")
    assert (stored.username, stored.display_name) == ("Zhang.Wei", "Zhang.Wei")
    assert stored.password_hash is None and stored.active and not stored.is_admin
    assert "password_hash" not in repr(stored)


def test_a_row_without_a_name_key_is_found_by_its_exact_name(workspace):
    """Rows written by older code have no username_key: found by the exact name only."""
    with workspace.engine.begin() as connection:
        connection.execute(
            users_table.insert().values(
                username="legacy", display_name="Old", created_at=NOW, active=True
            )
        )
    with workspace.reader() as connection:
        assert accounts.find_user_by_name(connection, " legacy ").display_name == "Old"
        assert accounts.find_user_by_name(connection, "LEGACY") is None
        assert accounts.user_ids_by_key(connection) == {}


def test_an_active_admin_besides_the_one_leaving(workspace):
    with workspace.reader() as connection:
        assert not accounts.has_active_admin(connection)
    first = add_user(workspace, "admin", is_admin=True)
    add_user(workspace, "nurse")
    with workspace.reader() as connection:
        assert accounts.has_active_admin(connection)
        assert not accounts.has_active_admin(connection, besides=first)
    second = add_user(workspace, "deputy", is_admin=True)
    with workspace.engine.begin() as connection:
        accounts.set_active(connection, second, False)
    with workspace.reader() as connection:
        assert not accounts.has_active_admin(connection, besides=first)
        assert [u.username for u in accounts.all_users(connection)] == ["admin", "deputy", "nurse"]


def test_failures_lock_and_a_login_or_a_new_password_clears_them(workspace):
    user_id = add_user(workspace, "nurse")
    until = datetime(2024, 5, 1, 8, 15)
    with workspace.engine.begin() as connection:
        accounts.record_failed_login(connection, user_id, 5, until)
    stored = user(workspace, "nurse")
    assert (stored.failed_logins, stored.locked_until) == (5, until)

    with workspace.engine.begin() as connection:
        accounts.record_login(connection, user_id, NOW, new_password_hash="$argon2id$new")
    stored = user(workspace, "nurse")
    assert (stored.failed_logins, stored.locked_until, stored.last_login_at) == (0, None, NOW)
    assert stored.password_hash == "$argon2id$new"
    assert stored.password_changed_at is None  # a rehash is the same password

    with workspace.engine.begin() as connection:
        accounts.record_failed_login(connection, user_id, 2, None)
        accounts.store_password(connection, user_id, "$argon2id$reset", NOW)
    stored = user(workspace, "nurse")
    assert (stored.failed_logins, stored.password_changed_at) == (0, NOW)
    assert stored.password_hash == "$argon2id$reset"


def test_a_profile_change_keeps_what_is_not_given(workspace):
    user_id = add_user(workspace, "nurse")
    with workspace.engine.begin() as connection:
        accounts.update_profile(connection, user_id, display_name="张伟")
        accounts.update_profile(connection, user_id, is_admin=True)
        accounts.update_profile(connection, user_id)
    stored = user(workspace, "nurse")
    assert (stored.display_name, stored.is_admin) == ("张伟", True)


def test_roles_are_granted_revoked_and_replaced(workspace):
    user_id = add_user(workspace, "nurse")
    with workspace.engine.begin() as connection:
        accounts.grant_role(connection, user_id, "repair", "engineer")
        accounts.grant_role(connection, user_id, "repair", "viewer")
        accounts.grant_role(connection, user_id, "triage", "nurse")
        assert accounts.revoke_role(connection, user_id, "repair", "viewer")
        assert not accounts.revoke_role(connection, user_id, "repair", "viewer")
        assert accounts.roles_of(connection, user_id) == {
            "repair": frozenset({"engineer"}),
            "triage": frozenset({"nurse"}),
        }
        accounts.replace_roles(connection, user_id, [("triage", "head"), ("triage", "head")])
        assert accounts.roles_of(connection, user_id) == {"triage": frozenset({"head"})}
        accounts.replace_roles(connection, user_id, [])
        assert accounts.roles_of(connection, user_id) == {}


def test_memberships_put_the_primary_department_first(workspace):
    nurse, doctor = add_user(workspace, "nurse"), add_user(workspace, "doctor")
    with workspace.engine.begin() as connection:
        icu, ward, lab = (
            org.insert_department(connection, name=name, code=name) for name in ("icu", "w", "lab")
        )
        accounts.set_memberships(connection, nurse, [icu, ward, icu])
        assert accounts.memberships(connection, nurse) == ([icu, ward], icu)
        accounts.set_memberships(connection, nurse, [lab, ward, icu], primary=ward)
        assert accounts.memberships(connection, nurse) == ([ward, icu, lab], ward)
        accounts.set_memberships(connection, doctor, [ward])
        assert accounts.department_members(connection, ward) == [
            (doctor, "doctor", True),
            (nurse, "nurse", True),
        ]
        assert accounts.department_members(connection, icu) == [(nurse, "nurse", False)]
        accounts.set_memberships(connection, nurse, [])
        assert accounts.memberships(connection, nurse) == ([], None)


def test_departments_are_added_changed_and_loaded(workspace):
    head = add_user(workspace, "head")
    with workspace.engine.begin() as connection:
        hospital = org.insert_department(connection, name="Hospital", code="H", kind="hospital")
        ward = org.insert_department(connection, name="Ward", parent_id=hospital)
        org.update_department(connection, ward, name="Ward 3", head_user_id=head, kind="ward")
        org.update_department(connection, ward)
        with pytest.raises(ValueError, match="active"):
            org.update_department(connection, ward, active=False)
        loaded = {d.id: d for d in org.load_departments(connection)}
    assert loaded[hospital] == org.Department(hospital, "H", "Hospital", None, None, "hospital")
    assert loaded[ward] == org.Department(ward, None, "Ward 3", hospital, head, "ward", True)
