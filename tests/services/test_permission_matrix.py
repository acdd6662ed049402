"""The permission matrix of issue #4, checked against a hand-written oracle.

Every persona (admin, clerk with ``own`` scope, ward nurse with ``department``
scope, head nurse with ``department_tree`` scope, auditor with read/export only,
a user with no role, and a user holding two roles) × every form of a test app ×
every action × row scope × field mode, through every entry point (get, list and
the Python API's query, count, search/filter/sort, create, bulk_create, update,
delete/restore/purge, Excel export and import), on SQLite and PostgreSQL.

The expected results (``ORACLE``) are written out by hand: which records each
persona reaches per action, and the mode of each field. Nothing in the oracle is
computed with :class:`runtime.services.permissions.Policy`; the policy is used
only where a real caller uses it (``runtime.cli.excel`` derives the ``visible_fields``
the Excel services take from it).

The app is installed as version 1, records are written, then it is upgraded to
version 2, which adds the field ``visit.allergy`` and the form ``billing`` and
changes no role: every non-admin persona must be denied both (deny by default).

Each parametrized case collects its mismatches and asserts the list is empty, so
a failure prints all of them.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from argon2 import PasswordHasher, Type

from runtime.api import AppHandle
from runtime.services.accounts.service import AccountService
from runtime.services.actor import SYSTEM, Actor
from runtime.services.errors import PermissionDenied
from runtime.services.excel.common import ExcelError
from runtime.services.excel.export import export_records
from runtime.services.excel.importer import import_records
from runtime.services.org.service import OrgService
from runtime.services.permissions import Policy
from runtime.services.progress import run_steps
from runtime.services.records.service import NotFound, RecordService
from runtime.spec import parse_app_spec
from runtime.spec.models import AppSpec
from runtime.store.migrate import apply_upgrade
from runtime.store.query import Condition, RecordQuery, Sort
from runtime.store.workspace import Workspace
from tests.conftest import _postgres_database

APP_ID = "clinic_matrix"
PASSWORD = "matrix-pass-1"

# -- the test app --

LABELS = {
    "patient": "Patient",
    "diagnosis": "Diagnosis",
    "phone": "Phone",
    "fee": "Fee",
    "allergy": "Allergy",
    "name": "Name",
    "qty": "Qty",
    "lot": "Lot",
    "invoice": "Invoice",
    "amount": "Amount",
}
#: The value fields of each form of version 2, in form order.
FIELDS: dict[str, tuple[str, ...]] = {
    "visit": ("patient", "diagnosis", "phone", "fee", "allergy"),
    "supply": ("name", "qty", "lot"),
    "billing": ("invoice", "amount"),
}
FORMS = tuple(FIELDS)
#: Text fields (searchable), and the word every record's value of that field holds.
SEARCH_WORDS = {
    "patient": "marker",
    "diagnosis": "diagword",
    "phone": "1380013800",
    "allergy": "allergen",
    "name": "marker",
    "lot": "lotword",
    "invoice": "marker",
}

ROLES = [
    {
        "key": "clerk",
        "title": "Clerk",
        "grants": {
            "visit": {
                "actions": ["create", "read", "update"],
                "scope": "own",
                # phone is not listed: hidden
                "fields": {"patient": "edit", "diagnosis": "edit", "fee": "readonly"},
            },
            # qty and lot not listed: hidden
            "supply": {"actions": ["read"], "scope": "own", "fields": {"name": "edit"}},
        },
    },
    {
        "key": "ward_nurse",
        "title": "Ward nurse",
        "grants": {
            "visit": {
                "actions": ["create", "read", "update", "delete"],
                "scope": "department",
                # fee not listed: hidden
                "fields": {"patient": "edit", "diagnosis": "edit", "phone": "edit"},
            },
            "supply": {
                "actions": ["create", "read", "update", "import"],
                "scope": "department",
                # lot not listed: hidden
                "fields": {"name": "edit", "qty": "readonly"},
            },
        },
    },
    {
        "key": "head_nurse",
        "title": "Head nurse",
        "grants": {
            "visit": {
                "actions": ["read", "update", "export"],
                "scope": "department_tree",
                "fields": {"patient": "edit", "diagnosis": "edit", "phone": "edit", "fee": "edit"},
            }
        },
    },
    {
        "key": "auditor",
        "title": "Auditor",
        "grants": {
            "visit": {
                "actions": ["read", "export"],
                "scope": "all",
                "fields": {
                    "patient": "edit",
                    "diagnosis": "edit",
                    "phone": "hidden",
                    "fee": "edit",
                },
            },
            "supply": {
                "actions": ["read", "export"],
                "scope": "all",
                "fields": {"name": "edit", "qty": "edit", "lot": "edit"},
            },
        },
    },
]


def app_spec(version: int) -> AppSpec:
    """Version 1, or version 2 adding ``visit.allergy`` and the form ``billing``
    (roles unchanged: nobody but the admin is granted them)."""
    visit = [
        {"key": "patient", "type": "text", "label": "Patient"},
        {"key": "diagnosis", "type": "text", "label": "Diagnosis"},
        {"key": "phone", "type": "phone", "label": "Phone"},
        {"key": "fee", "type": "number", "label": "Fee", "decimals": 2},
    ]
    forms = [
        {"key": "visit", "title": "Visit", "fields": visit},
        {
            "key": "supply",
            "title": "Supply",
            "fields": [
                {"key": "name", "type": "text", "label": "Name", "unique": True},
                {"key": "qty", "type": "number", "label": "Qty"},
                {"key": "lot", "type": "text", "label": "Lot"},
            ],
        },
    ]
    if version >= 2:
        visit.append({"key": "allergy", "type": "text", "label": "Allergy"})
        forms.append(
            {
                "key": "billing",
                "title": "Billing",
                "fields": [
                    {"key": "invoice", "type": "text", "label": "Invoice"},
                    {"key": "amount", "type": "number", "label": "Amount", "decimals": 2},
                ],
            }
        )
    return parse_app_spec(
        {
            "format": "formwright-app",
            "spec_version": 1,
            "id": APP_ID,
            "version": version,
            "title": "Clinic (permission matrix)",
            "forms": forms,
            "views": [],
            "roles": ROLES,
        }
    )


# -- the organisation and its people --

#: code, name, parent code, kind
DEPARTMENTS = [
    ("HOSP", "Hospital", None, "hospital"),
    ("IM", "Internal medicine", "HOSP", "division"),
    ("WA", "Ward A", "IM", "ward"),
    ("WB", "Ward B", "IM", "ward"),
    ("SURG", "Surgery", "HOSP", "division"),
    ("WC", "Ward C", "SURG", "ward"),
]
#: user → (departments, the first primary; roles in the app)
USERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "admin": ((), ()),
    "clerk": (("WA",), ("clerk",)),
    "nurse": (("WA",), ("ward_nurse",)),
    "head": (("IM",), ("head_nurse",)),
    "auditor": (("HOSP",), ("auditor",)),
    "nobody": (("WA",), ()),
    "clerk_auditor": (("WA",), ("clerk", "auditor")),
    "nurse_b": (("WB",), ("ward_nurse",)),
    "nurse_c": (("WC",), ("ward_nurse",)),
}
PERSONAS = ("admin", "clerk", "nurse", "head", "auditor", "nobody", "clerk_auditor")

#: The records of each form: label, the user who created it, its owner department.
#: V7 was created by the clerk while in ward B (impersonated), so ``own`` and
#: ``department`` scopes disagree about it.
RECORDS: dict[str, list[tuple[str, str, str | None]]] = {
    "visit": [
        ("V1", "clerk", "WA"),
        ("V2", "nurse", "WA"),
        ("V3", "nurse_b", "WB"),
        ("V4", "nurse_c", "WC"),
        ("V5", "head", "IM"),
        ("V6", "admin", None),
        ("V7", "clerk", "WB"),
        ("V8", "clerk_auditor", "WA"),
    ],
    "supply": [
        ("S1", "clerk", "WA"),
        ("S2", "nurse", "WA"),
        ("S3", "nurse_c", "WC"),
        ("S4", "admin", None),
    ],
    "billing": [("B1", "admin", None), ("B2", "nurse", "WA")],
}


def seed_values(form: str, label: str, tag: str = "") -> dict[str, Any]:
    """The values of a record; every text field holds its SEARCH_WORDS word."""
    n = int(label[1:])
    if form == "visit":
        return {
            "patient": f"{label} marker",
            "diagnosis": f"diagword {label}",
            "phone": f"1380013800{n}",
            "fee": Decimal(f"{n}0.25"),
            "allergy": f"allergen{label}",
        }
    if form == "supply":
        return {"name": f"{label} marker{tag}", "qty": n * 10, "lot": f"lotword{label}"}
    return {"invoice": f"{label} marker", "amount": Decimal(f"{n}00.50")}


# -- the oracle --

E, R, H = "edit", "readonly", "hidden"
ALL_ACTIONS = frozenset({"create", "read", "update", "delete", "export", "import"})
V_ALL = frozenset(label for label, _u, _d in RECORDS["visit"])
S_ALL = frozenset(label for label, _u, _d in RECORDS["supply"])
B_ALL = frozenset(label for label, _u, _d in RECORDS["billing"])


@dataclass(frozen=True)
class Access:
    """What one persona may do with one form, written out by hand."""

    actions: frozenset[str] = frozenset()
    #: Records reached by read (get, list, count, search) and by export.
    read: frozenset[str] = frozenset()
    update: frozenset[str] = frozenset()
    delete: frozenset[str] = frozenset()
    #: Field → mode as the persona sees records (hidden: never returned).
    modes: dict[str, str] = field(default_factory=dict)
    #: Field → mode for create/update, where it differs from ``modes``.
    write: dict[str, str] | None = None

    def visible(self, form: str) -> list[str]:
        return [key for key in FIELDS[form] if self.modes.get(key, H) != H]

    def hidden(self, form: str) -> list[str]:
        return [key for key in FIELDS[form] if self.modes.get(key, H) == H]

    def writable(self, form: str) -> list[str]:
        modes = self.write if self.write is not None else self.modes
        return [key for key in FIELDS[form] if modes.get(key, H) == E]

    def unwritable(self, form: str) -> list[str]:
        return [key for key in FIELDS[form] if key not in self.writable(form)]


DENIED = Access()
ALL_EDIT = {form: dict.fromkeys(keys, E) for form, keys in FIELDS.items()}


def s(*labels: str) -> frozenset[str]:
    return frozenset(labels)


ORACLE: dict[str, dict[str, Access]] = {
    "admin": {
        "visit": Access(ALL_ACTIONS, V_ALL, V_ALL, V_ALL, ALL_EDIT["visit"]),
        "supply": Access(ALL_ACTIONS, S_ALL, S_ALL, S_ALL, ALL_EDIT["supply"]),
        "billing": Access(ALL_ACTIONS, B_ALL, B_ALL, B_ALL, ALL_EDIT["billing"]),
    },
    "clerk": {  # own: V1 (ward A) and V7 (created while in ward B)
        "visit": Access(
            s("create", "read", "update"),
            read=s("V1", "V7"),
            update=s("V1", "V7"),
            modes={"patient": E, "diagnosis": E, "fee": R, "phone": H, "allergy": H},
        ),
        "supply": Access(s("read"), read=s("S1"), modes={"name": E, "qty": H, "lot": H}),
        "billing": DENIED,
    },
    "nurse": {  # department ward A
        "visit": Access(
            s("create", "read", "update", "delete"),
            read=s("V1", "V2", "V8"),
            update=s("V1", "V2", "V8"),
            delete=s("V1", "V2", "V8"),
            modes={"patient": E, "diagnosis": E, "phone": E, "fee": H, "allergy": H},
        ),
        "supply": Access(
            s("create", "read", "update", "import"),
            read=s("S1", "S2"),
            update=s("S1", "S2"),
            modes={"name": E, "qty": R, "lot": H},
        ),
        "billing": DENIED,
    },
    "head": {  # department tree of internal medicine: IM, ward A, ward B
        "visit": Access(
            s("read", "update", "export"),
            read=s("V1", "V2", "V3", "V5", "V7", "V8"),
            update=s("V1", "V2", "V3", "V5", "V7", "V8"),
            modes={"patient": E, "diagnosis": E, "phone": E, "fee": E, "allergy": H},
        ),
        "supply": DENIED,
        "billing": DENIED,
    },
    "auditor": {
        "visit": Access(
            s("read", "export"),
            read=V_ALL,
            modes={"patient": E, "diagnosis": E, "fee": E, "phone": H, "allergy": H},
        ),
        "supply": Access(s("read", "export"), read=S_ALL, modes={"name": E, "qty": E, "lot": E}),
        "billing": DENIED,
    },
    "nobody": {"visit": DENIED, "supply": DENIED, "billing": DENIED},
    "clerk_auditor": {  # union: reads everything (auditor), writes its own (clerk)
        "visit": Access(
            s("create", "read", "update", "export"),
            read=V_ALL,
            update=s("V8"),
            modes={"patient": E, "diagnosis": E, "fee": E, "phone": H, "allergy": H},
            # only the clerk grant allows create/update: fee is readonly there
            write={"patient": E, "diagnosis": E, "fee": R, "phone": H, "allergy": H},
        ),
        "supply": Access(s("read", "export"), read=S_ALL, modes={"name": E, "qty": E, "lot": E}),
        "billing": DENIED,
    },
}


def cases(entry: str, personas=PERSONAS, forms=FORMS, only=None) -> list:
    params = []
    for persona in personas:
        for form in forms:
            if only is not None and not only(ORACLE[persona][form], form):
                continue
            params.append(pytest.param(persona, form, id=f"{persona}-{form}"))
    return params


# -- the workspace, once per engine --

#: Comparisons made, per entry point (printed with FORMWRIGHT_MATRIX_REPORT=1 -s).
CELLS: Counter[str] = Counter()


@dataclass
class World:
    workspace: Workspace
    service: RecordService
    actors: dict[str, Actor]
    user_ids: dict[str, int]
    department_ids: dict[str, int]
    seeds: dict[str, dict[str, int]]  # form → label → record id
    folder: Path

    def handle(self, persona: str) -> AppHandle:
        return AppHandle(self.service, self.actors[persona])

    def primary(self, username: str) -> int | None:
        departments = USERS[username][0]
        return self.department_ids[departments[0]] if departments else None

    def owner_actor(self, username: str, department: str | None) -> Actor:
        """An administrator acting with the identity of a record's creator."""
        return Actor(
            user_id=self.user_ids[username],
            username=username,
            is_admin=True,
            primary_department=self.department_ids[department] if department else None,
        )

    def stored(self, form: str, record_id: int, trash: bool = False):
        return self.service.get(form, record_id, SYSTEM, trash=trash)

    def all_ids(self, form: str) -> set[int]:
        live = self.service.iter_records(form, RecordQuery(), SYSTEM)
        trashed = self.service.iter_records(form, RecordQuery(trash=True), SYSTEM)
        return {record.id for record in [*live, *trashed]}

    def scratch(self, form: str, tag: str) -> dict[str, int]:
        """Copies of the form's records (same creators and departments) to write to."""
        ids = {}
        for label, username, department in RECORDS[form]:
            values = seed_values(form, label, f" {tag}")
            record = self.service.create(form, values, self.owner_actor(username, department))
            ids[label] = record.id
        return ids

    def reset(self) -> None:
        """Purge every record but the seeded ones."""
        for form in FORMS:
            seeded = set(self.seeds[form].values())
            for record in list(self.service.iter_records(form, RecordQuery(), SYSTEM)):
                if record.id not in seeded:
                    self.service.delete(form, record.id, SYSTEM)
            for record in list(self.service.iter_records(form, RecordQuery(trash=True), SYSTEM)):
                if record.id in seeded:
                    self.service.restore(form, record.id, SYSTEM)
                else:
                    self.service.purge(form, record.id, SYSTEM)


def build_world(url: str, folder: Path) -> World:
    workspace = Workspace.open(url)
    # A real argon2id hasher with small parameters: real logins, fast tests.
    hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, type=Type.ID)
    accounts = AccountService(workspace, hasher=hasher)
    org = OrgService(workspace)
    admin_info = accounts.create_user("admin", "Admin", password=PASSWORD, is_admin=True)
    admin = accounts.login("admin", PASSWORD).actor()
    assert admin.is_admin and admin.user_id == admin_info.id
    for code, name, parent, kind in DEPARTMENTS:
        org.add_department(code, name, parent=parent, kind=kind, actor=admin)

    spec_v1 = app_spec(1)
    apply_upgrade(workspace, spec_v1, admin.user_id)
    for username, (departments, roles) in USERS.items():
        if username == "admin":
            continue
        accounts.create_user(username, password=PASSWORD, actor=admin)
        if departments:
            org.set_user_departments(username, departments, actor=admin)
        for role in roles:
            assert accounts.assign_role(username, APP_ID, role, actor=admin)
    org.set_head("IM", "head", actor=admin)
    directory = org.directory()
    department_ids = {code: directory.by_code(code).id for code, *_ in DEPARTMENTS}
    user_ids = {info.username: info.id for info in accounts.list_users()}

    world = World(
        workspace, RecordService(workspace, spec_v1), {}, user_ids, department_ids, {}, folder
    )
    # Version 1 records, then the upgrade adds visit.allergy and billing.
    for form in ("visit", "supply"):
        world.seeds[form] = {}
        for label, username, department in RECORDS[form]:
            values = seed_values(form, label)
            values.pop("allergy", None)
            record = world.service.create(form, values, world.owner_actor(username, department))
            world.seeds[form][label] = record.id
    plan = apply_upgrade(workspace, app_spec(2), admin.user_id)
    assert not plan.blockers, plan.blockers
    world.service = RecordService(workspace, workspace.installed_spec(APP_ID))
    assert world.service.spec.version == 2
    for label, record_id in world.seeds["visit"].items():
        version = world.stored("visit", record_id).version
        world.service.update(
            "visit", record_id, {"allergy": seed_values("visit", label)["allergy"]}, version, admin
        )
    world.seeds["billing"] = {}
    for label, username, department in RECORDS["billing"]:
        record = world.service.create(
            "billing", seed_values("billing", label), world.owner_actor(username, department)
        )
        world.seeds["billing"][label] = record.id

    # Real logins: the actors carry departments, department trees and roles.
    world.actors = {name: accounts.login(name, PASSWORD).actor() for name in PERSONAS}
    head = world.actors["head"]
    ids = department_ids
    assert head.department_ids == {ids["IM"]}
    assert head.department_tree_ids == {ids["IM"], ids["WA"], ids["WB"]}
    assert world.actors["nobody"].roles_in(APP_ID) == frozenset()
    return world


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(request, tmp_path_factory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp(f"matrix_{request.param}")
    if request.param == "sqlite":
        databases: Iterator[str] = iter([f"sqlite:///{folder / 'workspace.sqlite'}"])
    else:
        databases = _postgres_database()
    url = next(databases)
    CELLS.clear()
    built = None
    try:
        built = build_world(url, folder)
        yield built
    finally:
        if built is not None:
            built.workspace.dispose()
        for _rest in databases:  # drops the PostgreSQL database
            pass
        if os.environ.get("FORMWRIGHT_MATRIX_REPORT"):
            print(f"\npermission matrix cells ({request.param}): {dict(CELLS)}")
            print(f"total: {sum(CELLS.values())}")


# -- helpers --


class Mismatches(list):
    """Every cell that disagrees with the oracle, reported all at once."""

    def __init__(self, entry: str, persona: str, form: str) -> None:
        super().__init__()
        self.entry, self.persona, self.form = entry, persona, form

    def check(self, cell: str, expected: Any, actual: Any) -> None:
        CELLS[self.entry] += 1
        if expected != actual:
            self.append(
                f"{self.persona} × {self.form} × {cell}: expected {expected!r}, got {actual!r}"
            )

    def assert_none(self) -> None:
        assert not self, f"{len(self)} mismatches:\n" + "\n".join(self)


def attempt(call: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """The outcome of ``call(*args)``: ok, denied (PermissionDenied) or notfound."""
    try:
        return "ok", call(*args)
    except PermissionDenied:
        return "denied", None
    except NotFound:
        return "notfound", None


def read_outcome(access: Access, label: str) -> str:
    if "read" not in access.actions:
        return "denied"
    return "ok" if label in access.read else "notfound"


def new_value(form: str, key: str, tag: str) -> Any:
    """A valid value for a field, different from every seeded one."""
    if key == "phone":
        return "13700137000"
    if key in ("fee", "amount"):
        return Decimal("77.70")
    if key == "qty":
        return 777
    return f"{tag} {key} new"


def labels_of(ids: dict[str, int], found: list[int] | set[int]) -> set[str]:
    by_id = {record_id: label for label, record_id in ids.items()}
    return {by_id.get(record_id, f"#{record_id}") for record_id in found}


# -- read entry points: get, list, count, search --


@pytest.mark.parametrize(("persona", "form"), cases("get"))
def test_get(world: World, persona: str, form: str) -> None:
    access = ORACLE[persona][form]
    actor = world.actors[persona]
    problems = Mismatches("get", persona, form)
    for label, record_id in world.seeds[form].items():
        outcome, record = attempt(world.service.get, form, record_id, actor)
        problems.check(f"get {label}", read_outcome(access, label), outcome)
        if record is not None:
            expected = {key: seed_values(form, label)[key] for key in access.visible(form)}
            problems.check(f"get {label} values", expected, record.values)
    problems.assert_none()


@pytest.mark.parametrize(("persona", "form"), cases("list"))
def test_list(world: World, persona: str, form: str) -> None:
    """Paged (3 per page, so cursors are used), and through the Python API."""
    access = ORACLE[persona][form]
    actor = world.actors[persona]
    ids = world.seeds[form]
    problems = Mismatches("list", persona, form)
    expected_outcome = "ok" if "read" in access.actions else "denied"
    for sort in (Sort(), Sort("created_at", desc=True)):

        def pages(sort: Sort = sort) -> list:
            records, cursor = [], None
            while True:
                page = world.service.page(form, RecordQuery(sort=sort), cursor, 3, actor)
                records += page.records
                if page.next_cursor is None:
                    return records
                cursor = page.next_cursor

        outcome, records = attempt(pages)
        problems.check(f"page by {sort.field}", expected_outcome, outcome)
        if records is not None:
            problems.check(
                f"page by {sort.field} ids",
                set(access.read),
                labels_of(ids, [r.id for r in records]),
            )
            problems.check(f"page by {sort.field} rows", len(access.read), len(records))
            for record in records:
                label = labels_of(ids, [record.id]).pop()
                expected = {key: seed_values(form, label)[key] for key in access.visible(form)}
                problems.check(f"page values of {label}", expected, record.values)
        # A mark before every row: the positions of exactly the rows the pages showed.
        query = RecordQuery(sort=sort)
        outcome, marks = attempt(world.service.position_marks, form, query, 1, actor)
        problems.check(f"marks by {sort.field}", expected_outcome, outcome)
        if marks is not None and records is not None:
            problems.check(
                f"marks by {sort.field} ids", [r.id for r in records], [m.id for m in marks]
            )
            outcome, last = attempt(world.service.cursor_at, form, query, len(records), actor)
            problems.check(f"cursor_at by {sort.field}", marks[-1:], [last] if last else [])
    outcome, records = attempt(lambda: list(world.handle(persona).query(form)))
    problems.check("api query", expected_outcome, outcome)
    if records is not None:
        problems.check("api query ids", set(access.read), labels_of(ids, [r.id for r in records]))
        for record in records:
            problems.check("api query keys", set(access.visible(form)), set(record.values))
    problems.assert_none()


@pytest.mark.parametrize(("persona", "form"), cases("count"))
def test_count(world: World, persona: str, form: str) -> None:
    access = ORACLE[persona][form]
    actor = world.actors[persona]
    problems = Mismatches("count", persona, form)
    expected_outcome = "ok" if "read" in access.actions else "denied"
    outcome, number = attempt(world.service.count, form, None, actor)
    problems.check("count", expected_outcome, outcome)
    if number is not None:
        problems.check("count value", len(access.read), number)
    outcome, number = attempt(lambda: world.handle(persona).count(form))
    problems.check("api count", expected_outcome, outcome)
    if number is not None:
        problems.check("api count value", len(access.read), number)
    problems.assert_none()


@pytest.mark.parametrize(("persona", "form"), cases("search"))
def test_search(world: World, persona: str, form: str) -> None:
    """A word every record holds in one field finds the visible records when that
    field is visible, and nothing when it is hidden; filters and sorts on hidden
    fields are refused (they would reveal the values)."""
    access = ORACLE[persona][form]
    actor = world.actors[persona]
    ids = world.seeds[form]
    problems = Mismatches("search", persona, form)
    readable = "read" in access.actions
    for key in FIELDS[form]:
        visible = key in access.visible(form)
        word = SEARCH_WORDS.get(key)
        if word is not None:
            query = RecordQuery(search=word)
            outcome, page = attempt(world.service.page, form, query, None, 100, actor)
            problems.check(f"search {key}", "ok" if readable else "denied", outcome)
            if page is not None:
                found = labels_of(ids, [r.id for r in page.records])
                problems.check(f"search {key} ids", set(access.read) if visible else set(), found)
            outcome, number = attempt(world.service.count, form, query, actor)
            if number is not None:
                problems.check(f"search {key} count", len(access.read) if visible else 0, number)
        expected = "ok" if readable and visible else "denied"
        query = RecordQuery(filter=Condition(key, "not_empty"))
        outcome, page = attempt(world.service.page, form, query, None, 100, actor)
        problems.check(f"filter on {key}", expected, outcome)
        if page is not None:
            found = labels_of(ids, [r.id for r in page.records])
            problems.check(f"filter on {key} ids", set(access.read), found)
        query = RecordQuery(sort=Sort(key))
        outcome, _page = attempt(world.service.page, form, query, None, 100, actor)
        problems.check(f"sort by {key}", expected, outcome)
    problems.assert_none()


# -- write entry points: create, update, delete/restore --


@pytest.mark.parametrize(("persona", "form"), cases("create"))
def test_create(world: World, persona: str, form: str) -> None:
    access = ORACLE[persona][form]
    actor = world.actors[persona]
    problems = Mismatches("create", persona, form)
    allowed = "create" in access.actions
    writable = access.writable(form)
    try:
        values = {key: new_value(form, key, f"c-{persona}") for key in writable}
        if not allowed:
            values = {FIELDS[form][0]: new_value(form, FIELDS[form][0], f"c-{persona}")}
        before = world.all_ids(form)
        outcome, record = attempt(world.service.create, form, values, actor)
        problems.check("create", "ok" if allowed else "denied", outcome)
        if record is not None:
            problems.check("returned keys", set(access.visible(form)), set(record.values))
            stored = world.stored(form, record.id)
            problems.check("created_by", world.user_ids[persona], stored.created_by)
            problems.check("owner_department", world.primary(persona), stored.owner_department)
            problems.check("stored values", values, {key: stored.values[key] for key in writable})
            outcome, _own = attempt(world.service.get, form, record.id, actor)
            problems.check("creator reads it", "ok", outcome)
        # A value for a readonly or hidden field is refused, and nothing is written.
        for key in access.unwritable(form):
            given = {**values, key: new_value(form, key, f"x-{persona}")}
            if form == "supply" and "name" in given:
                given["name"] = f"x-{persona}-{key} name"
            outcome, _record = attempt(world.service.create, form, given, actor)
            problems.check(f"create with {key}", "denied", outcome)
        written = world.all_ids(form) - before
        problems.check("records written", 1 if allowed else 0, len(written))
    finally:
        world.reset()
    problems.assert_none()


@pytest.mark.parametrize(("persona", "form"), cases("bulk_create"))
def test_bulk_create(world: World, persona: str, form: str) -> None:
    """``bulk_create`` as a create, and as an import (``action="import"``)."""
    access = ORACLE[persona][form]
    actor = world.actors[persona]
    problems = Mismatches("bulk_create", persona, form)
    try:
        for action in ("create", "import"):
            allowed = action in access.actions
            before = world.all_ids(form)
            rows = [
                {key: new_value(form, key, f"b-{action}-{persona}{n}") for key in FIELDS[form]}
                for n in (1, 2)
            ]
            writable = [
                {k: v for k, v in row.items() if k in access.writable(form)} for row in rows
            ]
            if not allowed:
                writable = [{FIELDS[form][0]: row[FIELDS[form][0]]} for row in rows]
            outcome, _count = attempt(world.service.bulk_create, form, writable, actor, action)
            problems.check(f"bulk {action}", "ok" if allowed else "denied", outcome)
            new = sorted(world.all_ids(form) - before)
            problems.check(f"bulk {action} written", 2 if allowed else 0, len(new))
            for record_id, row in zip(new, writable, strict=False):
                stored = world.stored(form, record_id)
                problems.check("created_by", world.user_ids[persona], stored.created_by)
                problems.check("owner_department", world.primary(persona), stored.owner_department)
                problems.check("values", row, {k: stored.values[k] for k in row})
            for key in access.unwritable(form) if allowed else ():
                given = [{**row, key: new_value(form, key, f"bx-{persona}")} for row in writable]
                outcome, _count = attempt(world.service.bulk_create, form, given, actor, action)
                problems.check(f"bulk {action} with {key}", "denied", outcome)
            world.reset()
    finally:
        world.reset()
    problems.assert_none()


@pytest.mark.parametrize(("persona", "form"), cases("update"))
def test_update(world: World, persona: str, form: str) -> None:
    """Every field of every record: writable fields in the update scope change,
    readonly/hidden fields are refused, records outside the scope are NotFound."""
    access = ORACLE[persona][form]
    actor = world.actors[persona]
    problems = Mismatches("update", persona, form)
    modes = access.write if access.write is not None else access.modes
    try:
        ids = world.scratch(form, f"u-{persona}")
        for label, record_id in ids.items():
            for key in FIELDS[form]:
                before = world.stored(form, record_id)
                value = new_value(form, key, f"{label}-{persona}")
                if key == "name":
                    value = f"{label} renamed {persona}"
                if "update" not in access.actions:
                    expected = "denied"
                elif label not in access.update:
                    expected = "notfound"
                else:
                    expected = "ok" if modes.get(key, H) == E else "denied"
                outcome, record = attempt(
                    world.service.update, form, record_id, {key: value}, before.version, actor
                )
                cell = f"update {label}.{key} ({modes.get(key, H)})"
                problems.check(cell, expected, outcome)
                after = world.stored(form, record_id)
                problems.check(
                    f"{cell} stored",
                    value if expected == "ok" else before.values[key],
                    after.values[key],
                )
                if record is not None:
                    problems.check(f"{cell} keys", set(access.visible(form)), set(record.values))
    finally:
        world.reset()
    problems.assert_none()


@pytest.mark.parametrize(("persona", "form"), cases("delete"))
def test_delete_and_restore(world: World, persona: str, form: str) -> None:
    access = ORACLE[persona][form]
    actor = world.actors[persona]
    problems = Mismatches("delete", persona, form)
    may_delete = "delete" in access.actions
    try:
        ids = world.scratch(form, f"d-{persona}")
        for label, record_id in ids.items():
            in_scope = label in access.delete
            expected = "notfound" if may_delete and not in_scope else "ok" if in_scope else "denied"
            outcome, _none = attempt(world.service.delete, form, record_id, actor)
            problems.check(f"delete {label}", expected, outcome)
            trashed = world.stored(form, record_id, trash=True).deleted_at is not None
            problems.check(f"{label} in the trash", outcome == "ok", trashed)
            if not trashed:
                world.service.delete(form, record_id, SYSTEM)  # for the restore cell
            if "read" in access.actions:
                outcome, _record = attempt(world.service.get, form, record_id, actor)
                problems.check(f"get deleted {label}", "notfound", outcome)
                outcome, page = attempt(
                    world.service.page, form, RecordQuery(trash=True), None, 100, actor
                )
                listed = set() if page is None else {r.id for r in page.records} & {record_id}
                shown = {record_id} if label in access.read else set()
                problems.check(f"trash list shows {label}", shown, listed)
            outcome, _none = attempt(world.service.restore, form, record_id, actor)
            problems.check(f"restore {label}", expected, outcome)
            restored = world.stored(form, record_id, trash=True).deleted_at is None
            problems.check(f"{label} restored", outcome == "ok", restored)
            if restored:
                world.service.delete(form, record_id, SYSTEM)
            # Purging a trashed record for good follows the delete permission too.
            outcome, _none = attempt(world.service.purge, form, record_id, actor)
            problems.check(f"purge {label}", expected, outcome)
            gone, _record = attempt(world.stored, form, record_id, True)
            problems.check(f"{label} purged", outcome == "ok", gone == "notfound")
        check_delete_many(world, form, persona, access, problems)
    finally:
        world.reset()
    problems.assert_none()


def check_delete_many(world: World, form: str, persona: str, access, problems) -> None:
    """The list's batch delete: all of the batch in scope, or nothing is trashed."""
    actor = world.actors[persona]
    batch = world.scratch(form, f"m-{persona}")
    may_delete = "delete" in access.actions
    in_scope = [record_id for label, record_id in batch.items() if label in access.delete]
    everything = len(in_scope) == len(batch)
    expected = "denied" if not may_delete else "ok" if everything else "notfound"
    outcome, _none = attempt(world.service.delete_many, form, list(batch.values()), actor)
    problems.check("delete_many of every record", expected, outcome)
    trashed = {
        label
        for label, record_id in batch.items()
        if world.stored(form, record_id, trash=True).deleted_at is not None
    }
    problems.check("trashed by delete_many", set(batch) if outcome == "ok" else set(), trashed)
    if may_delete and in_scope and not everything:
        outcome, _none = attempt(world.service.delete_many, form, in_scope, actor)
        problems.check("delete_many of the records in scope", "ok", outcome)
        outcome, _none = attempt(world.service.restore_many, form, in_scope, actor)
        problems.check("restore_many of the records in scope", "ok", outcome)


# -- Excel: export and import --


def policy_fields(world: World, persona: str, form: str, writing: bool) -> list[str]:
    """The ``visible_fields`` a real caller passes (as ``runtime.cli.excel`` derives them)."""
    policy = Policy(world.service.spec, world.actors[persona], world.service.registry)
    return policy.writable_fields(form, "create") if writing else policy.visible_fields(form)


def export_cell(
    world: World, persona: str, form: str, visible_fields: list[str], entry: str
) -> Mismatches:
    access = ORACLE[persona][form]
    problems = Mismatches(entry, persona, form)
    path = world.folder / f"{entry}-{persona}-{form}.xlsx"
    try:
        run_steps(
            export_records(
                world.service,
                form,
                path,
                actor=world.actors[persona],
                visible_fields=visible_fields,
            )
        )
        outcome = "ok"
    except (PermissionDenied, ExcelError):
        outcome = "refused"
    problems.check("export", "ok" if "export" in access.actions else "refused", outcome)
    if outcome != "ok":
        problems.check("no file", False, path.exists())
        return problems
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header, lines = rows[0], rows[1:]
    problems.check("columns", ["Record ID", *(LABELS[k] for k in access.visible(form))], header)
    ids = world.seeds[form]
    problems.check(
        "exported records", set(access.read), labels_of(ids, [line[0] for line in lines])
    )
    problems.check("exported rows", len(access.read), len(lines))
    column = {label: index for index, label in enumerate(header)}
    for line in lines:
        label = labels_of(ids, [line[0]]).pop()
        for key in access.visible(form):
            if LABELS[key] not in column:
                continue  # reported with the columns
            cell = line[column[LABELS[key]]]
            value = seed_values(form, label)[key]
            if isinstance(value, (Decimal, int)) and isinstance(cell, (int, float)):
                cell = Decimal(str(cell))
            problems.check(f"{label}.{key}", value, cell)
    texts = " ".join(str(cell) for row in rows for cell in row if cell is not None)
    for key in access.hidden(form):
        word = SEARCH_WORDS.get(key)
        if word is not None:
            problems.check(f"hidden {key} values absent", False, word in texts)
    return problems


@pytest.mark.parametrize(("persona", "form"), cases("export"))
def test_export(world: World, persona: str, form: str) -> None:
    """The workbook holds exactly the readable records and visible columns; without
    the export action it is refused."""
    fields = policy_fields(world, persona, form, writing=False)
    export_cell(world, persona, form, fields, "export").assert_none()


@pytest.mark.parametrize(
    ("persona", "form"),
    cases("export_all_fields", only=lambda access, form: "export" in access.actions),
)
def test_export_enforces_hidden_fields_itself(world: World, persona: str, form: str) -> None:
    """Hidden fields never leave the data layer, whatever field list a caller passes."""
    export_cell(world, persona, form, list(FIELDS[form]), "export_all_fields").assert_none()


def write_import_file(path: Path, form: str, rows: list[dict[str, Any]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([LABELS[key] for key in FIELDS[form]])
    for row in rows:
        sheet.append(
            [float(v) if isinstance(v := row[key], Decimal) else v for key in FIELDS[form]]
        )
    book.save(path)


def import_rows(form: str, tag: str) -> list[dict[str, Any]]:
    rows = []
    for number in (1, 2):
        row = {key: new_value(form, key, f"{tag}{number}") for key in FIELDS[form]}
        if form == "visit":
            row["phone"] = f"1370013700{number}"
        rows.append(row)
    return rows


def import_cell(world: World, persona: str, form: str, visible_fields: list[str], entry: str):
    access = ORACLE[persona][form]
    problems = Mismatches(entry, persona, form)
    try:
        # Each entry imports rows of its own: the same rows twice would (rightly) be
        # refused as rows imported before.
        rows = import_rows(form, f"{entry}-{persona}")
        path = world.folder / f"{entry}-{persona}-{form}.xlsx"
        write_import_file(path, form, rows)
        before = world.all_ids(form)
        try:
            result = run_steps(
                import_records(
                    world.service,
                    form,
                    path,
                    actor=world.actors[persona],
                    visible_fields=visible_fields,
                )
            )
            outcome = "ok" if result.ok else "refused"
        except (PermissionDenied, ExcelError):
            outcome = "refused"
        new = sorted(world.all_ids(form) - before)
        if "import" not in access.actions:
            problems.check("import", "refused", outcome)
            problems.check("records written", 0, len(new))
        elif outcome == "ok":  # hidden/readonly columns ignored: the rest is imported
            problems.check("records written", len(rows), len(new))
            for record_id, row in zip(new, rows, strict=False):
                stored = world.stored(form, record_id)
                problems.check("created_by", world.user_ids[persona], stored.created_by)
                problems.check("owner_department", world.primary(persona), stored.owner_department)
                for key in FIELDS[form]:
                    writable = key in access.writable(form)
                    expected = row[key] if writable else None
                    problems.check(f"imported {key}", expected, stored.values[key])
        else:  # or refused as a whole because of them: then nothing is written
            problems.check("refused import writes nothing", 0, len(new))
            problems.check(
                "refused only for unwritable columns", True, bool(access.unwritable(form))
            )
    finally:
        world.reset()
    return problems


@pytest.mark.parametrize(("persona", "form"), cases("import"))
def test_import(world: World, persona: str, form: str) -> None:
    """Import needs the import action; hidden and readonly columns are not written."""
    fields = policy_fields(world, persona, form, writing=True)
    import_cell(world, persona, form, fields, "import").assert_none()


@pytest.mark.parametrize(
    ("persona", "form"),
    cases("import_all_fields", only=lambda access, form: "import" in access.actions),
)
def test_import_enforces_field_modes_itself(world: World, persona: str, form: str) -> None:
    import_cell(world, persona, form, list(FIELDS[form]), "import_all_fields").assert_none()


@pytest.mark.parametrize(
    ("persona", "form"),
    cases(
        "import_upsert",
        forms=("supply",),  # the form with a unique field
        only=lambda access, form: "import" in access.actions,
    ),
)
def test_import_upsert_respects_update_scope(world: World, persona: str, form: str) -> None:
    """Upserting by a unique value reaches only records in the update scope."""
    access = ORACLE[persona][form]
    problems = Mismatches("import_upsert", persona, form)
    try:
        ids = world.scratch(form, f"up-{persona}")
        for label, record_id in ids.items():
            before = world.stored(form, record_id)
            path = world.folder / f"upsert-{persona}-{label}.xlsx"
            book = openpyxl.Workbook()
            book.active.append(["Name"])
            book.active.append([before.values["name"]])
            book.save(path)
            try:
                result = run_steps(
                    import_records(
                        world.service,
                        form,
                        path,
                        actor=world.actors[persona],
                        visible_fields=policy_fields(world, persona, form, writing=True),
                        upsert_by="name",
                    )
                )
                outcome = "ok" if result.ok and result.updated == 1 else "refused"
            except (PermissionDenied, ExcelError, NotFound):
                outcome = "refused"
            expected = "ok" if label in access.update else "refused"
            problems.check(f"upsert {label}", expected, outcome)
            after = world.stored(form, record_id)
            touched = after.version != before.version
            problems.check(f"upsert {label} touched", expected == "ok", touched)
    finally:
        world.reset()
    problems.assert_none()


# -- the fixture itself --


def test_new_form_and_field_are_granted_to_nobody() -> None:
    """The premise of the deny-by-default cells: version 2's roles never mention
    ``billing`` or ``visit.allergy``."""
    spec = app_spec(2)
    for role in spec.roles:
        assert "billing" not in role.grants
        assert all("allergy" not in grant.fields for grant in role.grants.values())
    assert {form.key for form in spec.forms} == set(FORMS)
    for form in spec.forms:
        keys = tuple(item.key for item in form.fields)
        assert keys == FIELDS[form.key]
        assert all(LABELS[item.key] == item.label for item in form.fields)


def test_oracle_covers_every_persona_and_form() -> None:
    assert set(ORACLE) == set(PERSONAS)
    for forms in ORACLE.values():
        assert set(forms) == set(FORMS)


@pytest.mark.parametrize(("persona", "form"), cases("update_same_value"))
def test_update_with_the_stored_value_is_refused_too(world: World, persona: str, form: str):
    """Issue #11 §3: a readonly or hidden field named in an update is refused even
    when the value given is the one stored (a right guess), exactly like a wrong one."""
    access = ORACLE[persona][form]
    actor = world.actors[persona]
    problems = Mismatches("update_same_value", persona, form)
    modes = access.write if access.write is not None else access.modes
    try:
        for label, record_id in world.scratch(form, f"same-{persona}").items():
            stored = world.stored(form, record_id)
            for key in FIELDS[form]:
                writable = modes.get(key, H) == E
                if "update" not in access.actions:
                    expected = "denied"
                elif label not in access.update:
                    expected = "notfound"
                else:
                    expected = "ok" if writable else "denied"
                # A writable field set to its own value changes nothing; others are
                # also tried empty (the "is it empty?" guess).
                for guess in (stored.values[key],) if writable else (stored.values[key], None):
                    outcome, _record = attempt(
                        world.service.update, form, record_id, {key: guess}, stored.version, actor
                    )
                    problems.check(f"update {label}.{key} = {guess!r}", expected, outcome)
            after = world.stored(form, record_id)
            problems.check(f"{label} unchanged", stored.values, after.values)
    finally:
        world.reset()
    problems.assert_none()


# -- issue #11 §3: names, formulas, sessions and export audit, on the repro package --

#: The repro package (tests/services/leak_world.py): Alice's staff record A
#: (diabetes), Bob's B (schizophrenia); Alice's visit of B. The oracle, by hand:
LEAK_PERSONAS = ("admin", "alice", "bob")
STAFF_FIELDS = ("name", "code", "salary", "diagnosis", "bonus")
LEAK_ORACLE: dict[str, dict[str, Any]] = {
    "admin": {
        "staff_read": {"A", "B"},
        "staff_modes": dict.fromkeys(STAFF_FIELDS, E),
    },
    "alice": {
        "staff_read": {"A"},
        # bonus = salary * 0.1 is granted readonly, but salary is hidden: hidden.
        "staff_modes": {"name": E, "code": E, "salary": H, "diagnosis": H, "bonus": H},
    },
    "bob": {
        "staff_read": {"B"},
        "staff_modes": {"name": E, "code": E, "salary": H, "diagnosis": H, "bonus": H},
    },
}
LEAK_VALUES = {
    "A": {"name": "Alice", "code": "S1", "diagnosis": "diabetes"},
    "B": {"name": "Bob", "code": "S2", "diagnosis": "schizophrenia"},
}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def leak(request, tmp_path_factory):
    from tests.services.leak_world import build_leak_world

    folder = tmp_path_factory.mktemp(f"leak_{request.param}")
    if request.param == "sqlite":
        databases: Iterator[str] = iter([f"sqlite:///{folder / 'workspace.sqlite'}"])
    else:
        databases = _postgres_database()
    built = None
    try:
        built = build_leak_world(next(databases))
        built.folder = folder  # type: ignore[attr-defined]
        yield built
    finally:
        if built is not None:
            built.workspace.dispose()
        for _rest in databases:
            pass


def _leak_actor(leak, persona: str) -> Actor:
    return {"admin": leak.admin, "alice": leak.alice, "bob": leak.bob}[persona]


def _staff_ids(leak) -> dict[str, int]:
    return {"A": leak.alice_staff, "B": leak.bob_staff}


@pytest.mark.parametrize("persona", LEAK_PERSONAS)
def test_names_follow_scope_and_field_modes(leak, persona: str) -> None:
    """Names of linked records by every display field, both ways, through the one
    resolver and through an export: a name is shown (and matched) only for a
    record the persona reads, by a field the persona sees; else ``#id``."""
    from runtime.services.names import NameResolver

    oracle = LEAK_ORACLE[persona]
    actor = _leak_actor(leak, persona)
    problems = Mismatches("names", persona, "staff")
    ids = _staff_ids(leak)
    for key in ("name", "code", "diagnosis"):
        kind = ("record", "staff", key)
        resolver = NameResolver(leak.service, actor)
        names = resolver.names(kind, list(ids.values()))
        found = resolver.ids(kind, [values[key] for values in LEAK_VALUES.values()])
        for label, record_id in ids.items():
            readable = label in oracle["staff_read"] and oracle["staff_modes"][key] != H
            value = LEAK_VALUES[label][key]
            problems.check(
                f"name of {label} by {key}",
                value if readable else f"#{record_id}",
                names[record_id],
            )
            problems.check(f"id of {value!r}", record_id if readable else None, found.get(value))
    # The export of visits names the patient (shown by diagnosis) the same way.
    path = leak.folder / f"visits-{persona}.csv"
    run_steps(
        export_records(
            leak.service,
            "visit",
            path,
            actor=actor,
            visible_fields=["patient", "colleague", "note"],
        )
    )
    text = path.read_text(encoding="utf-8-sig")
    for key, value in (("diagnosis", "schizophrenia"), ("name", "Bob")):
        readable = "B" in oracle["staff_read"] and oracle["staff_modes"][key] != H
        problems.check(f"export shows Bob's {key}", readable, value in text)
    problems.assert_none()


@pytest.mark.parametrize("persona", LEAK_PERSONAS)
def test_formulas_and_writes_of_the_repro_package(leak, persona: str) -> None:
    """Field modes as the persona reads records (a formula over a hidden field is
    hidden and cannot be filtered on), and every readonly or hidden field refused
    in a write whatever the value."""
    oracle = LEAK_ORACLE[persona]
    actor = _leak_actor(leak, persona)
    problems = Mismatches("formulas_writes", persona, "staff")
    visible = {key for key, mode in oracle["staff_modes"].items() if mode != H}
    for label, record_id in _staff_ids(leak).items():
        outcome, record = attempt(leak.service.get, "staff", record_id, actor)
        problems.check(
            f"get {label}", "ok" if label in oracle["staff_read"] else "notfound", outcome
        )
        if record is None:
            continue
        problems.check(f"keys of {label}", visible, set(record.values))
        stored = leak.service.get("staff", record_id, SYSTEM)
        for key, mode in oracle["staff_modes"].items():
            for guess in (stored.values[key], None, "guess" if key == "diagnosis" else Decimal(7)):
                expected = "ok" if mode == E else "denied"
                if expected == "ok" and guess != stored.values[key]:
                    continue  # changing writable fields is the other tests' business
                outcome, _r = attempt(
                    leak.service.update, "staff", record_id, {key: guess}, stored.version, actor
                )
                problems.check(f"update {label}.{key} = {guess!r}", expected, outcome)
        problems.check(
            f"{label} unchanged", stored.values, leak.service.get("staff", record_id, SYSTEM).values
        )
    query = RecordQuery(filter=Condition("bonus", "gt", Decimal(800)))
    outcome, _page = attempt(leak.service.page, "staff", query, None, 100, actor)
    problems.check("filter on bonus", "ok" if "bonus" in visible else "denied", outcome)
    problems.assert_none()


@pytest.mark.parametrize("persona", LEAK_PERSONAS)
def test_exports_are_audited_and_sessions_end(leak, persona: str) -> None:
    """An export adds one audit row naming the persona; once the persona's account
    is disabled, every entry point refuses the session; enabled again, it works."""
    import sqlalchemy as sa

    from runtime.services.errors import SessionEnded
    from runtime.store.schema import audit_table

    actor = _leak_actor(leak, persona)
    problems = Mismatches("audit_sessions", persona, "visit")

    def exports() -> list:
        with leak.workspace.reader() as connection:
            return (
                connection.execute(
                    sa.select(audit_table.c.username).where(audit_table.c.action == "export")
                )
                .scalars()
                .all()
            )

    before = exports()
    path = leak.folder / f"audit-{persona}.xlsx"
    run_steps(export_records(leak.service, "visit", path, actor=actor, visible_fields=["note"]))
    problems.check("export audit rows", [*before, persona], exports())

    other_admin = "root" if persona == "admin" else "admin"
    if other_admin == "root" and "root" not in {u.username for u in leak.accounts.list_users()}:
        leak.accounts.create_user("root", password="leak-pass-1", is_admin=True, actor=leak.admin)
    by = leak.login(other_admin)
    leak.accounts.disable_user(persona, actor=by)
    try:
        entry_points = {
            "get": lambda: leak.service.get("visit", leak.visit, actor),
            "page": lambda: leak.service.page("visit", RecordQuery(), actor=actor),
            "count": lambda: leak.service.count("visit", None, actor),
            "create": lambda: leak.service.create("visit", {"note": "x"}, actor),
            "update": lambda: leak.service.update(
                "visit",
                leak.visit,
                {"note": "y"},
                leak.service.get("visit", leak.visit, SYSTEM).version,
                actor,
            ),
            "bulk_create": lambda: leak.service.bulk_create("visit", [{"note": "z"}], actor),
            "export": lambda: run_steps(
                export_records(
                    leak.service,
                    "visit",
                    leak.folder / "refused.xlsx",
                    actor=actor,
                    visible_fields=["note"],
                )
            ),
            "names": lambda: leak.service.names(actor).names("user", [1]),
        }
        for name, call in entry_points.items():
            try:
                call()
                outcome = "ok"
            except SessionEnded:
                outcome = "session ended"
            problems.check(f"{name} after disable", "session ended", outcome)
    finally:
        leak.accounts.enable_user(persona, actor=by)
    outcome, _record = attempt(leak.service.get, "visit", leak.visit, actor)
    problems.check("get after enable", "ok", outcome)
    problems.assert_none()
