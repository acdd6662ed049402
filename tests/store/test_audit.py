"""The audit log: one row per change with who and what, and a hash chain that tells tampering."""

from __future__ import annotations

import inspect
import json

import pytest
import sqlalchemy as sa

from runtime.store.audit import (
    AuditEntry,
    ChainProgress,
    ChainReport,
    append,
    verify_chain,
    verify_chain_steps,
)
from runtime.store.schema import audit_table


def audit_rows(workspace) -> list:
    with workspace.engine.connect() as connection:
        return (
            connection.execute(sa.select(audit_table).order_by(audit_table.c.id)).mappings().all()
        )


def verify(workspace):
    with workspace.engine.connect() as connection:
        return verify_chain(connection)


@pytest.fixture
def history(repair, workspace, icu, nurse):
    """A record's whole life: create, update, delete, restore, delete, purge."""
    device = repair.create(
        "device", {"asset_no": "EQ-0001", "name": "泵", "owner_dept": icu, "price": "10"}, nurse
    )
    repair.update("device", device.id, {"name": "输液泵", "price": "12.5"}, 1, nurse)
    repair.delete("device", device.id, nurse)
    repair.restore("device", device.id, nurse)
    repair.delete("device", device.id, nurse)
    repair.purge("device", device.id, nurse)
    return device


def test_every_change_writes_one_row(workspace, history, nurse, icu):
    rows = audit_rows(workspace)
    assert [row["action"] for row in rows] == [
        "install_app", "create", "update", "delete", "restore", "delete", "purge",
    ]  # fmt: skip
    for row in rows[1:]:
        assert row["user_id"] == nurse.user_id
        assert row["username"] == "zhang.wei"
        assert row["app_id"] == "equipment_repair"
        assert row["form"] == "device"
        assert row["record_id"] == history.id
        assert row["workstation"]
        assert row["at"] is not None
    created = json.loads(rows[1]["details"])
    assert created == {
        "asset_no": "EQ-0001",
        "name": "泵",
        "owner_dept": icu,
        "price": "10.00",
        "in_service": True,  # the field's default
    }
    assert json.loads(rows[2]["details"]) == {
        "name": ["泵", "输液泵"],
        "price": ["10.00", "12.50"],
    }
    assert rows[3]["details"] is None and rows[4]["details"] is None
    purged = json.loads(rows[6]["details"])  # the audit keeps the last values
    assert purged["name"] == "输液泵" and purged["asset_no"] == "EQ-0001"
    report = verify(workspace)
    assert report.ok and report.rows == 7 and report.broken_id is None


def test_failed_saves_write_no_audit(repair, workspace, icu):
    from runtime.services.records.service import ValidationFailed

    before = len(audit_rows(workspace))
    with pytest.raises(ValidationFailed):
        repair.create("device", {"asset_no": "bad", "name": "x", "owner_dept": icu})
    assert len(audit_rows(workspace)) == before


def test_bulk_create_is_one_row(repair, workspace, icu, nurse):
    rows = [{"asset_no": f"EQ-{n:04d}", "name": "n", "owner_dept": icu} for n in range(50)]
    repair.bulk_create("device", rows, nurse)
    last = audit_rows(workspace)[-1]
    assert last["action"] == "bulk_create" and last["record_id"] is None
    assert json.loads(last["details"]) == {"rows": 50}
    assert verify(workspace).ok


def test_subtable_changes_are_audited(repair, workspace, icu):
    device = repair.create("device", {"asset_no": "EQ-0001", "name": "n", "owner_dept": icu})
    request = repair.create(
        "request",
        {"device": device.id, "reported_on": "2024-03-05 08:00", "urgency": "normal",
         "fault": "f", "status": "open", "parts": [{"part": "a", "qty": 1, "unit_price": "2"}]},
    )  # fmt: skip
    repair.update("request", request.id, {"parts": [{"part": "b", "qty": 2, "unit_price": 3}]}, 1)
    details = json.loads(audit_rows(workspace)[-1]["details"])
    assert details["parts"] == [
        [{"part": "a", "qty": 1, "unit_price": "2.00", "line_total": "2.00"}],
        [{"part": "b", "qty": 2, "unit_price": "3.00", "line_total": "6.00"}],
    ]
    assert details["total_cost"] == ["2.00", "6.00"]


@pytest.fixture
def chain(workspace) -> list[int]:
    """Ten appended rows with some details; returns their ids."""
    ids = []
    with workspace.engine.begin() as connection:
        for n in range(10):
            entry = AuditEntry("login", n, f"user{n}", details={"n": n, "note": "登录"})
            ids.append(append(connection, entry))
    assert verify(workspace).ok
    return ids


def test_edited_details_break_the_chain_at_that_row(workspace, chain):
    with workspace.engine.begin() as connection:
        connection.execute(
            audit_table.update().where(audit_table.c.id == chain[4]).values(details='{"n": 99}')
        )
    report = verify(workspace)
    assert not report.ok
    assert report.broken_id == chain[4]
    assert report.rows == 4  # the rows before it are fine
    assert "changed" in report.reason


def test_edited_columns_break_the_chain(workspace, chain):
    row = audit_rows(workspace)[6]
    changes = {"user_id": 42, "username": "mallory", "action": "logout",
               "at": row["at"].replace(year=2001), "record_id": 5}  # fmt: skip
    for column, changed in changes.items():
        with workspace.engine.begin() as connection:
            edit = audit_table.update().where(audit_table.c.id == chain[6])
            connection.execute(edit.values({column: changed}))
        report = verify(workspace)
        assert (report.ok, report.broken_id) == (False, chain[6]), column
        with workspace.engine.begin() as connection:  # put it back: the chain holds again
            connection.execute(edit.values({column: row[column]}))
        assert verify(workspace).ok, column


def test_deleted_middle_row_breaks_the_chain_after_it(workspace, chain):
    with workspace.engine.begin() as connection:
        connection.execute(audit_table.delete().where(audit_table.c.id == chain[5]))
    report = verify(workspace)
    assert not report.ok
    assert report.broken_id == chain[6]
    assert "missing" in report.reason


def test_swapped_rows_break_the_chain(workspace, chain):
    first, second = chain[2], chain[7]
    with workspace.engine.begin() as connection:
        for old, new in ((first, -1), (second, first), (-1, second)):
            connection.execute(audit_table.update().where(audit_table.c.id == old).values(id=new))
    report = verify(workspace)
    assert not report.ok
    assert report.broken_id == first


def test_rehashed_row_breaks_the_chain_at_that_row(workspace, chain):
    """Recomputing a forged row's hash without the key does not help: the row is signed."""
    from runtime.store.audit import row_hash

    with workspace.engine.begin() as connection:
        row = dict(
            connection.execute(sa.select(audit_table).where(audit_table.c.id == chain[3]))
            .mappings()
            .one()
        )
        row["details"] = '{"n": 3, "note": "forged"}'
        forged = row_hash(row["prev_hash"], row)
        connection.execute(
            audit_table.update()
            .where(audit_table.c.id == chain[3])
            .values(details=row["details"], hash=forged)
        )
    report = verify(workspace)
    assert (report.ok, report.broken_id) == (False, chain[3])


def test_verify_walks_in_batches(workspace, chain):
    with workspace.engine.connect() as connection:
        report = verify_chain(connection, batch=3)
    assert report.ok and report.rows == 10


def walk(workspace, batch: int) -> tuple[list[ChainProgress], ChainReport]:
    """Every step of a step-wise chain check, and its report."""
    with workspace.engine.connect() as connection:
        steps, seen = verify_chain_steps(connection, batch), []
        while True:
            try:
                seen.append(next(steps))
            except StopIteration as stop:
                return seen, stop.value


def test_steps_count_up_to_the_total(workspace, chain):
    steps, report = walk(workspace, batch=3)
    assert [(step.checked, step.total) for step in steps] == [
        (0, 10), (3, 10), (6, 10), (9, 10), (10, 10),
    ]  # fmt: skip
    assert report == verify(workspace)
    assert (report.ok, report.rows, report.signed_from, report.last_id) == (True, 10, 1, chain[-1])


def test_steps_stop_at_the_tampered_row_with_the_same_report(workspace, chain):
    with workspace.engine.begin() as connection:
        connection.execute(
            audit_table.update().where(audit_table.c.id == chain[4]).values(username="mallory")
        )
    steps, report = walk(workspace, batch=3)
    assert [step.checked for step in steps] == [0, 3]  # the second batch holds the bad row
    assert report == verify(workspace)
    assert (report.ok, report.broken_id, report.rows) == (False, chain[4], 4)


def test_steps_of_an_empty_log(workspace):
    steps, report = walk(workspace, batch=3)
    assert steps == [ChainProgress(0, 0)]
    assert report == ChainReport(True, 0)


def test_closing_the_steps_early_is_clean(workspace, chain):
    with workspace.engine.connect() as connection:
        steps = verify_chain_steps(connection, batch=3)
        assert [next(steps).checked, next(steps).checked] == [0, 3]
        steps.close()
        assert inspect.getgeneratorstate(steps) == inspect.GEN_CLOSED
        with pytest.raises(StopIteration):
            next(steps)
        assert verify_chain(connection, batch=4).rows == 10  # still usable
