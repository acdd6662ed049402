"""Records through the service on both engines: create, read, update, trash, conflicts."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from runtime.services.records.service import (
    ConflictError,
    NotFound,
    RecordService,
    ValidationFailed,
)
from runtime.store.audit import append
from runtime.store.query import RecordQuery
from runtime.store.schema import audit_table
from tests.store.conftest import add_department, add_user, load_sample, make_spec
from widgets.types.id_card import check_character


def add_device(service, asset_no="EQ-0001", name="输液泵", owner_dept=None, **extra):
    values = {"asset_no": asset_no, "name": name, "owner_dept": owner_dept, "price": "1234.50"}
    return service.create("device", values | extra)


def file_ref(name: str, mime: str, size: int = 1000) -> dict:
    return {"name": name, "size": size, "sha256": hashlib.sha256(name.encode()).hexdigest(),
            "mime": mime}  # fmt: skip


def id_card(first17: str = "11010519491231002") -> str:
    return first17 + check_character(first17)


def request_values(device_id: int, **extra) -> dict:
    return {
        "device": device_id,
        "reported_on": "2024-03-05 08:30",
        "urgency": "urgent",
        "fault": "屏幕不亮 screen stays dark",
        "status": "open",
    } | extra


def audit_rows(service, action=None) -> list:
    query = sa.select(audit_table).order_by(audit_table.c.id)
    if action:
        query = query.where(audit_table.c.action == action)
    with service.workspace.engine.connect() as connection:
        return connection.execute(query).mappings().all()


def test_create_and_read_back(repair):
    with pytest.raises(ValidationFailed) as failed:
        add_device(repair)
    assert failed.value.errors == {"owner_dept": "is required"}


# -- every field type of equipment_repair -------------------------------------------------


def test_device_every_field_reads_back_canonical(repair, icu, nurse):
    created = repair.create(
        "device",
        {"asset_no": "EQ-000123", "name": "输液泵 B-12", "model": "BBraun Space",
         "owner_dept": str(icu), "purchased": "2021-06-30", "price": "15800.5",
         "in_service": True},
        nurse,
    )  # fmt: skip
    record = repair.get("device", created.id)
    assert record.values == {
        "asset_no": "EQ-000123",
        "name": "输液泵 B-12",
        "model": "BBraun Space",
        "owner_dept": icu,
        "purchased": date(2021, 6, 30),
        "price": Decimal("15800.50"),
        "in_service": True,
    }
    assert isinstance(record.values["price"], Decimal)
    assert record.version == 1
    assert record.created_by == record.updated_by == nurse.user_id
    assert record.owner_department == icu
    assert record.deleted_at is None


def test_request_every_field_reads_back_canonical(repair, workspace, icu, nurse):
    engineer = add_user(workspace, "li.na", "李娜", icu)
    device = add_device(repair, owner_dept=icu)
    photos = [file_ref("故障.jpg", "image/jpeg", 845_220), file_ref("b.png", "image/png")]
    report = [file_ref("维修报告.pdf", "application/pdf", 182_044)]
    signature = file_ref("signature.png", "image/png", 8_412)
    values = request_values(
        device.id,
        reporter=nurse.user_id,
        photos=photos,
        engineer=engineer.user_id,
        finished_on=date(2024, 3, 7),
        parts=[
            {"part": "电源板 power board", "qty": 2, "unit_price": "120.10"},
            {"part": "fuse", "qty": "3", "unit_price": Decimal("0.35")},
        ],
        labour="80",
        report=report,
        status="done",
        ward_signature=signature,
    )
    created = repair.create("request", values, nurse)
    record = repair.get("request", created.id)
    assert record.values == {
        "request_no": record.values["request_no"],  # assigned by the engine (see below)
        "device": device.id,
        "reporter": nurse.user_id,
        "reported_on": datetime(2024, 3, 5, 8, 30),
        "urgency": "urgent",
        "fault": "屏幕不亮 screen stays dark",
        "photos": photos,
        "engineer": engineer.user_id,
        "finished_on": date(2024, 3, 7),
        "labour": Decimal("80.00"),
        "total_cost": Decimal("321.25"),
        "report": report,
        "status": "done",
        "ward_signature": signature,
        "parts": [
            {"part": "电源板 power board", "qty": 2, "unit_price": Decimal("120.10"),
             "line_total": Decimal("240.20")},
            {"part": "fuse", "qty": 3, "unit_price": Decimal("0.35"),
             "line_total": Decimal("1.05")},
        ],
    }  # fmt: skip


def test_money_is_exact_decimal_never_float(repair, icu):
    device = add_device(repair, owner_dept=icu)
    parts = [{"part": f"p{i}", "qty": 1, "unit_price": "0.10"} for i in range(10)]
    parts += [{"part": "big", "qty": 3, "unit_price": "333333333333.33"}]
    created = repair.create("request", request_values(device.id, parts=parts, labour="0.20"))
    record = repair.get("request", created.id)
    # float would give 0.1 * 10 = 0.9999999999999999 and lose the cents of 999999999999.99
    assert record.values["total_cost"] == Decimal("1000000000001.19")
    assert str(record.values["total_cost"]) == "1000000000001.19"
    assert all(isinstance(row["line_total"], Decimal) for row in record.values["parts"])
    assert record.values["parts"][-1]["line_total"] == Decimal("999999999999.99")


def test_decimal_places_round_half_up_and_filters_compare_exactly(repair, icu):
    add_device(repair, "EQ-0001", owner_dept=icu, price="0.105")
    add_device(repair, "EQ-0002", owner_dept=icu, price=Decimal("0.3"))
    prices = [r.values["price"] for r in repair.page("device").records]
    assert prices == [Decimal("0.11"), Decimal("0.30")]
    from runtime.store.query import Condition

    found = repair.page("device", RecordQuery(filter=Condition("price", "eq", "0.30"))).records
    assert [r.values["asset_no"] for r in found] == ["EQ-0002"]


def test_total_cost_without_parts_or_labour(repair, icu):
    device = add_device(repair, owner_dept=icu)
    record = repair.create("request", request_values(device.id, labour="12.5"))
    assert record.values["parts"] is None
    assert record.values["total_cost"] == Decimal("12.50")


# -- every field type of adverse_event -----------------------------------------------------


def event_values(actor, department, **extra) -> dict:
    return {
        "reporter": actor.user_id,
        "reporting_dept": department,
        "occurred_on": "2024-03-05",
        "occurred_at": "14:30",
        "discovered_at": "2024-03-05T15:10:00",
        "patient_name": "李四",
        "patient_id_card": id_card(),
        "bed_no": "12",
        "contact_phone": "138 0013 8000",
        "contact_email": "family@example.com",
        "category": "fall",
        "severity": "mild",
        "fall_factors": ["wet_floor", "sedatives"],
        "description": "患者如厕时跌倒 fell in the bathroom",
        "reported_to_doctor": True,
        "risk_score": 4,
    } | extra


def test_event_every_field_reads_back_canonical(events, icu, nurse):
    created = events.create("event_report", event_values(nurse, icu), nurse)
    record = events.get("event_report", created.id)
    expected_days = (date.today() - date(2024, 3, 5)).days
    assert record.values == {
        "report_no": record.values["report_no"],
        "reporter": nurse.user_id,
        "reporting_dept": icu,
        "occurred_on": date(2024, 3, 5),
        "occurred_at": time(14, 30),
        "discovered_at": datetime(2024, 3, 5, 15, 10),
        "patient_name": "李四",
        "patient_id_card": id_card(),
        "bed_no": "12",
        "contact_phone": "13800138000",
        "contact_email": "family@example.com",
        "category": "fall",
        "severity": "mild",
        "other_category": None,
        "fall_factors": ["sedatives", "wet_floor"],  # option order
        "description": "患者如厕时跌倒 fell in the bathroom",
        "reported_to_doctor": True,
        "risk_score": 4,
        "days_to_report": expected_days,
        "reviewer": None,
        "review_notes": None,
    }
    assert isinstance(record.values["days_to_report"], int)


def test_select_accepts_a_label_and_stores_the_value(events, icu, nurse):
    record = events.create("event_report", event_values(nurse, icu, category="跌倒/坠床"), nurse)
    assert record.values["category"] == "fall"


INVALID_EVENT_VALUES = [
    ("patient_id_card", "110105194912310021", "check digit"),
    ("contact_phone", "call me", "phone"),
    ("contact_email", "not-an-address", "mail"),
    ("risk_score", 6, "1"),
    ("category", "flood", "not one of the choices"),
    ("fall_factors", ["sedatives", "gravity"], "not one of the choices"),
    ("occurred_on", "2024-02-30", ""),
    ("occurred_at", "25:61", ""),
    ("patient_name", "名" * 51, "at most 50"),
    ("reported_to_doctor", "perhaps", ""),
]


def test_event_invalid_values_name_their_field(events, icu, nurse):
    for field, value, message in INVALID_EVENT_VALUES:
        with pytest.raises(ValidationFailed) as failed:
            events.create("event_report", event_values(nurse, icu, **{field: value}), nurse)
        assert set(failed.value.errors) == {field}
        assert message.lower() in failed.value.errors[field].lower()
    assert events.count("event_report") == 0


def test_required_fields_are_listed_together(events):
    with pytest.raises(ValidationFailed) as failed:
        events.create("event_report", {})
    assert set(failed.value.errors) == {
        "reporter", "reporting_dept", "occurred_on", "patient_name", "category", "severity",
        "description",
    }  # fmt: skip
    assert all(message == "is required" for message in failed.value.errors.values())


def test_other_category_required_only_when_category_is_other(events, icu, nurse):
    events.create("event_report", event_values(nurse, icu, category="medication"), nurse)
    with pytest.raises(ValidationFailed) as failed:
        events.create("event_report", event_values(nurse, icu, category="other"), nurse)
    assert failed.value.errors == {"other_category": "is required"}
    record = events.create(
        "event_report", event_values(nurse, icu, category="other", other_category="输血反应"), nurse
    )
    assert record.values["other_category"] == "输血反应"


def test_hidden_field_is_not_required_but_its_value_must_fit(events, icu, nurse):
    # other_category is hidden unless category = "other": not required then, but a
    # value it holds is still checked (it would not fit its column)
    with pytest.raises(ValidationFailed) as failed:
        events.create(
            "event_report", event_values(nurse, icu, category="tube", other_category="x" * 500)
        )
    assert set(failed.value.errors) == {"other_category"}
    record = events.create("event_report", event_values(nurse, icu, category="tube"), nurse)
    assert record.values["other_category"] is None


def test_section_visible_when_hides_its_fields(workspace):
    spec = make_spec(
        "sections",
        [{"key": "incident", "title": "Incident", "fields": [
            {"key": "kind", "type": "select", "label": "Kind", "required": True,
             "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
            {"key": "more", "type": "section", "label": "More", "visible_when": "kind = \"b\""},
            {"key": "reason", "type": "text", "label": "Reason", "required": True,
             "max_length": 5},
            {"key": "score", "type": "number", "label": "Score", "required": True, "min": 1},
            {"key": "after", "type": "section", "label": "After"},
            {"key": "note", "type": "text", "label": "Note", "required": True},
        ]}],
    )  # fmt: skip
    workspace.install(spec)
    service = RecordService(workspace, spec)
    record = service.create("incident", {"kind": "a", "note": "n"})  # hidden: not required
    assert record.values["kind"] == "a"
    with pytest.raises(ValidationFailed) as failed:
        service.create("incident", {"kind": "b", "note": "n"})
    assert failed.value.errors == {"reason": "is required", "score": "is required"}
    with pytest.raises(ValidationFailed) as failed:
        service.create("incident", {"kind": "a"})  # the next section ends the hidden group
    assert failed.value.errors == {"note": "is required"}


def test_pattern_min_max_violations(repair, icu):
    with pytest.raises(ValidationFailed) as failed:
        add_device(repair, "eq-1", owner_dept=icu, price="-1", name="n" * 101)
    assert set(failed.value.errors) == {"asset_no", "price", "name"}
    assert "format" in failed.value.errors["asset_no"]
    assert "at least 0" in failed.value.errors["price"]
    device = add_device(repair, owner_dept=icu)
    with pytest.raises(ValidationFailed) as failed:
        repair.create(
            "request",
            request_values(device.id, parts=[{"part": "x", "qty": 0, "unit_price": "1"}]),
        )
    assert set(failed.value.errors) == {"parts"}
    assert "row 1" in failed.value.errors["parts"]
    with pytest.raises(ValidationFailed) as failed:
        repair.create("request", request_values(device.id, labour="abc"))
    assert set(failed.value.errors) == {"labour"}
    assert repair.count("device") == 1
    assert repair.count("request") == 0


def test_file_values_are_checked(repair, icu):
    device = add_device(repair, owner_dept=icu)
    cases = {
        "report": [file_ref("virus.exe", "application/octet-stream")],
        "photos": [file_ref(f"p{i}.jpg", "image/jpeg") for i in range(5)],
        "ward_signature": file_ref("s.jpg", "image/jpeg"),
    }
    for key, value in cases.items():
        with pytest.raises(ValidationFailed) as failed:
            repair.create("request", request_values(device.id, status="done", **{key: value}))
        assert set(failed.value.errors) == {key}
    with pytest.raises(ValidationFailed) as failed:
        repair.create("request", request_values(device.id, report=[{"name": "../etc/passwd"}]))
    assert set(failed.value.errors) == {"report"}


def test_unknown_field_key_is_an_error(repair, icu):
    with pytest.raises(ValidationFailed) as failed:
        add_device(repair, owner_dept=icu, colour="red")
    assert set(failed.value.errors) == {"colour"}
    device = add_device(repair, owner_dept=icu)
    with pytest.raises(ValidationFailed) as failed:
        repair.update("device", device.id, {"id": 99}, device.version)
    assert set(failed.value.errors) == {"id"}
    assert repair.get("device", device.id).version == 1


def test_unknown_form_is_an_error(repair):
    from runtime.store.repository import UnknownName

    with pytest.raises(UnknownName):
        repair.create("nothing", {})


def test_references_must_exist(repair, workspace, icu):
    device = add_device(repair, owner_dept=icu)
    for values in ({"device": 999}, {"reporter": 999}, {"engineer": 12345}):
        with pytest.raises(ValidationFailed) as failed:
            repair.create("request", request_values(device.id) | values)
        assert set(failed.value.errors) == set(values)
        assert "does not exist" in next(iter(failed.value.errors.values()))
    with pytest.raises(ValidationFailed) as failed:
        add_device(repair, "EQ-0002", owner_dept=424242)
    assert set(failed.value.errors) == {"owner_dept"}


def test_lookup_to_a_deleted_device_is_refused(repair, icu):
    device = add_device(repair, owner_dept=icu)
    repair.delete("device", device.id)
    with pytest.raises(ValidationFailed) as failed:
        repair.create("request", request_values(device.id))
    assert set(failed.value.errors) == {"device"}
    repair.restore("device", device.id)
    assert repair.create("request", request_values(device.id)).values["device"] == device.id


def test_unique_value_refused_until_the_holder_is_in_the_trash(repair, icu):
    first = add_device(repair, "EQ-0001", owner_dept=icu)
    with pytest.raises(ValidationFailed) as failed:
        add_device(repair, "EQ-0001", name="other", owner_dept=icu)
    assert set(failed.value.errors) == {"asset_no"}
    assert "already used" in failed.value.errors["asset_no"]
    second = add_device(repair, "EQ-0002", owner_dept=icu)
    with pytest.raises(ValidationFailed):  # an update may not take it either
        repair.update("device", second.id, {"asset_no": "EQ-0001"}, second.version)
    # saving a record with its own value is fine
    repair.update("device", first.id, {"asset_no": "EQ-0001", "model": "X"}, first.version)
    repair.delete("device", first.id)
    again = add_device(repair, "EQ-0001", name="replacement", owner_dept=icu)
    assert again.values["asset_no"] == "EQ-0001"
    # the trashed holder can't come back while its value is taken: a clear error, no crash
    with pytest.raises(ValidationFailed) as failed:
        repair.restore("device", first.id)
    assert "already used" in failed.value.message
    assert repair.get("device", first.id, trash=True).deleted_at is not None


# -- serial numbers ---------------------------------------------------------------------------


def test_serial_numbers_are_assigned_gap_free(repair, icu):
    device = add_device(repair, owner_dept=icu)
    first = repair.create("request", request_values(device.id))
    with pytest.raises(ValidationFailed):
        repair.create("request", request_values(device.id, urgency="whenever"))
    second = repair.create("request", request_values(device.id))
    third = repair.create("request", request_values(device.id))
    prefix = f"BX-{datetime.now():%Y%m}-"
    assert [r.values["request_no"] for r in (first, second, third)] == [
        f"{prefix}0001", f"{prefix}0002", f"{prefix}0003"
    ]  # fmt: skip


def test_bulk_create_assigns_serial_numbers_after_single_saves(repair, icu):
    device = add_device(repair, owner_dept=icu)
    first = repair.create("request", request_values(device.id))
    rows = [request_values(device.id) for _ in range(3)]
    typed = request_values(device.id) | {"request_no": "BX-202001-9999"}
    assert repair.bulk_create("request", [*rows, typed]) == 4
    prefix = f"BX-{datetime.now():%Y%m}-"
    numbers = [r.values["request_no"] for r in repair.iter_records("request", RecordQuery())]
    assert sorted(numbers) == sorted(
        [first.values["request_no"], *(f"{prefix}{n:04d}" for n in (2, 3, 4)), "BX-202001-9999"]
    )
    assert repair.create("request", request_values(device.id)).values["request_no"] == (
        f"{prefix}0005"
    )


def test_required_serial_is_assigned_and_never_reused(workspace):
    spec = make_spec(
        "tickets",
        [{"key": "ticket", "title": "Ticket", "fields": [
            {"key": "ticket_no", "type": "serial", "label": "No", "required": True,
             "pattern": "T-{seq:3}"},
            {"key": "title", "type": "text", "label": "Title", "required": True},
        ]}],
    )  # fmt: skip
    workspace.install(spec)
    service = RecordService(workspace, spec)
    first = service.create("ticket", {"title": "a"})
    with pytest.raises(ValidationFailed):
        service.create("ticket", {})
    second = service.create("ticket", {"title": "b"})
    assert [first.values["ticket_no"], second.values["ticket_no"]] == ["T-001", "T-002"]
    service.delete("ticket", second.id)
    assert service.create("ticket", {"title": "c"}).values["ticket_no"] == "T-003"
    with pytest.raises(ValidationFailed) as failed:  # a typed-in number must be free
        service.create("ticket", {"title": "d", "ticket_no": "T-001"})
    assert set(failed.value.errors) == {"ticket_no"}


def test_serial_counter_is_gap_free_and_rolls_back(repair):
    repository = repair.repository
    engine = repair.workspace.engine
    with engine.begin() as connection:
        numbers = [repository.next_serial(connection, "request", "request_no", "2024-03")]
        numbers.append(repository.next_serial(connection, "request", "request_no", "2024-03"))
    # a failed save gives its number back
    with engine.connect() as connection, connection.begin() as transaction:
        assert repository.next_serial(connection, "request", "request_no", "2024-03") == 3
        transaction.rollback()
    with engine.begin() as connection:
        numbers.append(repository.next_serial(connection, "request", "request_no", "2024-03"))
        other_period = repository.next_serial(connection, "request", "request_no", "2024-04")
    assert numbers == [1, 2, 3]
    assert other_period == 1


# -- update, conflicts --------------------------------------------------------------------


def test_update_bumps_version_and_audits_old_and_new(repair, icu, nurse):
    device = add_device(repair, owner_dept=icu)
    updated = repair.update(
        "device", device.id, {"price": "99.9", "model": "M-2"}, device.version, nurse
    )
    assert updated.version == 2
    assert updated.values["price"] == Decimal("99.90")
    assert updated.values["model"] == "M-2"
    assert updated.updated_by == nurse.user_id
    assert updated.created_at == device.created_at
    row = audit_rows(repair, "update")[-1]
    assert row["record_id"] == device.id and row["user_id"] == nurse.user_id
    import json

    assert json.loads(row["details"]) == {"model": [None, "M-2"], "price": ["1234.50", "99.90"]}
    # saving with nothing changed writes nothing
    same = repair.update("device", device.id, {"price": "99.90"}, updated.version, nurse)
    assert same.version == 2
    assert len(audit_rows(repair, "update")) == 1


def test_stale_update_names_who_saved_and_what_differs(repair, workspace, icu, nurse):
    other = add_user(workspace, "li.na", "李娜", icu)
    device = add_device(repair, owner_dept=icu)
    request = repair.create("request", request_values(device.id, labour="10"), nurse)
    repair.update("request", request.id, {"fault": "李娜's text"}, request.version, other)
    with pytest.raises(ConflictError) as conflict:
        repair.update(
            "request", request.id, {"fault": "my text", "labour": "10.0"}, request.version, nurse
        )
    error = conflict.value
    assert error.saved_by == "李娜"
    assert "李娜" in error.message
    assert error.current_version == 2
    assert error.differences == {"fault": ("my text", "李娜's text")}  # labour is the same
    stored = repair.get("request", request.id)
    assert stored.values["fault"] == "李娜's text"
    assert stored.version == 2
    assert stored.updated_by == other.user_id


def test_update_of_deleted_record_is_not_found(repair, icu):
    device = add_device(repair, owner_dept=icu)
    repair.delete("device", device.id)
    with pytest.raises(NotFound):
        repair.update("device", device.id, {"model": "x"}, 2)
    with pytest.raises(NotFound):
        repair.update("device", 9999, {"model": "x"}, 1)


def test_update_validates_the_merged_record(repair, icu):
    device = add_device(repair, owner_dept=icu)
    with pytest.raises(ValidationFailed) as failed:
        repair.update("device", device.id, {"name": None}, device.version)
    assert failed.value.errors == {"name": "is required"}
    assert repair.get("device", device.id).values["name"] == "输液泵"


# -- subtables ----------------------------------------------------------------------------------


def test_subtable_rows_replaced_in_order(repair, icu):
    device = add_device(repair, owner_dept=icu)
    parts = [{"part": name, "qty": 1, "unit_price": "1"} for name in ("c", "a", "b")]
    request = repair.create("request", request_values(device.id, parts=parts))
    assert [row["part"] for row in request.values["parts"]] == ["c", "a", "b"]
    new_parts = [{"part": name, "qty": 2, "unit_price": "5"} for name in ("z", "y")]
    updated = repair.update("request", request.id, {"parts": new_parts}, request.version)
    assert [row["part"] for row in updated.values["parts"]] == ["z", "y"]
    assert updated.values["total_cost"] == Decimal("20.00")
    child = repair.repository.form_tables("request").children["parts"]
    with repair.workspace.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(child)).scalar() == 2
    cleared = repair.update("request", request.id, {"parts": []}, updated.version)
    assert cleared.values["parts"] is None
    assert cleared.values["total_cost"] is None or cleared.values["total_cost"] == 0


def test_subtable_replace_rolls_back_with_a_failed_save(repair, icu, monkeypatch):
    """The record, its rows and the audit row are one transaction."""
    device = add_device(repair, owner_dept=icu)
    parts = [{"part": "keep", "qty": 1, "unit_price": "1"}]
    request = repair.create("request", request_values(device.id, parts=parts))

    def broken_append(connection, entry, at=None):
        append(connection, entry, at)
        raise RuntimeError("disk full")

    monkeypatch.setattr("runtime.services.records.writer.append", broken_append)
    with pytest.raises(RuntimeError):
        repair.update(
            "request", request.id, {"parts": [{"part": "new", "qty": 1}]}, request.version
        )
    monkeypatch.undo()
    stored = repair.get("request", request.id)
    assert [row["part"] for row in stored.values["parts"]] == ["keep"]
    assert stored.version == 1


# -- trash ---------------------------------------------------------------------------------------


def test_delete_restore_purge(repair, icu):
    device = add_device(repair, owner_dept=icu)
    request = repair.create(
        "request", request_values(device.id, parts=[{"part": "x", "qty": 1, "unit_price": "1"}])
    )
    repair.delete("request", request.id)
    assert repair.count("request") == 0
    assert repair.page("request").records == []
    with pytest.raises(NotFound):
        repair.get("request", request.id)
    with pytest.raises(NotFound):
        repair.delete("request", request.id)  # already in the trash
    trashed = repair.page("request", RecordQuery(trash=True)).records
    assert [r.id for r in trashed] == [request.id]
    assert trashed[0].deleted_at is not None
    repair.restore("request", request.id)
    restored = repair.get("request", request.id)
    assert restored.deleted_at is None and restored.values["parts"][0]["part"] == "x"
    assert repair.count("request", RecordQuery(trash=True)) == 0
    with pytest.raises(NotFound):
        repair.restore("request", request.id)  # not in the trash
    with pytest.raises(NotFound):
        repair.purge("request", request.id)  # only from the trash
    assert repair.get("request", request.id).values["parts"][0]["part"] == "x"
    repair.delete("request", request.id)
    repair.purge("request", request.id)
    with pytest.raises(NotFound):
        repair.get("request", request.id, trash=True)
    child = repair.repository.form_tables("request").children["parts"]
    with repair.workspace.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(child)).scalar() == 0


def test_repository_purge_leaves_a_live_record_alone(repair, icu):
    device = add_device(repair, owner_dept=icu)
    parts = [{"part": "x", "qty": 1, "unit_price": "1"}]
    request = repair.create("request", request_values(device.id, parts=parts))
    with repair.workspace.engine.begin() as connection:
        assert repair.repository.purge(connection, "request", request.id) is False
    assert repair.get("request", request.id).values["parts"] == [
        {"part": "x", "qty": 1, "unit_price": Decimal("1.00"), "line_total": Decimal("1.00")}
    ]


# -- bulk ------------------------------------------------------------------------------------------


def test_bulk_create_inserts_and_validates(repair, icu):
    rows = [
        {"asset_no": f"EQ-{n:05d}", "name": f"设备 {n}", "owner_dept": icu, "price": "0.1",
         "purchased": "2020-01-02", "in_service": n % 2 == 0}
        for n in range(2500)
    ]  # fmt: skip
    assert repair.bulk_create("device", rows) == 2500
    assert repair.count("device") == 2500
    record = repair.page("device", limit=1).records[0]
    assert record.values["price"] == Decimal("0.10")
    assert record.values["purchased"] == date(2020, 1, 2)
    assert record.version == 1


def test_bulk_create_invalid_row_writes_nothing(repair, icu):
    cases = [
        ({"asset_no": "nope"}, "format"),
        ({"owner_dept": None}, "required"),
        ({"price": "abc"}, "number"),
        ({"colour": "red"}, "colour"),
    ]
    for bad, message in cases:
        rows = [{"asset_no": f"EQ-{n:05d}", "name": "n", "owner_dept": icu} for n in range(30)]
        rows[17] |= bad
        with pytest.raises(ValidationFailed) as failed:
            repair.bulk_create("device", rows)
        assert list(failed.value.errors) == ["row 18"]
        assert message in failed.value.errors["row 18"]
    assert repair.count("device") == 0
    assert audit_rows(repair, "bulk_create") == []


def test_bulk_create_duplicate_unique_value_writes_nothing(repair, icu):
    rows = [{"asset_no": "EQ-0001", "name": "n", "owner_dept": icu}] * 2
    with pytest.raises(ValidationFailed):
        repair.bulk_create("device", rows)
    assert repair.count("device") == 0


def test_bulk_create_applies_visibility_and_formulas(events, icu, nurse):
    rows = [event_values(nurse, icu, category="fall")] * 3
    assert events.bulk_create("event_report", rows, nurse) == 3
    records = events.page("event_report").records
    assert {r.values["days_to_report"] for r in records} == {(date.today() - date(2024, 3, 5)).days}
    with pytest.raises(ValidationFailed) as failed:
        events.bulk_create("event_report", [*rows, event_values(nurse, icu, category="other")])
    assert list(failed.value.errors) == ["row 4"]
    assert events.count("event_report") == 3


def test_system_timestamps_are_utc(repair, icu):
    from datetime import UTC

    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    device = add_device(repair, owner_dept=icu)
    after = datetime.now(UTC).replace(tzinfo=None)
    assert before <= device.created_at <= after
    assert re.fullmatch(r"\d+", str(device.id))


def test_two_departments_records_keep_their_owner(repair, workspace):
    er = add_department(workspace, "急诊科", "er")
    er_nurse = add_user(workspace, "wang", "王芳", er)
    record = repair.create(
        "device", {"asset_no": "EQ-0009", "name": "监护仪", "owner_dept": er}, er_nurse
    )
    assert record.owner_department == er
    assert record.values["owner_dept"] == er


def test_sample_specs_load(workspace):
    for name in ("equipment_repair", "adverse_event"):
        spec = load_sample(name)
        workspace.install(spec)
    assert [app for app, _ in workspace.installed_apps()] == ["adverse_event", "equipment_repair"]
