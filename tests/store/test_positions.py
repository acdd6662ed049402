"""Positions in a list without reading records: ``cursor_at`` from any start, and
``position_marks``, checked against reading the pages in order, on both engines."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from runtime.services.actor import Actor
from runtime.services.records.service import RecordService
from runtime.store import repository
from runtime.store.query import Condition, Cursor, RecordQuery, RowScope, Sort
from runtime.store.repository import Page, Record, RecordRepository
from tests.store.conftest import add_department, add_user, make_spec
from tests.store.test_queries import FIELDS as CLINIC_FIELDS
from tests.store.test_queries import SORTABLE, generated_rows

FIELDS = [
    {"key": "score", "type": "number", "label": "Score"},
    {"key": "ward", "type": "text", "label": "Ward"},
]
ROWS_EACH = 150


@pytest.fixture
def entries(workspace) -> tuple[RecordService, Actor]:
    """300 records in two batches by two users of two departments; ``score`` has
    ties and empty values. Returns the service and the second batch's user."""
    spec = make_spec("scores", [{"key": "entry", "title": "Entry", "fields": FIELDS}])
    workspace.install(spec)
    service = RecordService(workspace, spec)
    rng = random.Random(5)
    users = [
        add_user(workspace, f"user{n}", f"User {n}", add_department(workspace, f"Ward {n}"))
        for n in (1, 2)
    ]
    for user in users:
        rows = [
            {
                "score": None if rng.random() < 0.25 else rng.randrange(25),
                "ward": rng.choice(["icu", "er"]),
            }
            for _ in range(ROWS_EACH)
        ]
        service.bulk_create("entry", rows, user)
    return service, users[1]


class Reader:
    """One query of the repository, read on a connection."""

    def __init__(self, service: RecordService, connection, query: RecordQuery, scope) -> None:
        self.repository: RecordRepository = service.repository
        self.connection = connection
        self.query = query
        self.scope = scope

    def pages(self, size: int) -> Iterator[Page]:
        """Every page, from the top to the end."""
        cursor = None
        while True:
            page = self.repository.page(
                self.connection, "entry", self.query, cursor, size, self.scope
            )
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def records(self) -> list[Record]:
        return [record for page in self.pages(37) for record in page.records]

    def ids(self) -> list[int]:
        return [record.id for record in self.records()]

    def page_after(self, cursor: Cursor | None, size: int = 5) -> list[int]:
        page = self.repository.page(self.connection, "entry", self.query, cursor, size, self.scope)
        return [record.id for record in page.records]

    def cursor_at(self, row: int, start: Cursor | None = None) -> Cursor | None:
        return self.repository.cursor_at(
            self.connection, "entry", self.query, row, self.scope, start
        )

    def marks(self, every: int, stopped=lambda: False) -> list[Cursor]:
        return self.repository.position_marks(
            self.connection, "entry", self.query, every, self.scope, stopped
        )


SORTS = [Sort("score"), Sort("score", desc=True), Sort("id"), Sort("id", desc=True)]
NARROWED = {
    "all": (None, lambda creator: None),
    "filter": (Condition("ward", "eq", "icu"), lambda creator: None),
    "scope": (None, lambda creator: RowScope("own", user_id=creator.user_id)),
    # IN lists (SQLAlchemy expands them when it runs the statement)
    "filter+scope": (
        Condition("ward", "in", ["er", "nowhere"]),
        lambda creator: RowScope(
            "department", department_ids=frozenset({creator.primary_department, -1})
        ),
    ),
}


@pytest.fixture
def readers(entries) -> Iterator[dict[str, Reader]]:
    """A reader for each sort and narrowing, by label (one database: set-up is the cost)."""
    service, creator = entries
    with service.workspace.engine.connect() as connection:
        yield {
            f"{sort.field}{' desc' if sort.desc else ''}, {label}": Reader(
                service, connection, RecordQuery(filter=condition, sort=sort), scope(creator)
            )
            for sort in SORTS
            for label, (condition, scope) in NARROWED.items()
        }


@contextmanager
def check(label: str) -> Iterator[None]:
    """Name the reader in a failure."""
    try:
        yield
    except AssertionError as error:
        raise AssertionError(f"{label}: {error}") from error


def rows_with_values(reader: Reader) -> int:
    """How many rows of the list have a sort value (the rows without come last)."""
    if reader.query.sort.field == "id":
        return len(reader.ids())
    return sum(record.values["score"] is not None for record in reader.records())


#: Skips from a cursor as the repository makes them: one statement, or (long skips)
#: the rows tied with the cursor's value counted apart; 0 makes every skip long.
SKIP_WAYS = {"short": repository.LONG_SKIP, "long": 0}


@pytest.mark.parametrize("way", list(SKIP_WAYS))
def test_cursor_at_from_any_start_reaches_the_same_row_as_from_the_top(readers, way, monkeypatch):
    monkeypatch.setattr(repository, "LONG_SKIP", SKIP_WAYS[way])
    for label, reader in readers.items():
        with check(label):
            skips_from_any_start(reader)


def skips_from_any_start(reader: Reader) -> None:
    ids = reader.ids()
    total = len(ids)
    boundary = rows_with_values(reader)  # the first row without a sort value
    assert total > 40
    if reader.query.sort.field != "id":
        assert 10 < boundary < total - 10  # both segments have rows to skip in
    starts = {1, 9, boundary - 1, boundary, boundary + 1, boundary + 7, total - 1, total}
    for start_row in sorted(row for row in starts if row <= total):
        start = reader.cursor_at(start_row)
        assert reader.page_after(start, 1) == ids[start_row : start_row + 1]
        assert (start.value is None) == (start_row > boundary)  # in the empty segment
        assert reader.cursor_at(0, start) == start
        for rows in (1, 6, boundary - start_row, boundary - start_row + 3, total - start_row):
            if rows <= 0 or start_row + rows > total:
                continue
            found = reader.cursor_at(rows, start)
            assert found == reader.cursor_at(start_row + rows), (start_row, rows)
            assert reader.page_after(found) == ids[start_row + rows : start_row + rows + 5]
        assert reader.cursor_at(total - start_row + 1, start) is None  # past the end


def test_cursor_at_from_the_top(readers):
    for label, reader in readers.items():
        ids = reader.ids()
        assert reader.cursor_at(0) is None, label
        assert reader.cursor_at(-3) is None, label
        assert reader.page_after(reader.cursor_at(1), 3) == ids[1:4], label
        assert reader.cursor_at(len(ids)).id == ids[-1], label  # the last row
        assert reader.cursor_at(len(ids) + 1) is None, label


@pytest.mark.parametrize("way", list(SKIP_WAYS))
def test_position_marks_are_the_page_starts_of_reading_in_order(readers, way, monkeypatch):
    monkeypatch.setattr(repository, "LONG_SKIP", SKIP_WAYS[way])
    for label, reader in readers.items():
        total = len(reader.ids())
        for every in (1, 7, 50, total - 1, total, total + 1, 10 * total):
            page_starts = [page.next_cursor for page in reader.pages(every) if page.next_cursor]
            assert reader.marks(every) == page_starts, (label, every)
            assert len(page_starts) == total // every, (label, every)


def test_position_marks_stop_when_asked(readers):
    for label, reader in readers.items():
        every_marks = reader.marks(10)
        asked = []

        def stopped(asked=asked) -> bool:
            asked.append(True)
            return len(asked) > 3

        assert reader.marks(10, stopped) == every_marks[:3], label
        assert reader.marks(10, lambda: True) == [], label


def test_nothing_to_mark_in_an_empty_list(entries):
    service, _creator = entries
    query = RecordQuery(filter=Condition("ward", "eq", "nowhere"), sort=Sort("score"))
    assert service.position_marks("entry", query, 1) == []
    assert service.cursor_at("entry", query, 1) is None
    with service.workspace.engine.connect() as connection:
        nobody = Reader(service, connection, RecordQuery(sort=Sort("score")), RowScope("none"))
        assert nobody.marks(5) == []
        assert nobody.cursor_at(3) is None
    with pytest.raises(ValueError):
        service.position_marks("entry", query, 0)


def test_the_service_marks_positions_of_the_list_it_pages(entries):
    service, _creator = entries
    query = RecordQuery(sort=Sort("score", desc=True))
    cursors, cursor = [], None
    while True:
        page = service.page("entry", query, cursor, 40)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        cursors.append(cursor)
    assert service.position_marks("entry", query, 40) == cursors
    start = service.cursor_at("entry", query, 85)
    assert service.cursor_at("entry", query, 35, start=start) == cursors[2]


@pytest.fixture
def patients(workspace) -> RecordService:
    """The clinic form of test_queries: every kind of sortable value, ties, empties."""
    spec = make_spec("clinic", [{"key": "patient", "title": "Patient", "fields": CLINIC_FIELDS}])
    workspace.install(spec)
    service = RecordService(workspace, spec)
    service.bulk_create("patient", generated_rows(150, seed=9))
    return service


@pytest.mark.parametrize("key", [*SORTABLE, "created_at", "updated_at"])
def test_marks_and_skips_for_every_kind_of_sort_value(patients, key, monkeypatch):
    """The marks' values go out to the driver and come back as the engine reads
    them (dates, times, decimals, text, booleans): each one starts its page."""
    for desc in (False, True):
        query = RecordQuery(sort=Sort(key, desc))
        starts, cursor = [], None
        while (page := patients.page("patient", query, cursor, 11)).next_cursor:
            starts.append(cursor := page.next_cursor)
        assert patients.position_marks("patient", query, 11) == starts, (key, desc)
        monkeypatch.setattr(repository, "LONG_SKIP", 0)
        assert patients.cursor_at("patient", query, 33, start=starts[1]) == starts[4]
        monkeypatch.undo()


def test_a_save_during_the_walk_does_not_shift_the_later_marks(entries):
    """The walk reads one snapshot: records saved meanwhile (past the first mark)
    do not move the marks still to come against the ones already taken."""
    service, creator = entries
    query = RecordQuery(sort=Sort("score", desc=True))
    before = service.position_marks("entry", query, 40)
    asked, saved = [], []

    def save_once_the_walk_is_on() -> bool:
        asked.append(True)
        if len(asked) == 2:  # the first mark is taken
            rows = [{"score": 5, "ward": "icu"} for _ in range(15)]
            saved.append(service.bulk_create("entry", rows, creator))
        return False

    assert service.position_marks("entry", query, 40, stopped=save_once_the_walk_is_on) == before
    assert saved == [15]
    assert service.position_marks("entry", query, 40) != before  # the next walk sees them
