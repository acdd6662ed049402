"""Filters, search, sort, keyset paging and SQL-injection safety, on both engines.

Every filter result is compared with the same condition evaluated in Python over
the records read back, so the SQL translation of each operator is checked.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from runtime.services.records.service import RecordService
from runtime.store.query import AllOf, AnyOf, Condition, RecordQuery, Sort, all_of
from runtime.store.repository import UnknownName
from tests.store.conftest import make_spec

HOSTILE = "x'); DROP TABLE fw_users; --"
HOSTILE_LABEL = "Robert'); DELETE FROM fw_audit WHERE ('1'='1"

FIELDS = [
    {"key": "name", "type": "text", "label": "Name", "max_length": 100},
    {"key": "notes", "type": "textarea", "label": HOSTILE_LABEL},
    {"key": "ward", "type": "select", "label": "Ward", "options": [
        {"value": "icu", "label": "重症监护室"}, {"value": "er", "label": "急诊科"},
        {"value": HOSTILE, "label": HOSTILE_LABEL}]},
    {"key": "tags", "type": "multiselect", "label": "Tags", "options": [
        {"value": "fall", "label": "跌倒"}, {"value": "allergy", "label": "过敏"},
        {"value": "vip", "label": "VIP"}, {"value": HOSTILE, "label": "坏 " + HOSTILE_LABEL}]},
    {"key": "amount", "type": "number", "label": "Amount", "decimals": 2},
    {"key": "age", "type": "number", "label": "Age"},
    {"key": "admitted", "type": "date", "label": "Admitted"},
    {"key": "seen_at", "type": "datetime", "label": "Seen"},
    {"key": "shift_start", "type": "time", "label": "Shift"},
    {"key": "urgent", "type": "checkbox", "label": "Urgent"},
]  # fmt: skip

NAMES = [
    "Zhang Wei 张伟", "li na", "WANG Fang 王芳", "张伟 junior", "100% sure", "50%_off",
    "under_score", "underXscore", "back\\slash", "O'Brien", HOSTILE, "   ", None,
]  # fmt: skip


@pytest.fixture
def clinic(workspace) -> RecordService:
    spec = make_spec("clinic", [{"key": "patient", "title": "Patient", "fields": FIELDS}])
    workspace.install(spec)
    return RecordService(workspace, spec)


def generated_rows(count: int, seed: int = 7) -> list[dict]:
    """Rows with ties and empty values in every column."""
    rng = random.Random(seed)

    def maybe(value):
        return None if rng.random() < 0.2 else value

    rows = []
    for n in range(count):
        tags = rng.sample(["fall", "allergy", "vip", HOSTILE], rng.randint(0, 3))
        rows.append(
            {
                "name": NAMES[n % len(NAMES)],
                "notes": maybe(rng.choice(["night shift", "夜班 交接", "see 50% rule", "a_b"])),
                "ward": maybe(rng.choice(["icu", "er", HOSTILE])),
                "tags": tags or None,
                "amount": maybe(Decimal(rng.randint(-500, 500)) / 100),
                "age": maybe(rng.randint(0, 9) * 10),
                "admitted": maybe(date(2024, 1, 1) + timedelta(days=rng.randint(0, 9))),
                "seen_at": maybe(datetime(2024, 1, 1, 8) + timedelta(minutes=rng.randint(0, 9))),
                "shift_start": maybe(time(rng.choice([7, 8, 15, 23]), rng.choice([0, 30]))),
                "urgent": maybe(rng.random() < 0.5),
            }
        )
    return rows


@pytest.fixture
def patients(clinic) -> list:
    """Forty records (half saved one by one, half in bulk), read back canonical."""
    rows = generated_rows(40)
    rows[0]["amount"] = "0.50"
    for row in rows[:20]:
        clinic.create("patient", row)
    clinic.bulk_create("patient", rows[20:])
    records = list(clinic.iter_records("patient"))
    assert len(records) == 40
    return records


def ids(service, filter=None, search="") -> set[int]:
    query = RecordQuery(filter=filter, search=search)
    found = [record.id for record in service.iter_records("patient", query, page_size=7)]
    assert len(found) == len(set(found))
    assert service.count("patient", query) == len(found)
    return set(found)


def where(records, predicate) -> set[int]:
    return {record.id for record in records if predicate(record.values)}


def lower(text):
    return (text or "").lower()


# (condition, the same in Python)
CONDITIONS = [
    (Condition("name", "eq", "li na"), lambda v: v["name"] == "li na"),
    (Condition("name", "ne", "li na"), lambda v: v["name"] != "li na"),
    (Condition("name", "contains", "张伟"), lambda v: "张伟" in lower(v["name"])),
    (Condition("name", "contains", "WEI"), lambda v: "wei" in lower(v["name"])),
    (Condition("name", "not_contains", "wei"), lambda v: "wei" not in lower(v["name"])),
    (Condition("name", "starts_with", "zh"), lambda v: lower(v["name"]).startswith("zh")),
    (Condition("name", "starts_with", "张"), lambda v: lower(v["name"]).startswith("张")),
    (Condition("name", "contains", "%"), lambda v: "%" in lower(v["name"])),
    (Condition("name", "contains", "_"), lambda v: "_" in lower(v["name"])),
    (Condition("name", "contains", "\\"), lambda v: "\\" in lower(v["name"])),
    (Condition("name", "contains", "'"), lambda v: "'" in lower(v["name"])),
    (Condition("name", "in", ["li na", "O'Brien"]), lambda v: v["name"] in ("li na", "O'Brien")),
    (Condition("name", "is_empty"), lambda v: v["name"] is None),
    (Condition("name", "not_empty"), lambda v: v["name"] is not None),
    (Condition("notes", "contains", "夜班"), lambda v: "夜班" in lower(v["notes"])),
    (Condition("ward", "eq", "icu"), lambda v: v["ward"] == "icu"),
    (Condition("ward", "eq", "急诊科"), lambda v: v["ward"] == "er"),  # a label is understood
    (Condition("ward", "ne", "icu"), lambda v: v["ward"] != "icu"),
    (Condition("ward", "in", ["icu", "er"]), lambda v: v["ward"] in ("icu", "er")),
    (Condition("ward", "is_empty"), lambda v: v["ward"] is None),
    (Condition("tags", "contains", "fall"), lambda v: "fall" in (v["tags"] or [])),
    (Condition("tags", "not_contains", "vip"), lambda v: "vip" not in (v["tags"] or [])),
    (Condition("tags", "is_empty"), lambda v: v["tags"] is None),
    (Condition("tags", "not_empty"), lambda v: v["tags"] is not None),
    (Condition("amount", "eq", "0.5"), lambda v: v["amount"] == Decimal("0.5")),
    (Condition("amount", "lt", 0), lambda v: v["amount"] is not None and v["amount"] < 0),
    (Condition("amount", "le", "-1.5"), lambda v: v["amount"] is not None and v["amount"] <= -1.5),
    (Condition("amount", "gt", "1.25"), lambda v: v["amount"] is not None and v["amount"] > 1.25),
    (Condition("amount", "ge", 2), lambda v: v["amount"] is not None and v["amount"] >= 2),
    (Condition("amount", "between", ["-1", "1"]),
     lambda v: v["amount"] is not None and -1 <= v["amount"] <= 1),
    (Condition("amount", "is_empty"), lambda v: v["amount"] is None),
    (Condition("age", "ne", 30), lambda v: v["age"] != 30),
    (Condition("age", "between", [20, 50]), lambda v: v["age"] is not None and 20 <= v["age"] <= 50),
    (Condition("admitted", "eq", "2024-01-03"), lambda v: v["admitted"] == date(2024, 1, 3)),
    (Condition("admitted", "before", "2024-01-04"),
     lambda v: v["admitted"] is not None and v["admitted"] < date(2024, 1, 4)),
    (Condition("admitted", "after", date(2024, 1, 6)),
     lambda v: v["admitted"] is not None and v["admitted"] > date(2024, 1, 6)),
    (Condition("admitted", "between", ["2024-01-02", "2024-01-05"]),
     lambda v: v["admitted"] is not None and date(2024, 1, 2) <= v["admitted"] <= date(2024, 1, 5)),
    (Condition("seen_at", "before", "2024-01-01 08:04"),
     lambda v: v["seen_at"] is not None and v["seen_at"] < datetime(2024, 1, 1, 8, 4)),
    (Condition("seen_at", "after", datetime(2024, 1, 1, 8, 6)),
     lambda v: v["seen_at"] is not None and v["seen_at"] > datetime(2024, 1, 1, 8, 6)),
    (Condition("seen_at", "between", ["2024-01-01 08:02", "2024-01-01 08:05"]),
     lambda v: v["seen_at"] is not None
     and datetime(2024, 1, 1, 8, 2) <= v["seen_at"] <= datetime(2024, 1, 1, 8, 5)),
    (Condition("shift_start", "before", "08:30"),
     lambda v: v["shift_start"] is not None and v["shift_start"] < time(8, 30)),
    (Condition("shift_start", "after", "15:00"),
     lambda v: v["shift_start"] is not None and v["shift_start"] > time(15)),
    (Condition("urgent", "eq", True), lambda v: v["urgent"] is True),
    (Condition("urgent", "eq", False), lambda v: v["urgent"] is False),
    (Condition("urgent", "is_empty"), lambda v: v["urgent"] is None),
]  # fmt: skip


def test_each_operator_matches_python(clinic, patients):
    for condition, predicate in CONDITIONS:
        expected = where(patients, predicate)
        # the data leaves each condition something to find and something to skip
        assert 0 < len(expected) < len(patients), condition
        assert ids(clinic, condition) == expected, condition


def test_nested_all_of_any_of(clinic, patients):
    nested = AllOf(
        (
            AnyOf((Condition("ward", "eq", "icu"), Condition("tags", "contains", "vip"))),
            AnyOf(
                (
                    Condition("amount", "gt", 0),
                    AllOf((Condition("age", "ge", 40), Condition("urgent", "eq", True))),
                )
            ),
            Condition("name", "not_empty"),
        )
    )

    def predicate(v):
        first = v["ward"] == "icu" or "vip" in (v["tags"] or [])
        amount = v["amount"] is not None and v["amount"] > 0
        second = amount or (v["age"] is not None and v["age"] >= 40 and v["urgent"] is True)
        return first and second and v["name"] is not None

    expected = where(patients, predicate)
    assert expected
    assert ids(clinic, nested) == expected
    assert all_of(None, None) is None
    assert ids(clinic, all_of(Condition("ward", "eq", "icu"), None)) == where(
        patients, lambda v: v["ward"] == "icu"
    )


def test_search_words_case_insensitive_chinese(clinic, patients):
    def text(v):
        return " ".join(lower(v[key]) for key in ("name", "notes") if v[key])

    for search in ("zhang", "ZHANG wei", "张伟", "wei junior", "夜班 交接", "night 张伟"):
        words = search.lower().split()
        expected = where(patients, lambda v, words=words: all(w in text(v) for w in words))
        assert ids(clinic, search=search) == expected, search
    assert ids(clinic, search="zhang nobody") == set()
    assert ids(clinic, search="   ") == {record.id for record in patients}


def test_search_wildcards_match_literally(clinic, patients):
    def text(v):
        return " ".join(lower(v[key]) for key in ("name", "notes") if v[key])

    for needle in ("%", "_", "\\", "'", "50%_off", HOSTILE, "a_b"):
        expected = where(patients, lambda v, needle=needle: needle.lower() in text(v))
        assert 0 < len(expected) < len(patients), needle
        assert ids(clinic, search=needle) == expected, needle


def test_search_and_filter_combine(clinic, patients):
    condition = Condition("ward", "eq", "icu")
    found = ids(clinic, condition, search="zhang")
    assert found == where(patients, lambda v: v["ward"] == "icu" and "zhang" in lower(v["name"]))


def test_bad_filters_are_refused(clinic, patients):
    with pytest.raises(UnknownName):
        ids(clinic, Condition("nope", "eq", 1))
    with pytest.raises(UnknownName):
        ids(clinic, Condition("tags", "lt", "fall"))
    for key in ("amount", "admitted", "urgent"):  # text operators on other types
        with pytest.raises(UnknownName):
            ids(clinic, Condition(key, "contains", "1"))
    with pytest.raises(UnknownName):
        clinic.page("patient", RecordQuery(columns=("name", "nope")))
    with pytest.raises(UnknownName):
        clinic.page("patient", RecordQuery(sort=Sort("nope")))
    with pytest.raises(UnknownName):
        clinic.page("patient", RecordQuery(sort=Sort("deleted_at")))


# -- sort and keyset paging ---------------------------------------------------------------


def expected_order(records, key, desc):
    """Sort value then id, in the chosen direction; empty values last in both."""
    present = [r for r in records if r.values[key] is not None]
    empty = [r for r in records if r.values[key] is None]
    present.sort(key=lambda r: (r.values[key], r.id), reverse=desc)
    empty.sort(key=lambda r: r.id, reverse=desc)
    return [r.id for r in present + empty]


def paged_ids(service, query, page_size):
    collected, cursor, pages = [], None, 0
    while True:
        page = service.page("patient", query, cursor, page_size)
        pages += 1
        collected += [record.id for record in page.records]
        assert len(page.records) <= page_size
        if page.next_cursor is None:
            break
        assert len(page.records) == page_size
        cursor = page.next_cursor
        assert pages < 1000
    return collected


SORTABLE = ["name", "amount", "age", "admitted", "seen_at", "shift_start", "urgent"]


def test_keyset_paging_visits_every_record_once_in_order(clinic):
    rng = random.Random(11)
    rows = generated_rows(300, seed=3)
    for row in rows:  # lowercase names: the same order under every collation
        row["name"] = rng.choice([None, "alpha", "beta", "gamma", "delta", "omega"])
    for row in rows[:25]:
        clinic.create("patient", row)
    clinic.bulk_create("patient", rows[25:])
    records = list(clinic.iter_records("patient", page_size=1000))
    assert len(records) == 300
    for key in SORTABLE:
        for desc in (False, True):
            expected = expected_order(records, key, desc)
            for page_size in (1, 7, 100):
                if page_size == 1 and key not in ("amount", "name"):
                    continue  # keep the run short; size 1 is checked on two types
                query = RecordQuery(sort=Sort(key, desc))
                assert paged_ids(clinic, query, page_size) == expected, (key, desc, page_size)
    # with a filter: the count matches the pages
    query = RecordQuery(filter=Condition("ward", "eq", "icu"), sort=Sort("amount", True))
    collected = paged_ids(clinic, query, 9)
    assert len(collected) == clinic.count("patient", query) > 0
    icu = [r for r in records if r.values["ward"] == "icu"]
    assert collected == expected_order(icu, "amount", True)


def test_paging_reads_only_the_chosen_columns(clinic, patients):
    query = RecordQuery(columns=("name",), sort=Sort("amount", True))
    assert paged_ids(clinic, query, 4) == expected_order(patients, "amount", True)
    page = clinic.page("patient", query, limit=3)
    assert set(page.records[0].values) <= {"name", "amount"}


def test_sort_by_system_columns(clinic, patients):
    for key in ("id", "created_at", "updated_at"):
        for desc in (False, True):
            found = paged_ids(clinic, RecordQuery(sort=Sort(key, desc)), 6)
            expected = sorted(
                patients, key=lambda r, key=key: (getattr(r, key), r.id), reverse=desc
            )
            assert found == [r.id for r in expected]


def test_deleted_records_leave_lists_and_counts(clinic, patients):
    gone = patients[3].id
    clinic.delete("patient", gone)
    assert gone not in ids(clinic)
    assert clinic.count("patient") == len(patients) - 1
    trash = clinic.page("patient", RecordQuery(trash=True)).records
    assert [r.id for r in trash] == [gone]


# -- SQL injection --------------------------------------------------------------------------


@pytest.fixture
def statements(clinic):
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    sa.event.listen(clinic.workspace.engine, "before_cursor_execute", capture)
    yield captured
    sa.event.remove(clinic.workspace.engine, "before_cursor_execute", capture)


def test_hostile_values_never_become_sql(clinic, statements):
    hostile_rows = [
        {"name": HOSTILE, "notes": HOSTILE_LABEL, "ward": HOSTILE, "tags": [HOSTILE, "vip"]},
        {"name": "plain", "notes": "夜班", "ward": "icu", "tags": ["fall"]},
    ]
    created = [clinic.create("patient", row).id for row in hostile_rows]
    queries = [
        Condition("name", "eq", HOSTILE),
        Condition("name", "contains", HOSTILE),
        Condition("name", "starts_with", HOSTILE),
        Condition("name", "in", [HOSTILE, "'; SELECT 1; --"]),
        Condition("notes", "not_contains", HOSTILE_LABEL),
        Condition("ward", "eq", HOSTILE),
        Condition("ward", "eq", HOSTILE_LABEL),  # by its label
        Condition("ward", "in", [HOSTILE]),
        Condition("tags", "contains", HOSTILE),
        Condition("tags", "not_contains", HOSTILE),
    ]
    results = [ids(clinic, query) for query in queries]
    assert results[:4] == [{created[0]}] * 4
    assert results[4] == {created[1]}
    assert results[5:9] == [{created[0]}] * 4
    assert results[9] == {created[1]}
    assert ids(clinic, search=HOSTILE) == {created[0]}
    assert ids(clinic, search="'; DROP TABLE x; --") == set()
    clinic.update("patient", created[1], {"name": HOSTILE_LABEL}, 1)
    list(clinic.iter_records("patient", RecordQuery(sort=Sort("name", True)), page_size=1))
    sql = "\n".join(statement for statement, _ in statements)
    for text in (HOSTILE, HOSTILE_LABEL, "DROP TABLE", "DELETE FROM fw_audit", "SELECT 1; --"):
        assert text not in sql
    parameters = repr([parameters for _, parameters in statements])
    assert "DROP TABLE fw_users" in parameters  # it went in as a value
    with clinic.workspace.engine.connect() as connection:  # and the tables are all there
        assert sa.inspect(connection).has_table("fw_users")
        assert connection.execute(sa.text("SELECT COUNT(*) FROM fw_audit")).scalar() >= 3
