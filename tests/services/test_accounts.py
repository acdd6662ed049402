"""Accounts on both engines: first run, passwords, lockout, roles, sessions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, Type, extract_parameters

from runtime.services.accounts.service import (
    AccountDisabled,
    AccountError,
    AccountLocked,
    AccountService,
    LoginFailed,
    PasswordPolicyError,
)
from runtime.services.actor import Actor
from runtime.services.org.service import OrgService
from runtime.spec import parse_app_spec
from runtime.store.audit import verify_chain
from runtime.store.schema import audit_table, users_table

PASSWORD = "correct horse 9"


class Clock:
    """An injectable clock: tests move time instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 8, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


#: The weakest parameters the policy accepts (OWASP: 19 MiB, 2 passes): fast tests.
TEST_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@pytest.fixture
def accounts(workspace, clock):
    return AccountService(workspace, clock=clock, hasher=TEST_HASHER)


@pytest.fixture
def admin(accounts) -> Actor:
    accounts.create_user("Admin", "Administrator", password="admin pass 1", is_admin=True)
    return accounts.login("admin", "admin pass 1").actor()


def audit_rows(workspace, action: str | None = None) -> list:
    query = sa.select(audit_table).order_by(audit_table.c.id)
    if action:
        query = query.where(audit_table.c.action == action)
    with workspace.engine.connect() as connection:
        return connection.execute(query).all()


def test_first_run_needs_the_administrator(accounts, workspace):
    assert not accounts.has_admin()
    assert accounts.list_users() == []
    with pytest.raises(AccountError, match="create the administrator first"):
        accounts.create_user("nurse1", "Nurse", password=PASSWORD)
    with pytest.raises(AccountError, match="needs a password"):
        accounts.create_user("boss", "Boss", is_admin=True)
    boss = accounts.create_user("boss", "Boss", password=PASSWORD, is_admin=True)
    assert boss.is_admin and boss.has_password and accounts.has_admin()
    # Now only an administrator creates users.
    nobody = Actor(user_id=None, username="someone")
    with pytest.raises(AccountError, match="only an administrator"):
        accounts.create_user("nurse1", "Nurse", password=PASSWORD, actor=nobody)
    session = accounts.login("boss", PASSWORD)
    nurse = accounts.create_user("nurse1", "Nurse One", actor=session.actor())
    assert not nurse.has_password and not nurse.is_admin
    created = audit_rows(workspace, "user_created")
    assert [json.loads(row.details)["user"] for row in created] == ["boss", "nurse1"]
    assert created[1].user_id == boss.id


def test_usernames_are_unique_regardless_of_case(accounts, admin):
    accounts.create_user("WangFang", "王芳", password=PASSWORD, actor=admin)
    for name in ("wangfang", "WANGFANG", " WangFang "):
        with pytest.raises(AccountError, match="already exists"):
            accounts.create_user(name, "x", password=PASSWORD, actor=admin)
    assert accounts.get_user("wangFANG").username == "WangFang"
    assert accounts.login("WANGFANG", PASSWORD).username == "WangFang"
    for bad in ("", "two words", "a,b", "x" * 65):
        with pytest.raises(AccountError):
            accounts.create_user(bad, "x", password=PASSWORD, actor=admin)


def test_password_policy(accounts, admin):
    with pytest.raises(PasswordPolicyError, match="at least 8 characters"):
        accounts.create_user("zhang", "Zhang", password="short1", actor=admin)
    with pytest.raises(PasswordPolicyError, match="must not be the user name"):
        accounts.create_user("zhangsan1", "Zhang", password="ZhangSan1", actor=admin)
    with pytest.raises(PasswordPolicyError, match="one character repeated"):
        accounts.create_user("zhang", "Zhang", password="aaaaaaaaaa", actor=admin)
    problems = accounts.password_problems("zzzz", "zzzz")
    assert len(problems) == 3
    accounts.update_settings(admin, password_min_length=12)
    with pytest.raises(PasswordPolicyError, match="at least 12"):
        accounts.create_user("zhang", "Zhang", password="eleven chr1", actor=admin)
    accounts.create_user("zhang", "Zhang", password="twelve chars", actor=admin)
    with pytest.raises(AccountError, match="from 6 to 128"):
        accounts.update_settings(admin, password_min_length=3)
    with pytest.raises(AccountError, match="no account setting"):
        accounts.update_settings(admin, colour=3)
    # Nothing was written by the refused attempts.
    assert [u.username for u in accounts.list_users()] == ["Admin", "zhang"]


def stored_hash(workspace, username: str) -> str:
    with workspace.engine.connect() as connection:
        return connection.execute(
            sa.select(users_table.c.password_hash).where(users_table.c.username == username)
        ).scalar_one()


def test_stored_hashes_are_strong_argon2id(workspace, admin, clock):
    accounts = AccountService(workspace, clock=clock)  # the production parameters
    assert accounts.hasher.memory_cost >= 19456 and accounts.hasher.time_cost >= 2
    accounts.create_user("li", "Li", password=PASSWORD, actor=admin)
    password_hash = stored_hash(workspace, "li")
    parameters = extract_parameters(password_hash)
    assert password_hash.startswith("$argon2id$")
    assert parameters.type is Type.ID
    assert parameters.memory_cost >= 19456
    assert parameters.time_cost >= 2
    assert PASSWORD not in password_hash
    # Salted: the same password hashes differently.
    accounts.create_user("wu", "Wu", password=PASSWORD, actor=admin)
    assert stored_hash(workspace, "wu") != password_hash


def test_weak_hash_is_upgraded_on_login(accounts, admin, workspace):
    accounts.create_user("li", "Li", password=PASSWORD, actor=admin)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with workspace.engine.begin() as connection:
        connection.execute(
            users_table.update().where(users_table.c.username == "li").values(password_hash=weak)
        )
    session = accounts.login("li", PASSWORD)
    upgraded = stored_hash(workspace, "li")
    assert upgraded != weak
    parameters = extract_parameters(upgraded)
    assert parameters.memory_cost == accounts.hasher.memory_cost
    assert parameters.time_cost == accounts.hasher.time_cost
    assert json.loads(audit_rows(workspace, "login")[-1].details) == {"rehashed": True}
    assert session.username == "li"
    # The upgraded hash still works; an already-current hash is left alone.
    accounts.login("li", PASSWORD)
    assert stored_hash(workspace, "li") == upgraded
    # A hash stronger than ours (from a newer workstation) is not downgraded.
    strong = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1).hash(PASSWORD)
    with workspace.engine.begin() as connection:
        connection.execute(
            users_table.update().where(users_table.c.username == "li").values(password_hash=strong)
        )
    accounts.login("li", PASSWORD)
    assert stored_hash(workspace, "li") == strong


def test_brute_force_locks_the_account(accounts, admin, workspace, clock):
    accounts.create_user("li", "Li", password=PASSWORD, actor=admin)
    errors = []
    for attempt in range(10):
        with pytest.raises(LoginFailed) as caught:
            accounts.login("li", f"guess number {attempt}")
        errors.append(caught.value)
        clock.advance(seconds=1)
    assert [type(e) for e in errors[:4]] == [LoginFailed] * 4
    assert all(isinstance(e, AccountLocked) for e in errors[4:])
    lock_time = datetime(2024, 5, 1, 8, 0, 4)
    assert errors[4].until == lock_time + timedelta(minutes=15)
    assert "locked" in errors[4].message and "until" in errors[4].message
    # Counters live in the database: a second service (another workstation) sees them.
    other = AccountService(workspace, clock=clock)
    user = other.get_user("li")
    assert user.failed_logins == 5 and user.locked(clock())
    # Audited: 10 failures, one lock.
    failed = audit_rows(workspace, "login_failed")
    assert len(failed) == 10
    assert [json.loads(r.details)["reason"] for r in failed] == ["wrong_password"] * 5 + [
        "locked"
    ] * 5
    assert all(r.user_id == user.id for r in failed)
    assert len(audit_rows(workspace, "account_locked")) == 1
    # The correct password is refused while locked, saying until when.
    with pytest.raises(AccountLocked, match="until") as caught:
        other.login("li", PASSWORD)
    assert caught.value.until == lock_time + timedelta(minutes=15)
    # An administrator unlocks; the correct password works again.
    assert accounts.unlock("li", actor=admin)
    session = accounts.login("li", PASSWORD)
    assert session.username == "li"
    assert accounts.get_user("li").failed_logins == 0
    unlocked = audit_rows(workspace, "account_unlocked")
    assert len(unlocked) == 1 and json.loads(unlocked[0].details)["by"] == "administrator"
    assert unlocked[0].user_id == admin.user_id
    assert len(audit_rows(workspace, "login_failed")) == 11
    with workspace.engine.connect() as connection:
        assert verify_chain(connection).ok


def test_lock_expires(accounts, admin, workspace, clock):
    accounts.update_settings(admin, lockout_threshold=3, lockout_minutes=10)
    accounts.create_user("li", "Li", password=PASSWORD, actor=admin)
    for _ in range(2):
        with pytest.raises(LoginFailed):
            accounts.login("li", "wrong password")
    # A success resets the count.
    accounts.login("li", PASSWORD)
    assert accounts.get_user("li").failed_logins == 0
    for _ in range(3):
        with pytest.raises(LoginFailed):
            accounts.login("li", "wrong password")
    with pytest.raises(AccountLocked):
        accounts.login("li", PASSWORD)
    clock.advance(minutes=9, seconds=59)
    with pytest.raises(AccountLocked):
        accounts.login("li", PASSWORD)
    clock.advance(seconds=1)
    assert accounts.login("li", PASSWORD).username == "li"
    expired = audit_rows(workspace, "account_unlocked")
    assert [json.loads(r.details)["by"] for r in expired] == ["expiry"]
    # After expiry the count starts afresh.
    for _ in range(2):
        with pytest.raises(LoginFailed) as caught:
            accounts.login("li", "wrong password")
        assert not isinstance(caught.value, AccountLocked)


def test_unknown_users_are_audited_and_look_the_same(accounts, admin, workspace):
    accounts.create_user("li", "Li", password=PASSWORD, actor=admin)
    with pytest.raises(LoginFailed) as unknown:
        accounts.login("nobody", PASSWORD)
    with pytest.raises(LoginFailed) as wrong:
        accounts.login("li", "not the password")
    assert type(unknown.value) is type(wrong.value) is LoginFailed
    assert unknown.value.message == wrong.value.message == "wrong user name or password"
    rows = audit_rows(workspace, "login_failed")
    assert rows[0].user_id is None and rows[0].username == "nobody"
    assert json.loads(rows[0].details) == {"attempted": "nobody", "reason": "unknown_user"}
    # Unknown names do not lock anything (there is nothing to lock).
    for _ in range(6):
        with pytest.raises(LoginFailed):
            accounts.login("nobody", PASSWORD)
    assert len(audit_rows(workspace, "account_locked")) == 0


def test_unknown_user_verifies_a_dummy_hash(accounts, admin, monkeypatch):
    """Same work for known and unknown names: one argon2 verification each."""
    accounts.create_user("li", "Li", password=PASSWORD, actor=admin)
    calls = []
    original = accounts._verify
    monkeypatch.setattr(accounts, "_verify", lambda h, p: calls.append(h) or original(h, p))
    for name in ("nobody", "li"):
        with pytest.raises(LoginFailed):
            accounts.login(name, "wrong password")
    assert len(calls) == 2
    assert extract_parameters(calls[0]) == extract_parameters(calls[1])


def test_users_without_password_cannot_log_in(accounts, admin):
    accounts.create_user("imported", "Imported", actor=admin)
    with pytest.raises(LoginFailed, match="wrong user name or password"):
        accounts.login("imported", "")
    accounts.set_password("imported", PASSWORD, actor=admin)
    assert accounts.login("imported", PASSWORD).username == "imported"


def test_disable_and_enable(accounts, admin, workspace):
    accounts.create_user("li", "Li", password=PASSWORD, actor=admin)
    accounts.disable_user("li", actor=admin)
    with pytest.raises(AccountDisabled, match="disabled"):
        accounts.login("li", PASSWORD)
    with pytest.raises(LoginFailed, match="wrong user name"):
        accounts.login("li", "wrong password")
    accounts.enable_user("li", actor=admin)
    assert accounts.login("li", PASSWORD)
    assert len(audit_rows(workspace, "user_disabled")) == 1
    # The last administrator stays.
    with pytest.raises(AccountError, match="cannot disable your own"):
        accounts.disable_user("admin", actor=admin)
    with pytest.raises(AccountError, match="at least one active administrator"):
        accounts.disable_user("admin")
    with pytest.raises(AccountError, match="only an administrator"):
        accounts.disable_user("admin", actor=accounts.login("li", PASSWORD).actor())


def test_passwords_reset_and_change(accounts, admin, workspace, clock):
    accounts.create_user("li", "Li", password=PASSWORD, actor=admin)
    for _ in range(5):
        with pytest.raises(LoginFailed):
            accounts.login("li", "wrong password")
    clock.advance(minutes=1)
    accounts.set_password("li", "new password 2", actor=admin)  # also lifts the lock
    user = accounts.get_user("li")
    assert user.password_changed_at == clock() and not user.locked(clock())
    accounts.login("li", "new password 2")
    with pytest.raises(LoginFailed, match="current password is wrong"):
        accounts.change_password("li", "nope nope", "third password 3")
    with pytest.raises(PasswordPolicyError):
        accounts.change_password("li", "new password 2", "li")
    accounts.change_password("li", "new password 2", "third password 3")
    accounts.login("li", "third password 3")
    assert len(audit_rows(workspace, "password_set")) == 1
    assert len(audit_rows(workspace, "password_changed")) == 1


def install_app(workspace):
    spec = parse_app_spec(
        {
            "format": "formwright-app",
            "spec_version": 1,
            "id": "repairs",
            "version": 1,
            "title": "Repairs",
            "forms": [
                {
                    "key": "request",
                    "title": "Request",
                    "fields": [{"key": "fault", "type": "text", "label": "Fault"}],
                }
            ],
            "roles": [
                {"key": "clerk", "title": "Clerk", "grants": {"request": {"actions": ["read"]}}},
                {"key": "engineer", "title": "Engineer", "grants": {}},
            ],
        }
    )
    workspace.install(spec)
    return spec


def test_roles(accounts, admin, workspace):
    install_app(workspace)
    accounts.create_user("li", "Li", password=PASSWORD, actor=admin)
    assert accounts.assign_role("li", "repairs", "clerk", actor=admin)
    assert not accounts.assign_role("li", "repairs", "clerk", actor=admin)
    assert accounts.assign_role("li", "repairs", "engineer", actor=admin)
    with pytest.raises(AccountError, match="defines no role 'boss'"):
        accounts.assign_role("li", "repairs", "boss", actor=admin)
    with pytest.raises(AccountError, match="not installed"):
        accounts.assign_role("li", "pharmacy", "clerk", actor=admin)
    with pytest.raises(AccountError, match="no user named"):
        accounts.assign_role("ghost", "repairs", "clerk", actor=admin)
    assert accounts.roles_of("li") == {"repairs": {"clerk", "engineer"}}
    assert accounts.remove_role("li", "repairs", "engineer", actor=admin)
    assert not accounts.remove_role("li", "repairs", "engineer", actor=admin)
    session = accounts.login("li", PASSWORD)
    assert session.roles_in("repairs") == {"clerk"}
    assert session.actor().roles_in("repairs") == {"clerk"}
    assert len(audit_rows(workspace, "role_assigned")) == 2
    assert len(audit_rows(workspace, "role_removed")) == 1
    with pytest.raises(AccountError, match="only an administrator"):
        accounts.assign_role("li", "repairs", "engineer", actor=session.actor())


def test_session_and_actor(accounts, admin, workspace):
    org = OrgService(workspace)
    org.add_department("H", "Hospital", actor=admin)
    org.add_department("SURG", "Surgery", parent="H", actor=admin)
    org.add_department("W3", "Ward 3", parent="SURG", actor=admin)
    org.add_department("ICU", "ICU", parent="H", actor=admin)
    directory = org.directory()
    ids = {code: directory.by_code(code).id for code in ("H", "SURG", "W3", "ICU")}
    accounts.create_user("li", "Li Na", password=PASSWORD, departments=["SURG", "ICU"], actor=admin)
    session = accounts.login("li", PASSWORD)
    assert (session.user_id, session.username, session.display_name) == (
        accounts.get_user("li").id,
        "li",
        "Li Na",
    )
    assert not session.is_admin
    assert session.primary_department == ids["SURG"]
    assert session.department_ids == {ids["SURG"], ids["ICU"]}
    assert session.department_tree_ids == {ids["SURG"], ids["W3"], ids["ICU"]}
    actor = session.actor()
    assert actor.user_id == session.user_id and actor.username == "li"
    assert actor.primary_department == ids["SURG"]
    assert actor.department_ids == session.department_ids
    assert actor.department_tree_ids == session.department_tree_ids
    assert not actor.is_admin
    assert accounts.login("admin", "admin pass 1").actor().is_admin
    assert accounts.get_user("li").last_login_at is not None


def test_update_user_keeps_an_administrator(accounts, admin):
    accounts.create_user("li", "Li", password=PASSWORD, actor=admin)
    assert accounts.update_user("li", display_name="李娜", actor=admin).display_name == "李娜"
    with pytest.raises(AccountError, match="at least one active administrator"):
        accounts.update_user("admin", is_admin=False, actor=admin)
    assert accounts.update_user("li", is_admin=True, actor=admin).is_admin
    assert not accounts.update_user("admin", is_admin=False, actor=admin).is_admin


def test_rows_without_username_key_are_still_found(accounts, admin, workspace):
    """Users written by raw inserts (older code, test helpers) can log in."""
    with workspace.engine.begin() as connection:
        connection.execute(
            users_table.insert().values(
                username="legacy",
                display_name="Legacy",
                password_hash=TEST_HASHER.hash(PASSWORD),
                is_admin=False,
                active=True,
                failed_logins=0,
                created_at=datetime(2024, 1, 1),
            )
        )
    assert accounts.login("legacy", PASSWORD).username == "legacy"
