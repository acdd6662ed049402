"""Data-engine benchmarks: the engine's paths against raw driver code on the same data.

    .venv/bin/python bench/bench_store.py --quick              # smoke run, 10,000 rows
    .venv/bin/python bench/bench_store.py                      # 1,000,000 rows, both engines
    .venv/bin/python bench/bench_store.py --engine sqlite --rows 200000

Every benchmark runs the engine (RecordService) and a raw baseline (sqlite3 or
psycopg on a plain table with the same columns and index) in the same process, on
the same data, and reports the ratio. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import _common as common
from _common import Result, median, paired, profiled, timed

from runtime.services.records.service import RecordService
from runtime.spec import parse_app_spec
from runtime.spec.models import AppSpec
from runtime.store.query import Condition, Cursor, RecordQuery, Sort

FORM = "item"
KEYS = ("title", "place", "note", "qty", "price", "due", "seen_at", "urgent", "status", "code")
STATUSES = ("new", "open", "waiting", "repaired", "closed")
FILTER_STATUS = "open"
PAGE = 100


# -- the app and its data ---------------------------------------------------------
def app_spec(columns: tuple[str, ...] = ()) -> AppSpec:
    """One form of 10 mixed fields and a view sorted by the date field ``due``.

    ``columns``: the view's columns (all fields when empty); bench_runtime_ui shares it.
    """
    options = [{"value": s, "label": s.title()} for s in STATUSES]
    fields = [
        {"key": "title", "type": "text", "label": "Title"},
        {"key": "place", "type": "text", "label": "Place"},
        {"key": "note", "type": "text", "label": "Note"},
        {"key": "qty", "type": "number", "label": "Quantity", "decimals": 0},
        {"key": "price", "type": "number", "label": "Price", "decimals": 2},
        {"key": "due", "type": "date", "label": "Due"},
        {"key": "seen_at", "type": "datetime", "label": "Seen at"},
        {"key": "urgent", "type": "checkbox", "label": "Urgent"},
        {"key": "status", "type": "select", "label": "Status", "options": options},
        {"key": "code", "type": "text", "label": "Code", "max_length": 20},
    ]
    view = {"key": "by_due", "form": FORM, "title": "By due date", "sort": [{"field": "due"}]}
    if columns:
        view["columns"] = list(columns)
    return parse_app_spec(
        {
            "format": "formwright-app",
            "spec_version": 1,
            "id": "bench",
            "version": 1,
            "title": "Benchmark",
            "forms": [{"key": FORM, "title": "Item", "fields": fields}],
            "views": [view],
        }
    )


TITLES = [f"Infusion pump model {i}" for i in range(1009)]
PLACES = [f"内科三病区 room {i}" for i in range(101)]
NOTES = [f"checked by technician {i}, all fine" for i in range(2003)]
PRICES = [Decimal(i * 137 % 100_000).scaleb(-2) for i in range(997)]
DAYS = [date(2015, 1, 1) + timedelta(days=i) for i in range(3653)]
MOMENTS = [datetime(2020, 1, 1, 8, 0) + timedelta(minutes=97 * i) for i in range(5003)]


def make_rows(count: int, start: int = 0) -> list[tuple]:
    """Canonical values (as the service takes them), dates not in id order."""
    return [
        (
            TITLES[i % 1009],
            PLACES[i % 101],
            NOTES[i % 2003],
            i % 1000,
            PRICES[i % 997],
            DAYS[i * 7919 % 3653],
            MOMENTS[i * 104_729 % 5003],
            i % 3 == 0,
            STATUSES[i * 7 // 3 % 5],
            f"EQ-{i:09d}",
        )
        for i in range(start, start + count)
    ]


def as_dicts(rows: list[tuple]) -> list[dict[str, Any]]:
    return [dict(zip(KEYS, row, strict=True)) for row in rows]


# -- raw baselines ----------------------------------------------------------------
COLUMNS = ", ".join(KEYS)


class RawStore:
    """A plain table with the same columns and (due, id) index, driven by raw SQL."""

    mark = "?"

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def native(self, row: tuple) -> tuple:
        return row

    def write(self, sql: str, params: Sequence[Any] | Sequence[Sequence[Any]], many=False):
        raise NotImplementedError

    def read(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        return self.connection.execute(sql, params).fetchall()

    def bulk_insert(self, rows: list[tuple]) -> None:
        marks = ", ".join([self.mark] * len(KEYS))
        self.write(f"INSERT INTO raw_item ({COLUMNS}) VALUES ({marks})", rows, many=True)

    def page(self, status: str, after: tuple | None) -> list[tuple]:
        m = self.mark
        if after is None:
            where, params = f"status = {m}", [status]
        else:
            where, params = f"status = {m} AND (due, id) > ({m}, {m})", [status, *after]
        sql = f"SELECT id, {COLUMNS} FROM raw_item WHERE {where} ORDER BY due, id LIMIT {PAGE}"
        return self.read(sql, params)

    def cursor_at(self, status: str, offset: int) -> tuple:
        sql = f"SELECT due, id FROM raw_item WHERE status = {self.mark} ORDER BY due, id"
        return tuple(self.read(f"{sql} LIMIT 1 OFFSET {offset}", [status])[0])

    def count(self, status: str | None) -> int:
        if status is None:
            return self.read("SELECT COUNT(*) FROM raw_item", [])[0][0]
        return self.read(f"SELECT COUNT(*) FROM raw_item WHERE status = {self.mark}", [status])[0][
            0
        ]

    def insert_one(self, row: tuple) -> int:
        raise NotImplementedError

    def update_one(self, record_id: int, title: str, version: int) -> None:
        m = self.mark
        sql = f"UPDATE raw_item SET title = {m}, version = version + 1 WHERE id = {m} AND version = {m}"
        self.write(sql, (title, record_id, version))


class RawSqlite(RawStore):
    """sqlite3 with the engine's pragmas (WAL, synchronous=FULL), explicit transactions."""

    DDL = (
        "CREATE TABLE raw_item (id INTEGER PRIMARY KEY, title VARCHAR(200), place VARCHAR(200), "
        "note VARCHAR(200), qty BIGINT, price BIGINT, due DATE, seen_at DATETIME, urgent BOOLEAN, "
        "status VARCHAR(100), code VARCHAR(20), version INTEGER NOT NULL DEFAULT 1)"
    )

    @classmethod
    def open(cls, path: Path) -> RawSqlite:
        connection = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL"):
            connection.execute(f"PRAGMA {pragma}")
        connection.execute(cls.DDL)
        connection.execute("CREATE INDEX ix_raw_item_due ON raw_item (due, id)")
        return cls(connection)

    def native(self, row: tuple) -> tuple:
        """What the engine stores on SQLite: ISO text dates, scaled-integer decimals."""
        title, place, note, qty, price, due, seen_at, urgent, status, code = row
        stamp = f"{seen_at:%Y-%m-%d %H:%M:%S}.000000"
        cents = int(price.scaleb(2))
        return (title, place, note, qty, cents, due.isoformat(), stamp, int(urgent), status, code)

    def write(self, sql, params, many=False) -> None:
        self.connection.execute("BEGIN IMMEDIATE")
        if many:
            self.connection.executemany(sql, params)
        else:
            self.connection.execute(sql, params)
        self.connection.execute("COMMIT")

    def insert_one(self, row: tuple) -> int:
        marks = ", ".join("?" * len(KEYS))
        self.write(f"INSERT INTO raw_item ({COLUMNS}) VALUES ({marks})", row)
        return self.connection.execute("SELECT last_insert_rowid()").fetchone()[0]

    def engine_cursor(self, raw: tuple) -> Cursor:
        return Cursor(date.fromisoformat(raw[0]), raw[1])

    def close(self) -> None:
        self.connection.close()


class RawPostgres(RawStore):
    """psycopg 3 in autocommit mode; writes in explicit transactions."""

    mark = "%s"
    DDL = (
        "CREATE TABLE raw_item (id BIGSERIAL PRIMARY KEY, title VARCHAR(200), "
        "place VARCHAR(200), note VARCHAR(200), qty BIGINT, price NUMERIC(18, 2), due DATE, "
        "seen_at TIMESTAMP WITHOUT TIME ZONE, urgent BOOLEAN, status VARCHAR(100), "
        "code VARCHAR(20), version INTEGER NOT NULL DEFAULT 1)"
    )

    @classmethod
    def open(cls, url: str) -> RawPostgres:
        import psycopg

        connection = psycopg.connect(common.libpq_url(url), autocommit=True)
        connection.execute(cls.DDL)
        connection.execute("CREATE INDEX ix_raw_item_due ON raw_item (due, id)")
        return cls(connection)

    def write(self, sql, params, many=False) -> None:
        with self.connection.transaction(), self.connection.cursor() as cursor:
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params)

    def insert_one(self, row: tuple) -> int:
        marks = ", ".join(["%s"] * len(KEYS))
        sql = f"INSERT INTO raw_item ({COLUMNS}) VALUES ({marks}) RETURNING id"
        with self.connection.transaction():
            return self.connection.execute(sql, row).fetchone()[0]

    def engine_cursor(self, raw: tuple) -> Cursor:
        return Cursor(raw[0], raw[1])

    def close(self) -> None:
        self.connection.close()


# -- one engine under test ----------------------------------------------------------
@dataclass
class Subject:
    engine: str  # "sqlite" or "postgresql"
    service: RecordService
    raw: Any  # RawSqlite | RawPostgres
    rows: int
    runs: int
    ops: int

    def has_targets(self) -> bool:
        return self.engine == "sqlite"


@contextmanager
def subject(engine: str, rows: int, runs: int, ops: int) -> Iterator[Subject]:
    spec = app_spec()
    if engine == "sqlite":
        with common.temp_folder() as folder:
            raw = RawSqlite.open(folder / "raw.sqlite")
            url = f"sqlite:///{folder / 'workspace.sqlite'}"
            with common.installed_app(url, spec) as service:
                yield Subject(engine, service, raw, rows, runs, ops)
            raw.close()
    else:
        with common.fresh_postgres_database() as url:
            raw = RawPostgres.open(url)
            with common.installed_app(url, spec) as service:
                yield Subject(engine, service, raw, rows, runs, ops)
            raw.close()


def bench_bulk(s: Subject) -> list[Result]:
    """1. bulk_create (validation included) vs raw executemany, one transaction each."""
    canonical = make_rows(s.rows)
    native = [s.raw.native(row) for row in canonical]
    seconds, raw_seconds = time_bulk(s, native, as_dicts(canonical))
    gc.collect()
    analyze(s)
    rate = f"{s.rows / seconds:,.0f} rows/s vs {s.rows / raw_seconds:,.0f}"
    target, passed = target_ratio(s, seconds / raw_seconds, 3.0)
    name = f"bulk insert {s.rows:,}"
    return [Result(name, s.engine, seconds, raw_seconds, "s", target, passed, rate)]


def time_bulk(s: Subject, native: list[tuple], dicts: list[dict]) -> tuple[float, float]:
    """Seconds of the engine's and of the raw bulk insert (raw first)."""
    gc.collect()
    gc.freeze()  # the prepared data is not the engine's garbage to collect
    try:
        raw_seconds, _ = timed(lambda: s.raw.bulk_insert(native))
        work = lambda: s.service.bulk_create(FORM, dicts)  # noqa: E731
        seconds, count = timed(lambda: profiled(f"{s.engine}-bulk", work))
    finally:
        gc.unfreeze()
    assert count == s.rows, count
    return seconds, raw_seconds


def analyze(s: Subject) -> None:
    """PostgreSQL: statistics for both tables (autovacuum would do it within a minute)."""
    if s.engine != "postgresql":
        return
    table = s.service.repository.form_tables(FORM).table.name
    s.raw.connection.execute(f'ANALYZE raw_item, "{table}"')


def target_ratio(s: Subject, ratio: float, limit: float) -> tuple[str, bool | None]:
    if not s.has_targets():
        return "report only", None
    return f"≤ {limit:g}× raw", ratio <= limit


def bench_pages(s: Subject) -> list[Result]:
    """2. Keyset pages of 100, filtered on the select and sorted by the indexed date."""
    matching = s.raw.count(FILTER_STATUS)
    positions = {
        "first": None,
        "middle": s.raw.cursor_at(FILTER_STATUS, matching // 2),
        "last": s.raw.cursor_at(FILTER_STATUS, matching - PAGE - 1),
    }
    return [page_result(s, name, raw) for name, raw in positions.items()]


def page_result(s: Subject, position: str, raw_cursor: tuple | None) -> Result:
    query = RecordQuery(filter=Condition("status", "eq", FILTER_STATUS), sort=Sort("due"))
    after = None if raw_cursor is None else s.raw.engine_cursor(raw_cursor)

    def engine_page():
        return s.service.page(FORM, query, after=after, limit=PAGE)

    def raw_page():
        return s.raw.page(FILTER_STATUS, raw_cursor)

    same = [r.id for r in engine_page().records] == [row[0] for row in raw_page()]
    assert same, f"engine and raw pages differ at {position}"
    label = f"{s.engine}-page-{position}"
    engine_runs, raw_runs = paired(lambda: profiled(label, engine_page), raw_page, s.runs)
    seconds, raw_seconds = median(engine_runs), median(raw_runs)
    target, passed = "report only", None
    if s.has_targets():
        target = "≤ 2× raw and < 5 ms"
        passed = seconds <= 2 * raw_seconds and seconds < 0.005
    note = f"median of {s.runs}"
    return Result(
        f"page {position} (filter+sort)", s.engine, seconds, raw_seconds, "ms", target, passed, note
    )


def bench_counts(s: Subject) -> list[Result]:
    """4. COUNT of every record and of the filtered set (no target)."""
    results = []
    for name, status in (("count all", None), ("count filtered", FILTER_STATUS)):
        flt = None if status is None else Condition("status", "eq", status)
        query = RecordQuery(filter=flt)
        engine_count = s.service.count(FORM, query)
        assert engine_count == s.raw.count(status), (engine_count, s.raw.count(status))
        runs = max(3, min(s.runs, 5_000_000 // max(s.rows, 1)))
        label = f"{s.engine}-{name.replace(' ', '-')}"
        engine_runs, raw_runs = paired(
            lambda q=query, lb=label: profiled(lb, lambda: s.service.count(FORM, q)),
            lambda st=status: s.raw.count(st),
            runs,
            warmup=1,
        )
        seconds, raw_seconds = median(engine_runs), median(raw_runs)
        note = f"{engine_count:,} rows, median of {runs}"
        results.append(Result(name, s.engine, seconds, raw_seconds, "ms", note=note))
    return results


def bench_single(s: Subject) -> list[Result]:
    """3. One record at a time: create, then update (validation, audit, version check).

    Engine and raw operations alternate one by one, so load from elsewhere hits both.
    """
    dicts = as_dicts(make_rows(s.ops, start=s.rows))
    native = [s.raw.native(row) for row in make_rows(s.ops, start=s.rows)]
    records, ids, created, raw_created = [], [], [], []
    for values, row in zip(dicts, native, strict=True):
        seconds, record = timed(
            lambda v=values: profiled(f"{s.engine}-create", lambda: create(s, v))
        )
        records.append(record)
        created.append(seconds)
        seconds, record_id = timed(lambda r=row: s.raw.insert_one(r))
        ids.append(record_id)
        raw_created.append(seconds)
    updated, raw_updated = [], []
    for record, record_id in zip(records, ids, strict=True):
        updated.append(
            timed(lambda r=record: profiled(f"{s.engine}-update", lambda: update(s, r)))[0]
        )
        raw_updated.append(timed(lambda i=record_id: s.raw.update_one(i, f"changed {i}", 1))[0])
    return [
        single_result(s, "create one record", created, raw_created),
        single_result(s, "update one record", updated, raw_updated),
    ]


def create(s: Subject, values: dict[str, Any]) -> Any:
    return s.service.create(FORM, values)


def update(s: Subject, record: Any) -> Any:
    return s.service.update(FORM, record.id, {"title": f"changed {record.id}"}, record.version)


def single_result(s: Subject, name: str, engine: list[float], raw: list[float]) -> Result:
    """Mean time per operation (so commit stalls count), rate = operations / total time."""
    seconds, raw_seconds = sum(engine) / len(engine), sum(raw) / len(raw)
    note = f"{1 / seconds:,.0f}/s vs raw {1 / raw_seconds:,.0f}/s; median {median(engine) * 1e3:.2f} ms"
    target, passed = "report only", None
    if s.has_targets():
        target, passed = "≥ 1,000/s", 1 / seconds >= 1000
    return Result(name, s.engine, seconds, raw_seconds, "ms", target, passed, note)


BENCHMARKS: tuple[Callable[[Subject], list[Result]], ...] = (
    bench_bulk,
    bench_pages,
    bench_counts,
    bench_single,
)


def run_engine(engine: str, rows: int, runs: int, ops: int) -> list[Result]:
    results: list[Result] = []
    with subject(engine, rows, runs, ops) as s:
        for bench in BENCHMARKS:
            print(f"[{engine}] {bench.__doc__.splitlines()[0]}", file=sys.stderr, flush=True)
            results += bench(s)
    meta = {"engine": engine, "rows": rows, "runs": runs, "ops": ops}
    suffix = "-profiled" if common.PROFILE_TO else ""  # profiled times are not results
    path = common.write_json(f"store-{engine}{suffix}", meta, results)
    print(f"\n{engine}, {rows:,} rows (JSON: {path})\n{common.table(results)}\n", flush=True)
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="10,000 rows (smoke run)")
    parser.add_argument("--runs", type=int, default=200, help="timed runs per page benchmark")
    parser.add_argument("--ops", type=int, default=2000, help="single creates and updates")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile engine work to results/profile-*.txt"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rows = 10_000
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile:
        common.PROFILE_TO = common.RESULTS
        print("--profile: engine times include cProfile overhead", file=sys.stderr)
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    results: list[Result] = []
    for engine in engines:
        results += run_engine(engine, args.rows, args.runs, args.ops)
    if args.profile:
        common.write_profiles()
    print(f"All engines, {args.rows:,} rows\n{common.table(results)}")
    return 1 if any(r.passed is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
