"""Tampering with the audit trail, as someone with write access to the database would.

The chain of signed rows, the seals of the records and a checkpoint kept outside
the database together name what was changed: the first broken row, the record
that drifted from its last audited state, or the rows missing since a checkpoint.
"""

from __future__ import annotations

import json
import stat

import pytest
import sqlalchemy as sa

from runtime.store.audit import (
    CHANGED,
    HEAD_MISSING,
    MOVED,
    SIGNING_GONE,
    UNSIGNED,
    AuditEntry,
    append,
    row_hash,
)
from runtime.store.audit_keys import signing_key_path
from runtime.store.audit_verify import (
    DRIFTED,
    REWRITTEN,
    TAIL_MISSING,
    make_checkpoint,
    verify_workspace,
)
from runtime.store.schema import audit_chains_table, audit_table, meta_table
from tests.store.conftest import load_sample


def verify(workspace, against=None):
    with workspace.snapshot_reader() as connection:
        return verify_workspace(connection, workspace.registry, against=against)


def checkpoint(workspace):
    with workspace.reader() as connection:
        return make_checkpoint(connection)


def rows(workspace) -> list[dict]:
    with workspace.reader() as connection:
        query = sa.select(audit_table).order_by(audit_table.c.id)
        return [dict(row) for row in connection.execute(query).mappings()]


def rewrite_from(workspace, start: int, change, unsign: bool = False) -> None:
    """What an attacker without the key can do: change rows from index ``start``
    on and recompute every later hash (plain SHA-256, as before signing)."""
    log = rows(workspace)
    prev = log[start - 1]["hash"] if start else "0" * 64
    with workspace.engine.begin() as connection:
        for index, row in enumerate(log[start:], start):
            if index == start:
                change(row)
            if unsign:
                row["key_id"] = None
            row["prev_hash"] = prev
            row["hash"] = row_hash(prev, row)
            prev = row["hash"]
            connection.execute(
                audit_table.update().where(audit_table.c.id == row["id"]).values(**row)
            )


@pytest.fixture
def devices(repair, nurse, icu):
    """Three devices saved through the service (each create is audited and sealed)."""
    made = []
    for number in range(3):
        values = {"asset_no": f"EQ-{number:04}", "name": f"泵 {number}", "owner_dept": icu}
        made.append(repair.create("device", values, nurse))
    repair.update("device", made[1].id, {"name": "输液泵"}, 1, nurse)
    return made


@pytest.fixture
def logins(workspace) -> list[int]:
    ids = []
    with workspace.engine.begin() as connection:
        for n in range(6):
            ids.append(append(connection, AuditEntry("login", n, f"user{n}")))
    return ids


def test_an_untouched_workspace_is_intact_and_signed(workspace, devices, logins):
    report = verify(workspace)
    assert report.ok, report
    assert report.signed_from == rows(workspace)[0]["id"] and report.unsigned == 0
    assert report.drifted == ()


def test_the_key_is_outside_the_database_and_private(workspace, devices):
    with workspace.reader() as connection:
        ident = connection.execute(
            sa.select(meta_table.c.value).where(meta_table.c.key == "workspace_id")
        ).scalar_one()
    path = signing_key_path(ident)
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = json.loads(path.read_text())["key"]
    assert all(secret not in json.dumps(row, default=str) for row in rows(workspace))


def delete_newest(connection, first_id: int) -> None:
    """Delete the rows from ``first_id`` on, and (PostgreSQL) move each chain's head
    back to its newest remaining row, as an attacker who knows the schema would."""
    connection.execute(audit_table.delete().where(audit_table.c.id >= first_id))
    heads = audit_chains_table
    for chain in connection.execute(sa.select(heads.c.chain)).scalars().all():
        newest = connection.execute(
            sa.select(audit_table.c.id, audit_table.c.hash, audit_table.c.key_id)
            .where(audit_table.c.chain == chain)
            .order_by(audit_table.c.id.desc())
            .limit(1)
        ).first()
        values = dict(newest._mapping) if newest else {"id": None, "hash": None, "key_id": None}
        connection.execute(
            heads.update()
            .where(heads.c.chain == chain)
            .values(last_id=values["id"], hash=values["hash"], key_id=values["key_id"])
        )


def test_deleted_newest_rows_are_caught_by_a_checkpoint(workspace, devices, logins):
    point = checkpoint(workspace)
    with workspace.engine.begin() as connection:
        delete_newest(connection, logins[-2])
    report = verify(workspace, against=point)
    assert (report.ok, report.reason, report.broken_id) == (False, TAIL_MISSING, logins[-1])


def test_deleted_newest_rows_without_a_checkpoint(workspace, devices, logins):
    """PostgreSQL: each chain's head row still names the deleted row. SQLite keeps
    no head rows (one writer at a time needs none): there, newest rows that wrote no
    record are only missed by a checkpoint (docs/audit-and-integrity.md says so)."""
    with workspace.engine.begin() as connection:
        connection.execute(audit_table.delete().where(audit_table.c.id >= logins[-2]))
    report = verify(workspace)
    if workspace.dialect == "postgresql":
        assert (report.ok, report.reason, report.broken_id) == (False, HEAD_MISSING, logins[-1])
    else:
        assert report.ok


def test_rows_added_after_a_checkpoint_are_fine(workspace, devices, logins, repair, nurse):
    point = checkpoint(workspace)
    repair.update("device", devices[0].id, {"name": "新"}, 1, nurse)
    assert verify(workspace, against=point).ok


def test_a_rewritten_tail_is_caught_by_a_checkpoint_too(workspace, devices, logins):
    """Even with the key (an insider), a log rewritten from before the checkpoint's
    last row no longer has that row's hash."""
    point = checkpoint(workspace)
    with workspace.engine.begin() as connection:
        delete_newest(connection, logins[-2])
        for n in (7, 8):
            append(connection, AuditEntry("login", n, f"other{n}"))
    report = verify(workspace, against=point)
    assert not report.ok and report.reason in (TAIL_MISSING, REWRITTEN)
    assert report.broken_id == logins[-1]


def test_an_edited_row_with_every_later_hash_recomputed_is_named(workspace, devices, logins):
    target = rows(workspace)[3]["id"]
    rewrite_from(workspace, 3, lambda row: row.update(username="mallory"))
    report = verify(workspace)
    assert (report.ok, report.broken_id, report.reason) == (False, target, CHANGED)


def test_a_tail_rewritten_as_unsigned_rows_is_named(workspace, devices, logins):
    target = rows(workspace)[4]["id"]
    rewrite_from(workspace, 4, lambda row: row.update(details='{"n": 1}'), unsign=True)
    report = verify(workspace)
    assert (report.ok, report.broken_id, report.reason) == (False, target, UNSIGNED)


def test_a_whole_log_rewritten_as_unsigned_is_not_intact(workspace, devices, logins):
    rewrite_from(workspace, 0, lambda row: row.update(username="mallory"), unsign=True)
    report = verify(workspace)
    assert (report.ok, report.reason) == (False, SIGNING_GONE)


def test_a_deleted_middle_row_is_named(workspace, devices, logins):
    with workspace.engine.begin() as connection:
        connection.execute(audit_table.delete().where(audit_table.c.id == logins[2]))
    report = verify(workspace)
    assert (report.ok, report.broken_id, report.reason) == (False, logins[3], MOVED)


def test_reordered_rows_are_named(workspace, devices, logins):
    first, second = logins[1], logins[4]
    with workspace.engine.begin() as connection:
        for old, new in ((first, -1), (second, first), (-1, second)):
            connection.execute(audit_table.update().where(audit_table.c.id == old).values(id=new))
    report = verify(workspace)
    assert (report.ok, report.broken_id) == (False, first)


def record_table(repair, form="device"):
    return repair.repository.form_tables(form).table


def test_a_record_changed_directly_is_named(workspace, repair, devices):
    table = record_table(repair)
    with workspace.engine.begin() as connection:
        connection.execute(table.update().where(table.c.id == devices[1].id).values(name="改"))
    report = verify(workspace)
    assert (report.ok, report.reason) == (False, DRIFTED)
    assert [(d.app_id, d.form, d.record_id, d.how) for d in report.drifted] == [
        ("equipment_repair", "device", devices[1].id, "changed")
    ]


def test_a_record_undeleted_or_reversioned_directly_is_named(workspace, repair, devices, nurse):
    repair.delete("device", devices[0].id, nurse)
    table = record_table(repair)
    with workspace.engine.begin() as connection:
        connection.execute(
            table.update().where(table.c.id == devices[0].id).values(deleted_at=None)
        )
        connection.execute(table.update().where(table.c.id == devices[2].id).values(version=7))
    report = verify(workspace)
    assert {(d.record_id, d.how) for d in report.drifted} == {
        (devices[0].id, "changed"),
        (devices[2].id, "changed"),
    }


def test_records_added_or_removed_directly_are_named(workspace, repair, devices, icu):
    table = record_table(repair)
    with workspace.engine.begin() as connection:
        connection.execute(table.delete().where(table.c.id == devices[0].id))
        row = {"asset_no": "XX-9999", "name": "x", "owner_dept": icu, "version": 1}
        times = {"created_at": devices[0].created_at, "updated_at": devices[0].updated_at}
        added = connection.execute(table.insert().values(**row, **times)).inserted_primary_key[0]
    report = verify(workspace)
    assert {(d.record_id, d.how) for d in report.drifted} == {
        (devices[0].id, "removed"),
        (added, "added"),
    }


def test_a_subtable_row_changed_directly_is_named(workspace, repair, devices, nurse):
    request = repair.create(
        "request",
        {"device": devices[0].id, "reported_on": "2024-03-05 08:00", "urgency": "normal",
         "fault": "f", "status": "open", "parts": [{"part": "a", "qty": 1, "unit_price": "2"}]},
        nurse,
    )  # fmt: skip
    child = repair.repository.form_tables("request").children["parts"]
    with workspace.engine.begin() as connection:
        connection.execute(child.update().values(qty=9))
    report = verify(workspace)
    assert [(d.form, d.record_id) for d in report.drifted] == [("request", request.id)]


def test_bulk_created_records_are_sealed(workspace, repair, nurse, icu, monkeypatch):
    rows_ = [{"asset_no": f"BB-{n:04}", "name": "b", "owner_dept": icu} for n in range(30)]
    assert repair.bulk_create("device", rows_, nurse) == 30
    ids = [record.id for record in repair.iter_records("device", actor=nurse)]
    assert verify(workspace).ok
    table = record_table(repair)
    with workspace.engine.begin() as connection:
        connection.execute(table.update().where(table.c.id == ids[25]).values(name="改"))
    # Records are checked a batch at a time: the drift is found in a later batch.
    monkeypatch.setattr("runtime.store.audit_seals.SEAL_BATCH", 7)
    report = verify(workspace)
    assert [(d.record_id, d.how) for d in report.drifted] == [(ids[25], "changed")]


def test_many_seals_continue_in_further_rows(workspace, repair, nurse, icu, monkeypatch):
    monkeypatch.setattr("runtime.store.audit.SEALS_PER_ROW", 4)
    rows_ = [{"asset_no": f"BB-{n:04}", "name": "b", "owner_dept": icu} for n in range(10)]
    repair.bulk_create("device", rows_, nurse)
    actions = [row["action"] for row in rows(workspace)]
    assert actions[-3:] == ["bulk_create", "records_sealed", "records_sealed"]
    assert verify(workspace).ok


def test_an_upgrade_reseals_its_records(workspace, repair, devices):
    from runtime.api import WorkspaceHandle
    from runtime.spec import parse_app_spec

    data = load_sample("equipment_repair").to_json_dict()
    data["version"] += 1
    device = next(form for form in data["forms"] if form["key"] == "device")
    device["fields"].append({"key": "room", "type": "text", "label": "Room"})
    WorkspaceHandle(workspace).upgrade(parse_app_spec(data), take_backup=False)
    assert verify(workspace).ok


def test_an_older_workspace_keeps_its_unsigned_rows_checkable(workspace, repair, devices):
    """A workspace from before signing: its rows stay as they were and are still
    checked; signing begins at a marked row, with the seals of every record."""
    make_unsigned_schema_2(workspace)
    from runtime.store.workspace import Workspace

    reopened = Workspace.open(str(workspace.engine.url.render_as_string(hide_password=False)))
    try:
        before = rows(reopened)
        report = verify(reopened)
        assert report.ok, report
        marker = next(row for row in before if row["action"] == "audit_signing")
        assert report.signed_from == marker["id"]
        assert report.unsigned == before.index(marker) > 0
        assert {row["action"] for row in before[before.index(marker) + 1 :]} == {"records_sealed"}
        table = record_table(repair)
        with reopened.engine.begin() as connection:  # a record from before is checked too
            connection.execute(table.update().where(table.c.id == devices[0].id).values(name="改"))
        assert [d.record_id for d in verify(reopened).drifted] == [devices[0].id]
        with reopened.engine.begin() as connection:  # and an unsigned row still counts
            connection.execute(  # (PostgreSQL refuses a changed row without a chain)
                audit_table.update()
                .where(audit_table.c.id == before[1]["id"])
                .values(username="m", chain=0)
            )
        assert (verify(reopened).broken_id, verify(reopened).reason) == (before[1]["id"], CHANGED)
    finally:
        reopened.dispose()


def make_unsigned_schema_2(workspace) -> None:
    """Turn the workspace into what Formwright wrote before schema 3."""
    log = rows(workspace)
    prev = "0" * 64
    with workspace.engine.begin() as connection:
        for row in log:
            row["key_id"] = row["seals"] = None
            row["prev_hash"], row["hash"] = prev, row_hash(prev, row)
            prev = row["hash"]
            connection.execute(
                audit_table.update().where(audit_table.c.id == row["id"]).values(**row)
            )
        connection.execute(meta_table.delete().where(meta_table.c.key == "workspace_id"))
        connection.execute(
            meta_table.update().where(meta_table.c.key == "schema_version").values(value="2")
        )
        connection.exec_driver_sql('ALTER TABLE fw_audit DROP COLUMN "seals"')
        connection.exec_driver_sql('ALTER TABLE fw_audit DROP COLUMN "key_id"')
        # Schema 4's chains.
        connection.exec_driver_sql("DROP INDEX ix_fw_audit_chain")
        connection.exec_driver_sql('ALTER TABLE fw_audit DROP COLUMN "chain"')
        connection.exec_driver_sql("DROP TABLE fw_audit_chains")


def test_the_command_line_checkpoint_then_verify_against_it(workspace, devices, logins, tmp_path):
    from runtime.cli import main

    url = workspace.engine.url.render_as_string(hide_password=False)
    point = tmp_path / "kept" / "audit.json"
    assert main(["audit", "checkpoint", "--db", url, "-o", str(point)]) == 0
    assert main(["audit", "verify", "--db", url, "--against", str(point)]) == 0
    with workspace.engine.begin() as connection:
        connection.execute(audit_table.delete().where(audit_table.c.id == logins[-1]))
    assert main(["audit", "verify", "--db", url, "--against", str(point)]) == 1


def test_a_checkpoint_is_refused_for_a_broken_log_and_a_forged_one_is_noticed(
    workspace, devices, logins, tmp_path, capsys
):
    from runtime.cli import main

    url = workspace.engine.url.render_as_string(hide_password=False)
    point = tmp_path / "audit.json"
    assert main(["audit", "checkpoint", "--db", url, "-o", str(point)]) == 0
    data = json.loads(point.read_text())
    data["rows"] -= 1  # "fewer rows": what someone who deleted rows would want
    point.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["audit", "verify", "--db", url, "--against", str(point)]) == 1
    assert "was changed after it was written" in capsys.readouterr().err
    table = record_table_of(workspace)
    with workspace.engine.begin() as connection:
        connection.execute(table.update().values(name="改"))
    assert main(["audit", "checkpoint", "--db", url, "-o", str(tmp_path / "b.json")]) == 1
    assert not (tmp_path / "b.json").exists()
    err = capsys.readouterr().err
    assert "no checkpoint was written" in err and err.count("\n") == 1


def record_table_of(workspace):
    from runtime.services.records.service import RecordService

    service = RecordService(workspace, workspace.installed_spec("equipment_repair"))
    return service.repository.form_tables("device").table


def test_a_key_that_cannot_be_created_refuses_the_write_in_one_line(
    workspace, repair, icu, tmp_path, monkeypatch
):
    from runtime.store import audit_keys
    from runtime.store.engine import WorkspaceError

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("FORMWRIGHT_AUDIT_KEY_FILE", str(blocker / "audit.key"))
    monkeypatch.setattr(audit_keys, "_cache", {})
    before = len(rows(workspace))
    with pytest.raises(WorkspaceError) as refused:
        repair.create("device", {"asset_no": "EQ-0001", "name": "泵", "owner_dept": icu})
    assert "cannot create the audit key file" in refused.value.message
    assert "\n" not in refused.value.message
    assert len(rows(workspace)) == before
    with workspace.reader() as connection:
        table = record_table(repair)
        assert connection.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0


def test_rows_of_another_workstations_key_need_its_key_file(
    workspace, devices, tmp_path, monkeypatch
):
    """Each workstation signs with its own key; a row whose key is not at hand is
    "not provable", and passing that key file (--key-file) proves it."""
    from runtime.api import WorkspaceHandle
    from runtime.store import audit_keys
    from runtime.store.audit import UNKNOWN_KEY

    other = tmp_path / "ward-pc.key"
    monkeypatch.setenv("FORMWRIGHT_AUDIT_KEY_FILE", str(other))
    with workspace.engine.begin() as connection:
        foreign = append(connection, AuditEntry("login", 9, "from-the-ward-pc"))
    monkeypatch.delenv("FORMWRIGHT_AUDIT_KEY_FILE")
    monkeypatch.setattr(audit_keys, "_cache", {})
    with workspace.engine.begin() as connection:
        append(connection, AuditEntry("login", 1, "here"))
    report = verify(workspace)
    assert (report.ok, report.broken_id, report.reason) == (False, foreign, UNKNOWN_KEY)
    assert WorkspaceHandle(workspace).verify_audit(key_files=[other]).ok
