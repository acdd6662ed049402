"""The repro package of issue #11 §3 ("Permissions leak"), as a test fixture.

Form ``staff`` (name, code unique, salary, diagnosis, ``bonus = salary * 0.1``)
and form ``visit`` with a lookup ``patient`` → staff shown by ``diagnosis`` (and a
lookup ``colleague`` → staff shown by ``name``, a field clerks may see). Role
``clerk``: staff scope ``own``, salary and diagnosis hidden, bonus readonly;
visit scope ``all``. Two clerks, Alice and Bob, each own one staff record; Alice
records a visit of Bob's staff record.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from argon2 import PasswordHasher, Type

from runtime.services.accounts.service import AccountService
from runtime.services.actor import SYSTEM, Actor
from runtime.services.records.service import RecordService
from runtime.spec import parse_app_spec
from runtime.spec.models import AppSpec
from runtime.store.migrate import apply_upgrade
from runtime.store.workspace import Workspace

APP_ID = "leak"
PASSWORD = "leak-pass-1"

CLERK_GRANTS: dict[str, Any] = {
    "staff": {
        "actions": ["create", "read", "update", "export", "import"],
        "scope": "own",
        "fields": {
            "name": "edit",
            "code": "edit",
            "salary": "hidden",
            "diagnosis": "hidden",
            "bonus": "readonly",
        },
    },
    "visit": {
        "actions": ["create", "read", "update", "export", "import"],
        "scope": "all",
        "fields": {"patient": "edit", "colleague": "edit", "note": "edit"},
    },
}


def leak_app(clerk_grants: dict[str, Any] | None = None) -> dict[str, Any]:
    """The app.json of the repro package."""
    return {
        "format": "formwright-app",
        "spec_version": 1,
        "id": APP_ID,
        "version": 1,
        "title": "Leak repro",
        "forms": [
            {
                "key": "staff",
                "title": "Staff",
                "fields": [
                    {"key": "name", "type": "text", "label": "Name"},
                    {"key": "code", "type": "text", "label": "Code", "unique": True},
                    {"key": "salary", "type": "number", "label": "Salary", "decimals": 2},
                    {"key": "diagnosis", "type": "text", "label": "Diagnosis"},
                    {
                        "key": "bonus",
                        "type": "formula",
                        "label": "Bonus",
                        "expression": "salary * 0.1",
                    },
                ],
            },
            {
                "key": "visit",
                "title": "Visit",
                "fields": [
                    {
                        "key": "patient",
                        "type": "lookup",
                        "label": "Patient",
                        "form": "staff",
                        "display_field": "diagnosis",
                    },
                    {
                        "key": "colleague",
                        "type": "lookup",
                        "label": "Colleague",
                        "form": "staff",
                        "display_field": "name",
                    },
                    {"key": "note", "type": "text", "label": "Note"},
                ],
            },
        ],
        "views": [],
        "roles": [
            {"key": "clerk", "title": "Clerk", "grants": clerk_grants or CLERK_GRANTS},
        ],
    }


def leak_spec(clerk_grants: dict[str, Any] | None = None) -> AppSpec:
    return parse_app_spec(leak_app(clerk_grants))


@dataclass
class LeakWorld:
    workspace: Workspace
    service: RecordService
    accounts: AccountService
    admin: Actor
    alice: Actor
    bob: Actor
    #: Alice's staff record (diabetes, salary 5000) and Bob's (schizophrenia, 9000).
    alice_staff: int
    bob_staff: int
    #: Alice's visit of Bob's staff record (patient and colleague both Bob's).
    visit: int

    def login(self, username: str) -> Actor:
        return self.accounts.login(username, PASSWORD).actor()


def build_leak_world(url: str) -> LeakWorld:
    workspace = Workspace.open(url)
    hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, type=Type.ID)
    accounts = AccountService(workspace, hasher=hasher)
    accounts.create_user("admin", "Admin", password=PASSWORD, is_admin=True)
    admin = accounts.login("admin", PASSWORD).actor()
    spec = leak_spec()
    apply_upgrade(workspace, spec, admin.user_id)
    for username, display in (("alice", "Alice"), ("bob", "Bob")):
        accounts.create_user(username, display, password=PASSWORD, actor=admin)
        accounts.assign_role(username, APP_ID, "clerk", actor=admin)
    alice = accounts.login("alice", PASSWORD).actor()
    bob = accounts.login("bob", PASSWORD).actor()
    service = RecordService(workspace, workspace.installed_spec(APP_ID))
    # Salaries and diagnoses are entered by an administrator acting as the owner.
    as_alice = Actor(alice.user_id, "alice", is_admin=True)
    as_bob = Actor(bob.user_id, "bob", is_admin=True)
    alice_staff = service.create(
        "staff",
        {"name": "Alice", "code": "S1", "salary": Decimal("5000"), "diagnosis": "diabetes"},
        as_alice,
    ).id
    bob_staff = service.create(
        "staff",
        {"name": "Bob", "code": "S2", "salary": Decimal("9000"), "diagnosis": "schizophrenia"},
        as_bob,
    ).id
    visit = service.create(
        "visit", {"patient": bob_staff, "colleague": bob_staff, "note": "check-up"}, alice
    ).id
    assert service.get("staff", bob_staff, SYSTEM).values["bonus"] == Decimal("900")
    return LeakWorld(workspace, service, accounts, admin, alice, bob, alice_staff, bob_staff, visit)
