"""Batched checks on both engines: the repository's values in use and existing
references (import and bulk saves share them), and bulk_create refusing dangling
references and repeated unique values."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from runtime.services.records.service import BULK_CHECK_ROWS, RecordService, ValidationFailed
from runtime.store.repository import IN_IDS, IN_VALUES
from runtime.store.schema import departments_table, users_table
from tests.store.conftest import add_department, add_user, make_spec
from tests.store.test_records import audit_rows, request_values

MISSING = "does not exist (it may have been deleted)"


def devices(icu: int, count: int, start: int = 0) -> list[dict]:
    return [
        {"asset_no": f"EQ-{n:05d}", "name": f"设备 {n}", "owner_dept": icu}
        for n in range(start, start + count)
    ]


def deactivate(workspace, table: sa.Table, ident: int) -> None:
    with workspace.engine.begin() as connection:
        connection.execute(table.update().where(table.c.id == ident).values(active=False))


def device_ids(service) -> list[int]:
    return sorted(record.id for record in service.iter_records("device"))


# -- repository: values in use ---------------------------------------------------------------


def test_values_in_use_counts_live_records_only(repair, icu):
    kept = repair.create("device", devices(icu, 1)[0])
    trashed = repair.create("device", devices(icu, 1, start=1)[0])
    repair.delete("device", trashed.id)
    with repair.workspace.reader() as connection:
        found = repair.repository.values_in_use(
            connection, "device", "asset_no", ["EQ-00000", "EQ-00001", "EQ-99999", "EQ-00000"]
        )
    assert found == {"EQ-00000": kept.id}


def test_values_in_use_past_one_in_list(repair, icu):
    count = IN_VALUES + 7
    repair.bulk_create("device", devices(icu, count))
    wanted = [f"EQ-{n:05d}" for n in range(count + 3)]
    with repair.workspace.reader() as connection:
        found = repair.repository.values_in_use(connection, "device", "asset_no", wanted)
    assert sorted(found) == wanted[:count]
    assert sorted(found.values()) == device_ids(repair)


# -- repository: existing references -------------------------------------------------------


def test_existing_users_and_departments_active_or_not(repair, workspace, icu, nurse):
    er = add_department(workspace, "急诊科", "er")
    gone = add_user(workspace, "li", "李", er)
    deactivate(workspace, departments_table, er)
    deactivate(workspace, users_table, gone.user_id)
    repository = repair.repository
    with workspace.reader() as connection:
        users = repository.existing_references(
            connection, "user", [nurse.user_id, gone.user_id, 999_999]
        )
        departments = repository.existing_references(connection, "department", [icu, er, 999_999])
    assert users == {nurse.user_id, gone.user_id}
    assert departments == {icu, er}


def test_existing_records_are_live_records_of_that_form(repair, icu):
    live, trashed = (repair.create("device", values) for values in devices(icu, 2))
    repair.delete("device", trashed.id)
    with repair.workspace.reader() as connection:
        found = repair.repository.existing_references(
            connection, ("record", "device"), [live.id, trashed.id, 999_999]
        )
        elsewhere = repair.repository.existing_references(
            connection, ("record", "no_such_form"), [live.id]
        )
    assert found == {live.id}
    assert elsewhere == set()


def test_existing_references_past_one_in_list(repair, workspace, icu):
    repair.bulk_create("device", devices(icu, IN_IDS + 40))
    ids = device_ids(repair)
    people = [add_user(workspace, f"user{n}", f"User {n}").user_id for n in range(3)]
    with workspace.reader() as connection:
        found = repair.repository.existing_references(
            connection, ("record", "device"), [*ids, 10**9]
        )
        users = repair.repository.existing_references(connection, "user", [*people, 10**9])
    assert found == set(ids)
    assert users == set(people)


# -- bulk_create: references ------------------------------------------------------------------


def test_bulk_create_refuses_a_dangling_department(repair, icu):
    rows = devices(icu, 30)
    rows[6]["owner_dept"] = 999_999
    with pytest.raises(ValidationFailed) as failed:
        repair.bulk_create("device", rows)
    assert failed.value.errors == {"row 7": f"使用科室: #999999 {MISSING}"}
    assert repair.count("device") == 0
    assert audit_rows(repair, "bulk_create") == []


def test_bulk_create_refuses_a_dangling_lookup_or_user(repair, icu, nurse):
    device, trashed = (repair.create("device", values) for values in devices(icu, 2))
    repair.delete("device", trashed.id)
    cases = [
        ({"device": trashed.id}, f"设备: #{trashed.id} {MISSING}"),
        ({"reporter": 999_999}, f"报修人: #999999 {MISSING}"),
        ({"engineer": 888_888}, f"维修工程师: #888888 {MISSING}"),
    ]
    for bad, message in cases:
        rows = [request_values(device.id, reporter=nurse.user_id) for _ in range(12)]
        rows[4] |= bad
        with pytest.raises(ValidationFailed) as failed:
            repair.bulk_create("request", rows, nurse)
        assert failed.value.errors == {"row 5": message}
    assert repair.count("request") == 0
    assert audit_rows(repair, "bulk_create") == []


def test_bulk_create_with_valid_references(repair, icu, nurse):
    device = repair.create("device", devices(icu, 1)[0])
    rows = [
        request_values(device.id, reporter=nurse.user_id, engineer=nurse.user_id)
        for _ in range(BULK_CHECK_ROWS + 5)
    ]
    assert repair.bulk_create("request", rows, nurse) == BULK_CHECK_ROWS + 5
    assert repair.count("request") == BULK_CHECK_ROWS + 5


def test_bulk_create_names_the_first_bad_row_across_chunks(repair, icu):
    rows = devices(icu, BULK_CHECK_ROWS + 300)
    rows[BULK_CHECK_ROWS + 200]["price"] = "not a number"  # fails as it is converted
    rows[BULK_CHECK_ROWS + 100]["owner_dept"] = 999_999  # before it, in the same chunk
    with pytest.raises(ValidationFailed) as failed:
        repair.bulk_create("device", rows)
    assert list(failed.value.errors) == [f"row {BULK_CHECK_ROWS + 101}"]
    rows[BULK_CHECK_ROWS + 100]["owner_dept"] = icu
    with pytest.raises(ValidationFailed) as failed:
        repair.bulk_create("device", rows)
    assert list(failed.value.errors) == [f"row {BULK_CHECK_ROWS + 201}"]
    assert repair.count("device") == 0


def test_bulk_create_checks_every_id_of_a_list(workspace, icu, nurse):
    spec = make_spec(
        "rota",
        [{"key": "shift", "title": "Shift", "fields": [
            {"key": "staff", "type": "user", "label": "Staff", "multiple": True},
            {"key": "wards", "type": "department", "label": "Wards", "multiple": True},
        ]}],
    )  # fmt: skip
    workspace.install(spec)
    service = RecordService(workspace, spec)
    rows = [{"staff": [nurse.user_id], "wards": [icu]}, {"staff": [nurse.user_id, 999_999]}]
    with pytest.raises(ValidationFailed) as failed:
        service.bulk_create("shift", rows)
    assert failed.value.errors == {"row 2": f"Staff: #999999 {MISSING}"}
    assert service.bulk_create("shift", rows[:1] * 3) == 3


# -- bulk_create: unique values ------------------------------------------------------------


def test_bulk_create_repeated_unique_value_names_both_rows(repair, icu):
    rows = devices(icu, BULK_CHECK_ROWS + 50)
    rows[BULK_CHECK_ROWS + 10]["asset_no"] = "EQ-00003"  # the next chunk repeats row 4
    with pytest.raises(ValidationFailed) as failed:
        repair.bulk_create("device", rows)
    assert failed.value.errors == {
        f"row {BULK_CHECK_ROWS + 11}": "资产编号: 'EQ-00003' is also in row 4"
    }
    assert repair.count("device") == 0
    assert audit_rows(repair, "bulk_create") == []


def test_bulk_create_unique_value_in_the_database(repair, icu):
    trashed = repair.create("device", devices(icu, 1, start=5)[0])
    repair.delete("device", trashed.id)  # a trashed record's value is free again
    repair.create("device", devices(icu, 1, start=7)[0])
    with pytest.raises(ValidationFailed) as failed:
        repair.bulk_create("device", devices(icu, 10))
    assert failed.value.errors == {
        "row 8": "资产编号: 'EQ-00007' is already used by another record"
    }
    assert repair.count("device") == 1
    assert repair.bulk_create("device", devices(icu, 7)) == 7


def test_bulk_create_typed_serial_number_in_use(repair, icu):
    device = repair.create("device", devices(icu, 1)[0])
    first = repair.create("request", request_values(device.id))
    rows = [
        request_values(device.id),
        request_values(device.id, request_no=first.values["request_no"]),
    ]
    with pytest.raises(ValidationFailed) as failed:
        repair.bulk_create("request", rows)
    number = first.values["request_no"]
    assert failed.value.errors == {
        "row 2": f"报修单号: '{number}' is already used by another record"
    }
    assert repair.count("request") == 1
