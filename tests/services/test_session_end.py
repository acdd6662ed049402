"""Issue #11 §3: disabling or locking an account ends its open sessions.

Every service call of a session checks that its user is still enabled and not
locked (``runtime.services.accounts.session_guard``); this process notices at once, another
one (a second Workspace on the same database) within SESSION_CHECK_SECONDS. On
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runtime.services.accounts.errors import LoginFailed
from runtime.services.accounts.session_guard import SESSION_CHECK_SECONDS, session_guard
from runtime.services.actor import SYSTEM
from runtime.services.audit_log import AuditLog
from runtime.services.errors import SessionEnded
from runtime.services.org.service import OrgService
from runtime.services.records.service import RecordService
from runtime.store.query import RecordQuery
from runtime.store.workspace import Workspace
from tests.services.leak_world import APP_ID, PASSWORD, LeakWorld, build_leak_world


@pytest.fixture
def leak(db_url) -> Iterator[LeakWorld]:
    world = build_leak_world(db_url)
    yield world
    world.workspace.dispose()


def _calls(service: RecordService, actor, record_id: int) -> dict:
    """One call of each kind a session makes."""
    return {
        "create": lambda: service.create("staff", {"name": "New", "code": "N1"}, actor),
        "update": lambda: service.update(
            "staff",
            record_id,
            {"name": "Renamed"},
            service.get("staff", record_id, SYSTEM).version,
            actor,
        ),
        "get": lambda: service.get("staff", record_id, actor),
        "page": lambda: service.page("staff", RecordQuery(), actor=actor),
        "count": lambda: service.count("staff", None, actor),
        "delete": lambda: service.delete("staff", record_id, actor),
        "names": lambda: service.names(actor).names("user", [1]),
    }


def test_a_disabled_users_session_is_refused_at_once(leak: LeakWorld) -> None:
    service, alice = leak.service, leak.alice
    service.get("staff", leak.alice_staff, alice)  # the session works
    leak.accounts.disable_user("alice", actor=leak.admin)
    for call in _calls(service, alice, leak.alice_staff).values():
        with pytest.raises(SessionEnded, match="disabled"):
            call()
    leak.accounts.enable_user("alice", actor=leak.admin)
    assert service.get("staff", leak.alice_staff, alice).id == leak.alice_staff


def test_another_process_notices_within_the_check_interval(leak: LeakWorld, db_url) -> None:
    """Alice works on a second workstation (another Workspace object): disabling
    her there is seen after at most SESSION_CHECK_SECONDS."""
    other = Workspace.open(db_url)
    try:
        guard = session_guard(other)
        now = [1000.0]
        guard.clock = lambda: now[0]
        service = RecordService(other, other.installed_spec(APP_ID))
        created = service.create("staff", {"name": "Mine", "code": "M1"}, leak.alice)
        leak.accounts.disable_user("alice", actor=leak.admin)
        now[0] += SESSION_CHECK_SECONDS / 2  # the answer is still cached
        service.get("staff", created.id, leak.alice)
        now[0] += SESSION_CHECK_SECONDS
        for call in _calls(service, leak.alice, created.id).values():
            with pytest.raises(SessionEnded):
                call()
    finally:
        other.dispose()


def test_a_locked_users_session_is_refused(leak: LeakWorld) -> None:
    """Too many failed logins lock the account: its open sessions end too."""
    service, bob = leak.service, leak.bob
    service.get("staff", leak.bob_staff, bob)
    for _attempt in range(5):
        with pytest.raises(LoginFailed):
            leak.accounts.login("bob", "not-the-password")
    with pytest.raises(SessionEnded, match="locked"):
        service.get("staff", leak.bob_staff, bob)
    leak.accounts.unlock("bob", actor=leak.admin)
    assert service.get("staff", leak.bob_staff, bob).id == leak.bob_staff


def test_a_disabled_administrators_session_is_refused(leak: LeakWorld) -> None:
    """Administration calls (users, departments, audit log) check the session too."""
    accounts = leak.accounts
    accounts.create_user("root2", "Root 2", password=PASSWORD, is_admin=True, actor=leak.admin)
    root2 = accounts.login("root2", PASSWORD).actor()
    accounts.disable_user("admin", actor=root2)
    admin = leak.admin
    calls = [
        lambda: accounts.create_user("carol", password=PASSWORD, actor=admin),
        lambda: accounts.enable_user("admin", actor=admin),
        lambda: OrgService(leak.workspace).add_department("X", "X", actor=admin),
        lambda: AuditLog(leak.workspace, admin).verify(),
        lambda: leak.service.get("staff", leak.bob_staff, admin),
    ]
    for call in calls:
        with pytest.raises(SessionEnded):
            call()
    assert [user.username for user in accounts.list_users() if user.username == "carol"] == []
