"""Record seals as a bulk insert writes them: hashed from what it sends (SQLite),
read back only when what is stored differs, and kept compact in the audit row."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from runtime.services.records.service import RecordService
from runtime.store import audit_seals
from runtime.store.audit import SEALS_ACTION, AuditEntry, append, utc_now
from runtime.store.audit_seals import InsertSealer, Seals, record_seals
from runtime.store.audit_verify import verify_workspace
from runtime.store.schema import audit_table
from tests.store.conftest import make_spec

FIELDS = [
    {"key": "code", "type": "text", "label": "Code"},
    {"key": "qty", "type": "number", "label": "Qty", "decimals": 0},
    {"key": "price", "type": "number", "label": "Price", "decimals": 2},
    {"key": "due", "type": "date", "label": "Due"},
    {"key": "urgent", "type": "checkbox", "label": "Urgent"},
]


@pytest.fixture
def stock(workspace) -> RecordService:
    spec = make_spec("stock", [{"key": "item", "title": "Items", "fields": FIELDS}])
    workspace.install(spec)
    return RecordService(workspace, spec)


def rows(count: int) -> list[dict]:
    return [
        {"code": f"C-{n}", "qty": n, "price": Decimal("1.25") * n, "due": "2024-03-05",
         "urgent": n % 2 == 0}
        for n in range(count)
    ]  # fmt: skip


def verify(workspace):
    with workspace.snapshot_reader() as connection:
        return verify_workspace(connection, workspace.registry)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_bulk_insert_on_sqlite_reads_back_one_row_not_every_row(workspace, stock, monkeypatch):
    read: list[int] = []
    real_rows = audit_seals._rows

    def counted(connection, tables, low, high):
        found = real_rows(connection, tables, low, high)
        read.append(len(found[0]))
        return found

    monkeypatch.setattr(audit_seals, "_rows", counted)
    assert stock.bulk_create("item", rows(30)) == 30
    assert sum(read) == 1  # the first row: is what is stored what was sent?
    monkeypatch.undo()
    assert verify(workspace).ok
    table = stock.repository.form_tables("item").table
    with workspace.engine.begin() as connection:
        connection.execute(table.update().where(table.c.id == 17).values(qty=99))
    assert [(d.record_id, d.how) for d in verify(workspace).drifted] == [(17, "changed")]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_row_stored_otherwise_than_sent_is_read_back(workspace, stock):
    """SQLite stores the float 3.0 sent for an integer column as 3: hashing what was
    sent would seal a row that is not there, so the records are read back."""
    tables = stock.repository.form_tables("item")
    keys = list(tables.columns)
    with workspace.engine.begin() as connection:
        sealer = InsertSealer(connection, tables, keys)
        lines = [["a", 3.0, None, None, None], ["b", 4, None, None, None]]
        stock.repository.bulk_insert(connection, "item", keys, lines, _system(), sealer.add)
        assert not sealer.fast
        seals = dict(sealer.seals().items())
        assert seals == record_seals(connection, tables, [1, 2])
        assert None not in seals.values()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sent_rows_are_sealed_like_stored_rows(workspace, stock):
    tables = stock.repository.form_tables("item")
    with workspace.engine.begin() as connection:
        sealer = InsertSealer(connection, tables, list(tables.columns))
        lines = [["x", 1, Decimal("2.50"), None, True], ["y", None, None, None, False]]
        stock.repository.bulk_insert(
            connection, "item", list(tables.columns), lines, _system(), sealer.add
        )
        assert sealer.fast
        assert dict(sealer.seals().items()) == record_seals(connection, tables, [1, 2])


def test_seals_are_kept_as_runs_of_consecutive_ids():
    seals = Seals.of({5: "a" * 16, 6: "b" * 16, 7: None, 9: "c" * 16, 10: "d" * 16})
    assert seals.runs == ((5, "a" * 16 + "b" * 16), (7, None), (9, "c" * 16 + "d" * 16))
    assert len(seals) == 5
    assert Seals.parse(seals.text()) == seals
    pieces = seals.split(2)
    assert [dict(piece.items()) for piece in pieces] == [
        {5: "a" * 16, 6: "b" * 16},
        {7: None, 9: "c" * 16},
        {10: "d" * 16},
    ]


def test_many_seals_continue_in_further_rows_in_order(workspace, monkeypatch):
    monkeypatch.setattr("runtime.store.audit.SEALS_PER_ROW", 3)
    given = {ident: f"{ident:016x}" for ident in range(1, 8)}
    with workspace.engine.begin() as connection:
        append(connection, AuditEntry("bulk_create", app_id="a", form="f", seals=given))
        logged = connection.execute(
            sa.select(audit_table.c.action, audit_table.c.seals).order_by(audit_table.c.id)
        ).all()
    assert [action for action, _ in logged[-3:]] == ["bulk_create", SEALS_ACTION, SEALS_ACTION]
    found: dict[int, str | None] = {}
    for _, text in logged[-3:]:
        found.update(Seals.parse(text).items())
    assert found == given


def _system() -> dict:
    return {"version": 1} | dict.fromkeys(("created_at", "updated_at"), utc_now())
