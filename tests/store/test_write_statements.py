"""The statements a single save sends, on both engines, and what they answer.

A save asks the database every reference and unique question in one statement
(runtime.store.value_questions) and takes a serial number in one statement, after
its checks, right before the record's INSERT (RecordWriter._late_serials); bulk
inserts and imports take their numbers in blocks (records.numbering). The
statements counted are those of the checks, the numbers and the record; the audit
row's are another matter (runtime.store.audit).
"""

from __future__ import annotations

import csv
from datetime import datetime

import pytest
import sqlalchemy as sa

from runtime.services.records.service import RecordService, ValidationFailed
from runtime.store import value_questions
from tests.services.excel_support import do_import
from tests.store.conftest import add_department, add_user, make_spec
from tests.store.test_records import add_device, request_values

MISSING = "does not exist (it may have been deleted)"


class Statements:
    """The SQL an engine sends while in the block, in order (BEGIN included on
    SQLite, where the engine sends it as a statement)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.sent: list[str] = []
        self.parameters: list[object] = []

    def _heard(self, _connection, _cursor, statement, parameters, _context, _many) -> None:
        self.sent.append(" ".join(statement.split()))
        self.parameters.append(parameters)

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._heard)
        return self

    def __exit__(self, *_exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._heard)

    def until(self, text: str) -> list[str]:
        """The statements up to and including the first that starts with ``text``,
        without SQLite's BEGIN."""
        end = next(n for n, sql in enumerate(self.sent) if sql.startswith(text))
        return [sql for sql in self.sent[: end + 1] if not sql.startswith("BEGIN")]

    def touching(self, table: str) -> list[str]:
        return [sql for sql in self.sent if table in sql]


def kinds(statements: list[str]) -> list[str]:
    """Each statement as its verb and first table: ``SELECT fw_users``."""
    named = []
    for sql in statements:
        words = sql.split()
        table = next(word for word in words[1:] if "__" in word or word.startswith("fw_"))
        named.append(f"{words[0]} {table.split('.')[0]}")
    return named


# -- serial numbers: one statement each --------------------------------------------------------


def test_each_number_is_one_statement_the_first_of_a_period_too(repair):
    repository, engine = repair.repository, repair.workspace.engine
    repository.form_tables("request")  # built on first use, reading the database
    with Statements(engine) as heard, engine.begin() as connection:
        numbers = [repository.next_serial(connection, "request", "request_no", "2031-06")
                   for _ in range(3)]  # fmt: skip
    assert numbers == [1, 2, 3]
    sent = [sql for sql in heard.sent if not sql.startswith("BEGIN")]
    assert kinds(sent) == ["INSERT fw_serials"] * 3  # no UPDATE first, no SAVEPOINT


def test_a_rolled_back_first_number_of_a_period_is_given_again(repair):
    """The first number of a period creates the counter row; a rollback removes it."""
    repository, engine = repair.repository, repair.workspace.engine
    with engine.connect() as connection, connection.begin() as transaction:
        assert repository.next_serial(connection, "request", "request_no", "2031-05") == 1
        assert repository.next_serial(connection, "request", "request_no", "2031-05") == 2
        transaction.rollback()
    with engine.begin() as connection:
        assert repository.next_serial(connection, "request", "request_no", "2031-05") == 1


def test_a_bulk_insert_takes_its_numbers_in_doubling_blocks_and_gives_back_the_rest(repair, icu):
    """Ten rows: blocks of 1, 2, 4 and 8 numbers, the 5 unused given back; a
    typed-in number takes none."""
    device = add_device(repair, owner_dept=icu)
    rows = [request_values(device.id) for _ in range(10)]
    rows.insert(3, request_values(device.id, request_no="BX-202001-0001"))
    with Statements(repair.workspace.engine) as heard:
        assert repair.bulk_create("request", rows) == 11
    assert [sql.split()[0] for sql in heard.touching("fw_serials")] == ["INSERT"] * 4 + ["UPDATE"]
    prefix = f"BX-{datetime.now():%Y%m}-"
    numbers = sorted(r.values["request_no"] for r in repair.iter_records("request"))
    assert numbers == ["BX-202001-0001", *(f"{prefix}{n:04d}" for n in range(1, 11))]
    next_one = repair.create("request", request_values(device.id)).values["request_no"]
    assert next_one == f"{prefix}0011"  # gap-free


def test_an_import_batch_takes_its_numbers_in_one_statement(workspace, tmp_path):
    service = tickets(workspace, required=False)
    path = tmp_path / "tickets.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["Title", "No"], ["a", ""], ["b", "T-900"], ["c", ""]])
    with Statements(workspace.engine) as heard:
        result = do_import(service, "ticket", path)
    assert result.created == 3 and result.errors == []
    assert [sql.split()[0] for sql in heard.touching("fw_serials")] == ["INSERT"]
    titles = {r.values["title"]: r.values["ticket_no"] for r in service.iter_records("ticket")}
    assert titles == {"a": "T-001", "b": "T-900", "c": "T-002"}
    assert service.create("ticket", {"title": "d"}).values["ticket_no"] == "T-003"


def test_the_counter_upsert_targets_the_primary_key(repair):
    """ON CONFLICT needs a unique constraint on exactly those four columns: the
    table's primary key, the same since the first workspace schema."""
    key = sa.inspect(repair.workspace.engine).get_pk_constraint("fw_serials")
    assert key["constrained_columns"] == ["app_id", "form", "field", "period"]


# -- a save's checks: one statement ------------------------------------------------------------


def test_a_device_save_asks_its_reference_and_unique_value_in_one_statement(repair, icu):
    add_device(repair, "EQ-0001", owner_dept=icu)
    with Statements(repair.workspace.engine) as heard:
        add_device(repair, "EQ-0002", owner_dept=icu)
    checks, insert = heard.until("INSERT INTO equipment_repair__device")
    assert "fw_departments" in checks and "asset_no IN" in checks and "UNION ALL" in checks
    assert insert.startswith("INSERT INTO equipment_repair__device")


MANY_KINDS = [
    {"key": "code", "type": "text", "label": "Code", "unique": True},
    {"key": "amount", "type": "number", "label": "Amount", "unique": True, "decimals": 2},
    {"key": "day", "type": "date", "label": "Day", "unique": True},
    {"key": "at", "type": "datetime", "label": "At", "unique": True},
    {"key": "owner", "type": "user", "label": "Owner"},
    {"key": "team", "type": "user", "label": "Team", "multiple": True},
    {"key": "ward", "type": "department", "label": "Ward"},
    {"key": "parent", "type": "lookup", "label": "Parent", "form": "item",
     "display_field": "code"},
]  # fmt: skip


@pytest.fixture
def items(workspace) -> RecordService:
    spec = make_spec("things", [{"key": "item", "title": "Item", "fields": MANY_KINDS}])
    workspace.install(spec)
    return RecordService(workspace, spec)


def item(user: int, ward: int, parent: int | None = None, **values) -> dict:
    return {"code": "A", "amount": "12.50", "day": "2024-03-05", "at": "2024-03-05 08:30",
            "owner": user, "team": [user], "ward": ward, "parent": parent} | values  # fmt: skip


def test_unique_values_of_every_type_and_every_reference_kind_in_one_statement(items, workspace):
    ward = add_department(workspace, "ICU")
    user = add_user(workspace, "li", "Li", ward).user_id
    first = items.create("item", item(user, ward))
    again = item(user, 999_001, 999_002, owner=999_003, team=[user, 999_004])
    with Statements(workspace.engine) as heard, pytest.raises(ValidationFailed) as failed:
        items.create("item", again)
    assert failed.value.errors == {
        "code": "'A' is already used by another record",
        "amount": "'12.50' is already used by another record",
        "day": "'2024-03-05' is already used by another record",
        "at": "'2024-03-05 08:30' is already used by another record",
        "owner": f"#999003 {MISSING}",
        "team": f"#999004 {MISSING}",
        "ward": f"#999001 {MISSING}",
        "parent": f"#999002 {MISSING}",
    }
    assert [sql.split()[0] for sql in heard.sent if not sql.startswith("BEGIN")] == ["SELECT"]
    # its own values are not taken by itself, and a free value passes
    changed = items.update("item", first.id, item(user, ward, first.id, code="B"), first.version)
    assert changed.values["code"] == "B"


def test_a_bulk_row_reports_its_reference_before_its_unique_value(items, workspace):
    ward = add_department(workspace, "ICU")
    user = add_user(workspace, "li", "Li", ward).user_id
    items.create("item", item(user, ward))
    rows = [item(user, ward, code="C", amount="1", day="2024-01-01", at="2024-01-01 09:00"),
            item(user, 999_001)]  # fmt: skip
    with pytest.raises(ValidationFailed) as failed:
        items.bulk_create("item", rows)
    assert failed.value.errors == {"row 2": f"Ward: #999001 {MISSING}"}


def test_large_batches_are_split_within_the_statement_limits(repair, icu, monkeypatch):
    """Lowered limits: each statement binds at most 7 values in at most 2 selects,
    and the answers are those of one statement."""
    monkeypatch.setattr(value_questions, "BRANCH_VALUES", 3)
    monkeypatch.setattr(value_questions, "STATEMENT_VALUES", 7)
    monkeypatch.setattr(value_questions, "STATEMENT_BRANCHES", 2)
    other = add_department(repair.workspace, "ER")
    repair.create("device", {"asset_no": "EQ-00016", "name": "n", "owner_dept": icu})
    rows = [
        {"asset_no": f"EQ-{n:05d}", "name": f"设备 {n}", "owner_dept": (icu, other)[n % 2]}
        for n in range(20)
    ]
    with Statements(repair.workspace.engine) as heard, pytest.raises(ValidationFailed) as failed:
        repair.bulk_create("device", rows)
    assert failed.value.errors == {
        "row 17": "资产编号: 'EQ-00016' is already used by another record"
    }
    checks = [
        n for n, sql in enumerate(heard.sent) if "fw_departments" in sql or "asset_no IN" in sql
    ]
    assert len(checks) >= 20 / 7
    for n in checks:
        parameters = heard.parameters[n]
        assert len(parameters) <= 7  # type: ignore[arg-type]
        assert heard.sent[n].count("SELECT") <= 2


# -- serial numbers taken after the checks, as users saw them before ---------------------------


def test_a_request_save_checks_then_numbers_then_inserts(repair, icu, nurse):
    """Three references (a record, two users) in one statement; the serial number
    in one statement, the first of its period as every later one. (Saved by the
    system: a user's save first reads whether the user is still active, in a
    transaction of its own.)"""
    device = add_device(repair, owner_dept=icu)
    values = request_values(device.id, reporter=nurse.user_id, engineer=nurse.user_id)
    for expected in ("0001", "0002"):
        with Statements(repair.workspace.engine) as heard:
            created = repair.create("request", values)
        assert created.values["request_no"].endswith(expected)
        before_insert = heard.until("INSERT INTO equipment_repair__request")
        assert kinds(before_insert) == [
            "SELECT equipment_repair__device",
            "INSERT fw_serials",
            "INSERT equipment_repair__request",
        ]
        assert "fw_users" in before_insert[0]
        assert "ON CONFLICT (app_id, form, field, period) DO UPDATE" in before_insert[1]


def test_a_refused_save_never_takes_a_number(repair, icu):
    """Refused by its values or by the database checks: the counter is not asked at
    all, so no other save waited for it; the next save gets the next number."""
    device = add_device(repair, owner_dept=icu)
    with Statements(repair.workspace.engine) as heard:
        with pytest.raises(ValidationFailed) as dangling:
            repair.create("request", request_values(999_999))
        with pytest.raises(ValidationFailed):
            repair.create("request", request_values(device.id, urgency="whenever"))
    assert dangling.value.errors == {"device": f"#999999 {MISSING}"}
    assert heard.touching("fw_serials") == []
    number = repair.create("request", request_values(device.id)).values["request_no"]
    assert number == f"BX-{datetime.now():%Y%m}-0001"


def tickets(
    workspace, extra_fields: list[dict] | None = None, required: bool = True
) -> RecordService:
    """A form numbered T-001, T-002, … (its number required unless ``required`` is False)."""
    spec = make_spec(
        "tickets",
        [{"key": "ticket", "title": "Ticket", "fields": [
            {"key": "ticket_no", "type": "serial", "label": "No", "required": required,
             "pattern": "T-{seq:3}"},
            {"key": "title", "type": "text", "label": "Title", "required": True},
            *(extra_fields or []),
        ]}],
    )  # fmt: skip
    workspace.install(spec)
    return RecordService(workspace, spec)


def test_a_number_a_stored_record_holds_is_refused_on_its_field(workspace):
    """A number typed in earlier is reached by the counter: the save is refused
    with the sentence a typed-in duplicate gets, on the serial field."""
    service = tickets(workspace)
    service.create("ticket", {"title": "typed", "ticket_no": "T-002"})
    assert service.create("ticket", {"title": "a"}).values["ticket_no"] == "T-001"
    with pytest.raises(ValidationFailed) as taken:
        service.create("ticket", {"title": "b"})
    with pytest.raises(ValidationFailed) as typed:
        service.create("ticket", {"title": "c", "ticket_no": "T-002"})
    message = "'T-002' is already used by another record"
    assert taken.value.errors == typed.value.errors == {"ticket_no": message}


def test_a_number_a_formula_reads_is_taken_before_the_checks(workspace):
    label = {"key": "label", "type": "formula", "label": "Label", "result": "text",
             "expression": 'ticket_no & " / " & title'}  # fmt: skip
    service = tickets(workspace, [label])
    assert service.create("ticket", {"title": "pump"}).values["label"] == "T-001 / pump"
    with Statements(workspace.engine) as heard:
        created = service.create("ticket", {"title": "valve"})
    assert created.values["label"] == "T-002 / valve"
    assert kinds(heard.until("INSERT INTO tickets__ticket")) == [
        "INSERT fw_serials",
        "SELECT tickets__ticket",  # its value is checked as unique, as before
        "INSERT tickets__ticket",
    ]
