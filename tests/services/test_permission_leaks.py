"""Issue #11 §3: the permission leaks of the repro package (tests/services/leak_world.py),
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from runtime.services.errors import PermissionDenied
from runtime.services.permissions import Policy
from runtime.store.query import Condition, RecordQuery
from tests.services.leak_world import LeakWorld, build_leak_world


@pytest.fixture
def leak(db_url) -> Iterator[LeakWorld]:
    world = build_leak_world(db_url)
    yield world
    world.workspace.dispose()


def _refused(call, *args) -> bool:
    try:
        call(*args)
    except PermissionDenied:
        return True
    return False


# -- writing a hidden field is an oracle --


def test_writing_a_hidden_field_is_refused_whatever_the_value(leak: LeakWorld) -> None:
    """A wrong and a right guess of Alice's own hidden diagnosis get the same answer."""
    service, alice = leak.service, leak.alice
    record = service.get("staff", leak.alice_staff, alice)
    for guess in ("cancer", "diabetes", None, ""):
        assert _refused(
            service.update, "staff", leak.alice_staff, {"diagnosis": guess}, record.version, alice
        ), guess
    for salary in (Decimal("1"), Decimal("5000"), None):
        assert _refused(
            service.update, "staff", leak.alice_staff, {"salary": salary}, record.version, alice
        ), salary
    stored = service.get("staff", leak.alice_staff, leak.admin).values
    assert stored["diagnosis"] == "diabetes" and stored["salary"] == Decimal("5000")


def test_writing_a_readonly_field_is_refused_whatever_the_value(leak: LeakWorld) -> None:
    service, alice = leak.service, leak.alice
    record = service.get("staff", leak.alice_staff, alice)
    for bonus in (Decimal("500"), Decimal("1"), None):
        assert _refused(
            service.update, "staff", leak.alice_staff, {"bonus": bonus}, record.version, alice
        ), bonus


def test_creating_with_an_empty_hidden_field_is_refused(leak: LeakWorld) -> None:
    """Present means refused, even empty: single and bulk creates."""
    service, alice = leak.service, leak.alice
    for value in (None, "", "flu"):
        values = {"name": "Carol", "code": f"C{value!r}", "diagnosis": value}
        assert _refused(service.create, "staff", values, alice), value
        assert _refused(service.bulk_create, "staff", [values], alice), value
        assert _refused(service.bulk_create, "staff", [values], alice, "import"), value
    assert service.count("staff", None, leak.admin) == 2


def test_writing_only_editable_fields_still_works(leak: LeakWorld) -> None:
    service, alice = leak.service, leak.alice
    record = service.get("staff", leak.alice_staff, alice)
    updated = service.update("staff", leak.alice_staff, {"name": "Alice B."}, record.version, alice)
    assert updated.values["name"] == "Alice B."
    created = service.create("staff", {"name": "Carol", "code": "S3"}, alice)
    assert created.values["name"] == "Carol"


# -- a formula shows its hidden inputs --


def test_a_formula_over_a_hidden_field_is_hidden(leak: LeakWorld) -> None:
    service, alice = leak.service, leak.alice
    policy = Policy(service.spec, alice, service.registry)
    assert policy.field_mode("staff", "bonus") == "hidden"
    assert "bonus" not in policy.visible_fields("staff")
    assert "bonus" not in service.get("staff", leak.alice_staff, alice).values
    page = service.page("staff", RecordQuery(), actor=alice)
    assert all("bonus" not in record.values for record in page.records)


def test_filtering_on_a_formula_over_a_hidden_field_is_refused(leak: LeakWorld) -> None:
    """``--where 'bonus > 800'`` would probe the salary."""
    service, alice = leak.service, leak.alice
    query = RecordQuery(filter=Condition("bonus", "gt", Decimal("400")))
    assert _refused(service.page, "staff", query, None, 100, alice)
    assert _refused(service.count, "staff", query, alice)


# -- names of linked records --


def _export_rows(world: LeakWorld, actor, form: str, path) -> list[list]:
    import openpyxl

    from runtime.services.excel.export import export_records
    from runtime.services.progress import run_steps

    fields = Policy(world.service.spec, actor, world.service.registry).visible_fields(form)
    run_steps(export_records(world.service, form, path, actor=actor, visible_fields=fields))
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_export_names_only_records_the_reader_may_read(leak: LeakWorld, tmp_path) -> None:
    """Alice's export of visits: Bob's staff record (outside her scope) and any
    record shown by its hidden diagnosis appear as ids; her own record by a field
    she sees appears by name. The administrator sees every name."""
    own = leak.service.create(
        "visit", {"patient": leak.alice_staff, "colleague": leak.alice_staff}, leak.alice
    )
    rows = _export_rows(leak, leak.alice, "visit", tmp_path / "alice.xlsx")
    header, lines = rows[0], {line[0]: line for line in rows[1:]}
    patient, colleague = header.index("Patient"), header.index("Colleague")
    assert lines[leak.visit][patient] == f"#{leak.bob_staff}"
    assert lines[leak.visit][colleague] == f"#{leak.bob_staff}"
    assert lines[own.id][patient] == f"#{leak.alice_staff}"  # diagnosis hidden
    assert lines[own.id][colleague] == "Alice"
    text = " ".join(str(cell) for row in rows for cell in row)
    assert "schizophrenia" not in text and "diabetes" not in text and "Bob" not in text
    rows = _export_rows(leak, leak.admin, "visit", tmp_path / "admin.xlsx")
    lines = {line[0]: line for line in rows[1:]}
    assert lines[leak.visit][patient] == "schizophrenia"
    assert lines[own.id][colleague] == "Alice"


def _dry_run(world: LeakWorld, actor, tmp_path, rows: list[tuple]) -> list[str]:
    """One problem text per row of a dry-run import of visits (``""``: valid)."""
    import openpyxl

    from runtime.services.excel.importer import import_records
    from runtime.services.progress import run_steps

    path = tmp_path / "visits.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Patient", "Colleague", "Note"])
    for row in rows:
        book.active.append(list(row))
    book.save(path)
    fields = Policy(world.service.spec, actor, world.service.registry).writable_fields(
        "visit", "create"
    )
    result = run_steps(
        import_records(
            world.service, "visit", path, actor=actor, visible_fields=fields, dry_run=True
        )
    )
    problems = [""] * len(rows)
    for error in result.errors:
        problems[error.row - 2] += str(error)
    return problems


def test_import_by_name_matches_only_records_the_reader_may_read(leak: LeakWorld, tmp_path):
    """A right and a wrong guess of a hidden diagnosis get the same answer, and so
    do the name of a record outside the scope and a name nobody has."""
    problems = _dry_run(
        leak,
        leak.alice,
        tmp_path,
        [
            ("schizophrenia", None, "right guess"),
            ("diabetes", None, "right guess, own record"),
            ("measles", None, "wrong guess"),
            (None, "Bob", "outside the scope"),
            (None, "Nobody", "no such name"),
            (None, "Alice", "readable"),
            (f"#{leak.alice_staff}", None, "by id"),
        ],
    )
    for index, name in enumerate(("schizophrenia", "diabetes", "measles")):
        assert f"no record named '{name}'" in problems[index], problems
    assert "no record named 'Bob'" in problems[3]
    assert "no record named 'Nobody'" in problems[4]
    assert problems[5:] == ["", ""]
    # The administrator reads every record: the same names are found.
    assert _dry_run(leak, leak.admin, tmp_path, [("schizophrenia", "Bob", "")]) == [""]


def test_screens_name_only_records_the_reader_may_read(leak: LeakWorld) -> None:
    """The runtime's names and pickers (WorkspaceReferences) follow the same rules."""
    from runtime.services.records.references import WorkspaceReferences

    alice = WorkspaceReferences(leak.service, leak.alice)
    staff = ("record", "staff", "name")
    diagnosis = ("record", "staff", "diagnosis")
    assert alice.name_of(staff, leak.bob_staff) == f"#{leak.bob_staff}"
    assert alice.name_of(staff, leak.alice_staff) == "Alice"
    assert alice.name_of(diagnosis, leak.alice_staff) == f"#{leak.alice_staff}"
    assert alice.search_records("staff", "diagnosis", "diab") == []
    assert alice.search_records("staff", "name", "Bob") == []
    assert alice.search_records("staff", "name", "Ali") == [(leak.alice_staff, "Alice")]
    assert alice.search_records("staff", "name", "") == [(leak.alice_staff, "Alice")]
    assert alice.name_of("user", leak.bob.user_id) == "Bob"
    admin = WorkspaceReferences(leak.service, leak.admin)
    assert admin.name_of(staff, leak.bob_staff) == "Bob"
    assert admin.name_of(diagnosis, leak.bob_staff) == "schizophrenia"


# -- exports are audited --


def _audit_rows(world: LeakWorld, action: str) -> list:
    import json

    import sqlalchemy as sa

    from runtime.store.schema import audit_table

    with world.workspace.reader() as connection:
        rows = connection.execute(
            sa.select(audit_table).where(audit_table.c.action == action).order_by(audit_table.c.id)
        ).mappings()
        return [dict(row, details=json.loads(row["details"] or "null")) for row in rows]


def test_every_export_writes_an_audit_row(leak: LeakWorld, tmp_path) -> None:
    """Who, form, filter, columns, row count and file: from the Python API here and
    from the CLI in tests/runtime/test_cli_excel.py."""
    from runtime.services.excel.export import export_records
    from runtime.services.progress import run_steps

    path = tmp_path / "mine.csv"
    query = RecordQuery(filter=Condition("name", "contains", "Ali"))
    result = run_steps(
        export_records(
            leak.service,
            "staff",
            path,
            actor=leak.alice,
            visible_fields=["name", "code"],
            query=query,
            columns=["code", "name"],
        )
    )
    assert result.rows == 1
    rows = _audit_rows(leak, "export")
    assert len(rows) == 1
    row = rows[0]
    assert (row["user_id"], row["username"], row["app_id"], row["form"]) == (
        leak.alice.user_id,
        "alice",
        "leak",
        "staff",
    )
    details = row["details"]
    assert details["rows"] == 1
    assert details["columns"] == ["code", "name"]
    assert details["file"] == str(path)
    assert details["filter"] == {"field": "name", "op": "contains", "value": "Ali"}
    run_steps(
        export_records(
            leak.service,
            "visit",
            tmp_path / "all.xlsx",
            actor=leak.admin,
            visible_fields=["patient", "colleague", "note"],
        )
    )
    rows = _audit_rows(leak, "export")
    assert len(rows) == 2 and rows[1]["details"]["rows"] == 1
    assert rows[1]["details"]["filter"] is None
