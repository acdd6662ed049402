"""One write pipeline: every write of a record — a save, a move to the trash and
back, a purge, a bulk insert, an import's batch and its undo — goes through the
record writer, whose hooks see each record once, and whose ``before_write`` hook
can refuse the write with nothing stored."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from runtime.services.actor import SYSTEM
from runtime.services.errors import PermissionDenied
from runtime.services.excel.journal import ImportJournal
from runtime.services.progress import run_steps
from runtime.services.records.hooks import WriteBatch, form_writable_fields
from runtime.services.records.service import RecordService, ValidationFailed
from runtime.store.query import RecordQuery
from runtime.store.schema import audit_table
from tests.services.excel_support import do_import, simple_service
from tests.store.conftest import add_department, load_sample
from tests.store.test_records import add_device, request_values


class Refused(Exception):
    """What the refusing hook raises."""


class Seen:
    """What the hooks saw: (moment, kind, via, record id) per record."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str, str, int | None]] = []

    def before(self, batch: WriteBatch) -> None:
        self._note("before", batch)

    def after(self, batch: WriteBatch) -> None:
        self._note("after", batch)

    def _note(self, moment: str, batch: WriteBatch) -> None:
        assert batch.form == "patient" and batch.connection is not None
        for record in batch.records:
            self.records.append((moment, batch.kind, batch.via, record.record_id))

    def of(self, moment: str) -> list[tuple[str, str, int | None]]:
        return [(kind, via, ident) for seen, kind, via, ident in self.records if seen == moment]


@pytest.fixture
def service(db_url) -> RecordService:
    return simple_service(db_url)


def patient(code: str, ward: str = "icu") -> dict:
    return {"code": code, "name": f"Patient {code}", "ward": ward}


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Code", "Name"])
        writer.writerows(rows)
    return path


def live_ids(service: RecordService) -> list[int]:
    return sorted(record.id for record in service.iter_records("patient"))


def trashed_ids(service: RecordService) -> list[int]:
    query = RecordQuery(trash=True)
    return sorted(record.id for record in service.iter_records("patient", query))


def audit_count(service: RecordService) -> int:
    with service.workspace.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(audit_table)).scalar()


def test_hooks_see_every_kind_of_write_once_per_record(service, tmp_path):
    seen = Seen()
    service.writer.hooks.add(before=seen.before, after=seen.after)

    made = service.create("patient", patient("P1"))
    service.update("patient", made.id, {"name": "Renamed"}, made.version)
    service.update("patient", made.id, {"name": "Renamed"}, made.version + 1)  # no change
    bulk = [patient("B1"), patient("B2"), patient("B3")]
    assert service.bulk_create("patient", bulk) == 3
    bulk_ids = [i for i in live_ids(service) if i != made.id]
    service.delete_many("patient", bulk_ids[:2])
    service.restore("patient", bulk_ids[0])
    service.purge("patient", bulk_ids[1])
    first = do_import(service, "patient", write_csv(tmp_path / "a.csv", [("I1", "x"), ("I2", "y")]))
    upsert = write_csv(tmp_path / "b.csv", [("I1", "changed"), ("I3", "z")])
    second = do_import(service, "patient", upsert, upsert_by="code")
    assert (first.created, second.created, second.updated) == (2, 1, 1)
    imported = {r.values["code"]: r.id for r in service.iter_records("patient")}
    undone = run_steps(ImportJournal(service).undo(first.import_id, SYSTEM))
    assert undone.trashed == 2

    expected = [
        ("create", "save", made.id),
        ("update", "save", made.id),
        *[("create", "bulk", ident) for ident in bulk_ids],
        *[("delete", "save", ident) for ident in bulk_ids[:2]],
        ("restore", "save", bulk_ids[0]),
        ("purge", "save", bulk_ids[1]),
        ("create", "import", imported["I1"]),
        ("create", "import", imported["I2"]),
        ("create", "import", imported["I3"]),
        ("update", "import", imported["I1"]),
        ("delete", "import", imported["I1"]),
        ("delete", "import", imported["I2"]),
    ]
    assert sorted(seen.of("after")) == sorted(expected)
    assert max(Counter(seen.of("after")).values()) == 1  # once per record
    # before_write sees the same records; a new one has no id yet
    created = {(kind, via) for kind, via, _ident in expected if kind == "create"}
    before = [(k, v, None if (k, v) in created else i) for k, v, i in seen.of("after")]
    assert sorted(seen.of("before"), key=str) == sorted(before, key=str)


def test_a_hook_sees_the_values_written(service):
    values: list[dict] = []
    service.writer.hooks.add(after=lambda batch: values.extend(r.values for r in batch.records))
    made = service.create("patient", patient("P1"))
    service.update("patient", made.id, {"name": "Renamed"}, made.version)
    service.bulk_create("patient", [patient("B1", ward="er")])
    assert values[0]["code"] == "P1" and values[0]["ward"] == "icu"
    assert values[1] == {"name": "Renamed"}  # the changed values of an update
    assert values[2]["code"] == "B1" and values[2]["ward"] == "er"


def refuse(batch: WriteBatch) -> None:
    raise Refused(f"{batch.kind} via {batch.via} refused")


def test_a_refusing_hook_stores_nothing_of_any_write(service, tmp_path):
    kept = service.create("patient", patient("K1"))
    trashed = service.create("patient", patient("K2"))
    service.delete("patient", trashed.id)
    imported = do_import(service, "patient", write_csv(tmp_path / "a.csv", [("I1", "x")]))
    before = (live_ids(service), trashed_ids(service), audit_count(service))
    service.writer.hooks.add(before=refuse)
    with pytest.raises(Refused, match="create via save"):
        service.create("patient", patient("N1"))
    with pytest.raises(Refused, match="update via save"):
        service.update("patient", kept.id, {"name": "changed"}, kept.version)
    with pytest.raises(Refused, match="delete via save"):
        service.delete("patient", kept.id)
    with pytest.raises(Refused, match="restore via save"):
        service.restore("patient", trashed.id)
    with pytest.raises(Refused, match="purge via save"):
        service.purge("patient", trashed.id)
    with pytest.raises(Refused, match="create via bulk"):
        service.bulk_create("patient", [patient(f"B{n}") for n in range(5)])
    with pytest.raises(Refused, match="create via import"):
        do_import(service, "patient", write_csv(tmp_path / "b.csv", [("I2", "y")]))
    with pytest.raises(Refused, match="delete via import"):
        run_steps(ImportJournal(service).undo(imported.import_id, SYSTEM))
    assert (live_ids(service), trashed_ids(service), audit_count(service)) == before
    assert service.get("patient", kept.id).values["name"] == "Patient K1"

    service.writer.hooks.remove(refuse)  # the refused undo and import run again
    assert run_steps(ImportJournal(service).undo(imported.import_id, SYSTEM)).trashed == 1
    resumed = do_import(service, "patient", tmp_path / "b.csv", resume=True)
    assert resumed.created == 1 and resumed.errors == []


def test_a_refused_save_returns_its_serial_number(workspace):
    spec = load_sample("equipment_repair")
    workspace.install(spec)
    repair = RecordService(workspace, spec)
    icu = add_department(workspace, "ICU")
    values = request_values(add_device(repair, owner_dept=icu).id)
    numbers = []
    for _attempt in range(2):
        repair.writer.hooks.add(before=refuse)
        with pytest.raises(Refused):
            repair.create("request", values)
        repair.writer.hooks.remove(refuse)
        numbers.append(repair.create("request", values).values["request_no"])
    assert [number[-5:] for number in numbers] == ["-0001", "-0002"]  # gap-free


def icu_names_locked(policy, form, record, action):
    """A flow's per-record field modes: an ICU patient's name is locked."""
    writable = set(form_writable_fields(policy, form, record, action))
    if record is not None and record.values.get("ward") == "icu":
        writable.discard("name")
    return writable


def test_field_modes_per_record(service, tmp_path):
    icu = service.create("patient", patient("P1", ward="icu"))
    er = service.create("patient", patient("P2", ward="er"))
    service.writer.writable_fields = icu_names_locked
    with pytest.raises(PermissionDenied, match="Name"):
        service.update("patient", icu.id, {"name": "changed"}, icu.version)
    updated = service.update("patient", er.id, {"name": "changed"}, er.version)
    assert updated.values["name"] == "changed"
    service.update("patient", icu.id, {"age": 40}, icu.version)  # other fields stay open
    service.create("patient", patient("P3", ward="icu"))  # a new record has no state yet
    # an import's upsert asks the same, for each record it would change
    path = write_csv(tmp_path / "u.csv", [("P1", "imported"), ("P2", "imported")])
    result = do_import(service, "patient", path, upsert_by="code", mode="valid_only")
    assert result.updated == 1 and len(result.errors) == 1
    assert result.errors[0].row == 2 and "Name" in result.errors[0].message
    assert service.get("patient", icu.id).values["name"] == "Patient P1"
    assert service.get("patient", er.id).values["name"] == "imported"


def test_one_rule_and_one_message_on_every_path(service, tmp_path):
    """A value already used is refused by a save, a bulk insert and an import with
    the same rule and sentence (the bulk row names its field, the import its cell)."""
    service.create("patient", patient("A1"))
    taken = "'A1' is already used by another record"
    with pytest.raises(ValidationFailed) as saved:
        service.create("patient", patient("A1"))
    assert saved.value.errors == {"code": taken}
    with pytest.raises(ValidationFailed) as bulk:
        service.bulk_create("patient", [patient("B1"), patient("A1")])
    assert bulk.value.errors == {"row 2": f"Code: {taken}"}
    result = do_import(service, "patient", write_csv(tmp_path / "a.csv", [("A1", "x")]))
    assert [(e.row, e.column, e.message) for e in result.errors] == [(2, "A", taken)]
    assert live_ids(service) == [1]
