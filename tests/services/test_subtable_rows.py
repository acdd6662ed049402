"""Subtable rows of a page of records (records/reads.py over store/child_rows.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import runtime.store.child_rows as child_rows
from runtime.services.actor import SYSTEM, Actor
from runtime.services.errors import PermissionDenied
from runtime.services.records.reads import subtable_rows
from runtime.services.records.service import RecordService
from runtime.spec import parse_app_spec
from runtime.store.workspace import Workspace
from tests.store.conftest import add_user

APP = "orders"
CLERK = {
    "sale": {
        "actions": ["read", "export"],
        "scope": "own",
        "fields": {"name": "edit", "lines": "edit", "secret": "hidden"},
    }
}
READER = {"sale": {"actions": ["read"], "scope": "all", "fields": {"name": "edit"}}}


def _spec():
    subtable = {"type": "subtable"}
    return parse_app_spec(
        {
            "format": "formwright-app",
            "spec_version": 1,
            "id": APP,
            "version": 1,
            "title": "Sales",
            "forms": [
                {
                    "key": "sale",
                    "title": "Sales",
                    "fields": [
                        {"key": "name", "type": "text", "label": "Name"},
                        {
                            **subtable,
                            "key": "lines",
                            "label": "Lines",
                            "fields": [
                                {"key": "part", "type": "text", "label": "Part"},
                                {"key": "qty", "type": "number", "label": "Qty"},
                            ],
                        },
                        {
                            **subtable,
                            "key": "secret",
                            "label": "Secret",
                            "fields": [{"key": "note", "type": "text", "label": "Note"}],
                        },
                    ],
                }
            ],
            "views": [],
            "roles": [
                {"key": "clerk", "title": "Clerk", "grants": CLERK},
                {"key": "reader", "title": "Reader", "grants": READER},
            ],
        }
    )


@pytest.fixture
def world(db_url):
    workspace = Workspace.open(db_url)
    spec = _spec()
    workspace.install(spec)
    service = RecordService(workspace, spec)
    ann, ben = add_user(workspace, "ann", "Ann"), add_user(workspace, "ben", "Ben")
    ids = {}
    for owner, name, count in ((ann, "a0", 0), (ann, "a3", 3), (ben, "b2", 2), (ann, "a1", 1)):
        lines = [{"part": f"{name}-{n}", "qty": n} for n in range(count)]
        secret = [{"note": f"{name} secret"}] if count else None
        values = {"name": name, "lines": lines or None, "secret": secret}
        ids[name] = service.create("sale", values, owner).id
    yield service, ids, ann, ben
    workspace.dispose()


def _as(actor: Actor, role: str) -> Actor:
    return Actor(actor.user_id, actor.username, roles={APP: frozenset({role})})


def test_rows_of_every_record_in_row_order(world):
    service, ids, _ann, _ben = world
    records = service.page("sale", limit=10).records
    rows = subtable_rows(service, "sale", ["lines", "secret"], records)
    assert set(rows) == {"lines", "secret"}
    assert ids["a0"] not in rows["lines"]  # no rows, no entry
    assert [row["part"] for row in rows["lines"][ids["a3"]]] == ["a3-0", "a3-1", "a3-2"]
    assert [row["qty"] for row in rows["lines"][ids["a3"]]] == [0, 1, 2]
    assert rows["lines"][ids["b2"]] == [{"part": "b2-0", "qty": 0}, {"part": "b2-1", "qty": 1}]
    assert rows["secret"][ids["a1"]] == [{"note": "a1 secret"}]


def test_one_query_per_subtable_and_chunk(world, monkeypatch):
    service, _ids, _ann, _ben = world
    records = service.page("sale", limit=10).records
    selects: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "__sale__lines" in statement or "__sale__secret" in statement:
            selects.append(statement)

    sa.event.listen(service.workspace.engine, "before_cursor_execute", count)
    try:
        whole = subtable_rows(service, "sale", ["lines", "secret"], records)
        assert len(selects) == 2
        monkeypatch.setattr(child_rows, "IN_IDS", 3)  # 4 records: two chunks per subtable
        selects.clear()
        assert subtable_rows(service, "sale", ["lines", "secret"], records) == whole
        assert len(selects) == 4
    finally:
        sa.event.remove(service.workspace.engine, "before_cursor_execute", count)


def test_hidden_subtables_and_rows_out_of_scope_are_left_out(world):
    service, ids, ann, _ben = world
    clerk = _as(ann, "clerk")
    records = service.page("sale", limit=10).records  # every record, as read by SYSTEM
    rows = subtable_rows(service, "sale", ["lines", "secret"], records, clerk, "export")
    assert set(rows) == {"lines"}  # the secret subtable is hidden from clerks
    assert set(rows["lines"]) == {ids["a3"], ids["a1"]}  # Ben's record is not Ann's


def test_the_action_must_be_granted(world):
    service, _ids, ann, _ben = world
    reader = _as(ann, "reader")
    records = service.page("sale", limit=10, actor=SYSTEM).records
    with pytest.raises(PermissionDenied):
        subtable_rows(service, "sale", ["lines"], records, reader, "export")
    assert subtable_rows(service, "sale", ["lines"], records, reader) == {}  # lines hidden
