"""Records written in bulk (``bulk_create``, Excel imports) are sealed as stored, for
every registered field type: the check of the log finds them intact, and a change
of any one column behind Formwright's back names the record."""

from __future__ import annotations

import openpyxl
import pytest

from runtime.services.records.service import RecordService
from runtime.spec import parse_app_spec
from runtime.store.audit_verify import verify_workspace
from tests.services.excel_support import (
    do_import,
    every_type_spec,
    sample_record,
    seeded_service,
    simple_service,
)


def verify(service: RecordService):
    workspace = service.workspace
    with workspace.snapshot_reader() as connection:
        return verify_workspace(connection, workspace.registry)


@pytest.fixture
def flat(db_url):
    """The every-type form without its subtable: the shape a bulk insert on SQLite
    seals from what it sends (a subtable's rows are read back)."""
    data = every_type_spec().to_json_dict()
    form = next(form for form in data["forms"] if form["key"] == "every")
    form["fields"] = [field for field in form["fields"] if field["type"] != "subtable"]
    service = seeded_service(db_url, parse_app_spec(data))
    yield service
    service.workspace.dispose()


def test_bulk_created_records_of_every_type_are_sealed_as_stored(flat):
    tables = flat.repository.form_tables("every")
    columns = list(tables.columns)
    records = []
    for number in range(len(columns)):
        values = sample_record(number % 2)  # samples 0-1 point at rows that exist
        values.pop("f_subtable", None)
        values.pop("f_serial", None)  # unique: numbered on create
        records.append(values)
    assert flat.bulk_create("every", records) == len(columns)
    assert verify(flat).ok
    ids = [record.id for record in flat.iter_records("every")]
    changed = set()
    with flat.workspace.engine.begin() as connection:
        for ident, column in zip(ids, columns, strict=True):  # record n loses column n
            table = tables.table
            query = table.update().where(table.c.id == ident, table.c[column].is_not(None))
            if connection.execute(query.values({column: None})).rowcount:
                changed.add((ident, "changed"))
    assert len(changed) > len(columns) // 2
    assert {(d.record_id, d.how) for d in verify(flat).drifted} == changed


def test_imported_and_upserted_records_are_sealed(db_url, tmp_path):
    service = simple_service(db_url)
    header = ["Code", "Name", "Age"]
    first = _book(tmp_path / "first.xlsx", header, [["A1", "王芳", 34], ["A2", "李四", 5]])
    assert do_import(service, "patient", first).created == 2
    second = _book(tmp_path / "second.xlsx", header, [["A2", "李四", 6], ["A3", "新", 7]])
    result = do_import(service, "patient", second, upsert_by="code")
    assert (result.created, result.updated) == (1, 1)
    assert verify(service).ok
    by_code = {r.values["code"]: r.id for r in service.iter_records("patient")}
    table = service.repository.form_tables("patient").table
    with service.workspace.engine.begin() as connection:
        for code in ("A2", "A3"):
            changed = table.update().where(table.c.id == by_code[code]).values(age=99)
            connection.execute(changed)
    drifted = {(d.record_id, d.how) for d in verify(service).drifted}
    assert drifted == {(by_code["A2"], "changed"), (by_code["A3"], "changed")}


def _book(path, header, rows):
    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path
