"""Write scaling on a shared PostgreSQL: writer processes through the service path
beside raw psycopg writers, with the server's lock waits sampled while they run.

    .venv/bin/python bench/bench_pg_writers.py --quick          # smoke run: 1 and 2 writers, 2 s
    .venv/bin/python bench/bench_pg_writers.py                  # 1, 2, 4, 8, 16 writers, 10 s (~4 min)
    .venv/bin/python bench/bench_pg_writers.py --rounds 3       # the sweep 3 times, median rates (~12 min)
    .venv/bin/python bench/bench_pg_writers.py --writers 1,8 --seconds 20

For each number of writers, that many processes start together and write for the
same window: the *service* writers through ``RecordService.create`` and ``update``
(a create, then an update of the record just created, each its own transaction),
the *raw* writers with psycopg (per transaction the same record INSERT or UPDATE
plus one INSERT into an audit-like table: no chain, no lock). While the service
writers run, ``pg_stat_activity`` of the database is sampled every 100 ms: how many
backends are active and how many of them wait on a lock. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import _common as common
from _common import Result

from runtime.spec import parse_app_spec
from runtime.spec.models import AppSpec

APP_ID = "writers"
FORM = "entry"
STATUSES = ("new", "open", "waiting", "closed")
SPAWN = multiprocessing.get_context("spawn")
#: Time for every writer process to start, import and connect before the window.
STARTUP_TIMEOUT = 180.0
#: The window opens this long after the last writer is ready (all see the same start).
START_DELAY = 0.3
#: The targets of issue #13, checked at this many service writers.
TARGET_WRITERS = 8
MAX_LOCK_SHARE = 0.10
MIN_SCALING = 1.8


# -- the app and its values -------------------------------------------------------------
def app_spec() -> AppSpec:
    """One form of 6 plain fields: no serial, no unique, no reference, so that a
    write measures the write path itself."""
    options = [{"value": s, "label": s.title()} for s in STATUSES]
    fields = [
        {"key": "title", "type": "text", "label": "Title"},
        {"key": "qty", "type": "number", "label": "Quantity", "decimals": 0},
        {"key": "due", "type": "date", "label": "Due"},
        {"key": "status", "type": "select", "label": "Status", "options": options},
        {"key": "urgent", "type": "checkbox", "label": "Urgent"},
        {"key": "note", "type": "text", "label": "Note"},
    ]
    return parse_app_spec(
        {
            "format": "formwright-app",
            "spec_version": 1,
            "id": APP_ID,
            "version": 1,
            "title": "Writers",
            "forms": [{"key": FORM, "title": "Entry", "fields": fields}],
        }
    )


def new_values(n: int) -> dict[str, Any]:
    """The canonical values of the ``n``-th record (as the service takes them)."""
    return {
        "title": f"Night round, bed {n % 997}",
        "qty": n % 1000,
        "due": date(2024, 1, 1) + timedelta(days=n % 3650),
        "status": STATUSES[n % len(STATUSES)],
        "urgent": n % 3 == 0,
        "note": f"checked by nurse {n % 211}, all fine",
    }


def changed_values(n: int) -> dict[str, Any]:
    """What an update changes: two of the six fields."""
    return {"title": f"Night round, bed {n % 997} (rechecked)", "qty": n % 1000 + 1}


# -- raw baseline: the same columns, an audit-like table, plain SQL -------------------------
RAW_DDL = (
    "CREATE TABLE raw_entry (id BIGSERIAL PRIMARY KEY, created_at TIMESTAMP NOT NULL, "
    "updated_at TIMESTAMP NOT NULL, version INTEGER NOT NULL DEFAULT 1, title VARCHAR(200), "
    "qty BIGINT, due DATE, status VARCHAR(100), urgent BOOLEAN, note VARCHAR(200))",
    # Like fw_audit, with its indexes, but no hash chain and no lock.
    "CREATE TABLE raw_audit (id BIGSERIAL PRIMARY KEY, at TIMESTAMP NOT NULL, "
    "username VARCHAR(64), workstation VARCHAR(200), action VARCHAR(32) NOT NULL, "
    "app_id VARCHAR(40), form VARCHAR(40), record_id BIGINT, details TEXT)",
    "CREATE INDEX ix_raw_audit_record ON raw_audit (app_id, form, record_id)",
    "CREATE INDEX ix_raw_audit_at ON raw_audit (at)",
    "CREATE INDEX ix_raw_audit_username ON raw_audit (username)",
    "CREATE INDEX ix_raw_audit_action ON raw_audit (action)",
)
RAW_KEYS = ("title", "qty", "due", "status", "urgent", "note")
RAW_INSERT = (
    f"INSERT INTO raw_entry (created_at, updated_at, {', '.join(RAW_KEYS)}) "
    f"VALUES (%s, %s, {', '.join(['%s'] * len(RAW_KEYS))}) RETURNING id"
)
RAW_UPDATE = (
    "UPDATE raw_entry SET title = %s, qty = %s, updated_at = %s, version = version + 1 "
    "WHERE id = %s AND version = %s"
)
RAW_AUDIT = (
    "INSERT INTO raw_audit (at, username, workstation, action, app_id, form, record_id, details) "
    "VALUES (%s, 'bench', %s, %s, %s, %s, %s, %s)"
)
WORKSTATION = socket.gethostname()[:200]


def create_raw_tables(url: str, seed_records: int) -> None:
    import psycopg

    with psycopg.connect(common.libpq_url(url), autocommit=True) as connection:
        for statement in RAW_DDL:
            connection.execute(statement)
        now = datetime.now()
        rows = [(now, now, *new_values(n).values()) for n in range(seed_records)]
        with connection.transaction(), connection.cursor() as cursor:
            cursor.executemany(RAW_INSERT.replace(" RETURNING id", ""), rows)


# -- one writer process ---------------------------------------------------------------------
class ServiceWriter:
    """Creates a record, then updates it, alternately, through RecordService."""

    def __init__(self, url: str, index: int) -> None:
        from runtime.services.records.service import RecordService
        from runtime.store.workspace import Workspace

        self.workspace = Workspace.open(url)
        self.service = RecordService(self.workspace, self.workspace.installed_spec(APP_ID))
        self.n = index * 10_000_000
        self.last: Any = None  # the record created by the previous step

    def step(self) -> None:
        self.n += 1
        if self.last is None:
            self.last = self.service.create(FORM, new_values(self.n))
        else:
            record, self.last = self.last, None
            self.service.update(FORM, record.id, changed_values(self.n), record.version)

    def close(self) -> None:
        self.workspace.dispose()


class RawWriter:
    """The same alternation in plain psycopg: a record row and an audit row per
    transaction, no hash chain, no lock."""

    def __init__(self, url: str, index: int) -> None:
        import psycopg

        self.connection = psycopg.connect(common.libpq_url(url), autocommit=True)
        self.n = index * 10_000_000
        self.last: int | None = None  # the id created by the previous step

    def step(self) -> None:
        self.n += 1
        now = datetime.now()
        with self.connection.transaction():
            if self.last is None:
                values = new_values(self.n)
                row = (now, now, *values.values())
                record_id = self.connection.execute(RAW_INSERT, row).fetchone()[0]
                self.audit(now, "create", record_id, values)
                self.last = record_id
            else:
                record_id, self.last = self.last, None
                values = changed_values(self.n)
                update = (values["title"], values["qty"], now, record_id, 1)
                self.connection.execute(RAW_UPDATE, update)
                self.audit(now, "update", record_id, values)

    def audit(self, now: datetime, action: str, record_id: int, values: dict) -> None:
        details = json.dumps(values, ensure_ascii=False, default=str)
        row = (now, WORKSTATION, action, APP_ID, FORM, record_id, details)
        self.connection.execute(RAW_AUDIT, row)

    def close(self) -> None:
        self.connection.close()


WRITERS: dict[str, Callable[[str, int], ServiceWriter | RawWriter]] = {
    "service": ServiceWriter,
    "raw": RawWriter,
}


@dataclass
class WriterReport:
    """What one writer process did in the window."""

    index: int
    ops: int = 0
    error: str = ""


def writer_process(kind, url, index, seconds, ready, go, start_at, reports) -> None:
    """One writer: connect and warm up, wait for the common start, then write until
    the window closes; reports the operations completed inside the window."""
    report = WriterReport(index)
    try:
        writer = WRITERS[kind](url, index)
        writer.step()  # warm-up: the first create builds the tables and statements
        writer.step()
    except Exception:
        ready.abort()  # the run cannot start: release the others at once
        reports.put(WriterReport(index, error=traceback.format_exc()))
        return
    try:
        ready.wait(timeout=STARTUP_TIMEOUT)
        go.wait(timeout=STARTUP_TIMEOUT)
        start = start_at.value
        end = start + seconds
        time.sleep(max(0.0, start - time.time()))
        while True:
            writer.step()
            if time.time() > end:  # finished after the window closed: not counted
                break
            report.ops += 1
    except Exception:
        report.error = traceback.format_exc()
    finally:
        writer.close()
        reports.put(report)


# -- the sampler --------------------------------------------------------------------------
ACTIVITY = (
    "SELECT wait_event_type, wait_event FROM pg_stat_activity "
    "WHERE datname = current_database() AND backend_type = 'client backend' "
    "AND state = 'active' AND pid <> pg_backend_pid()"
)


@dataclass
class Activity:
    """What the samples of pg_stat_activity saw: active backends and their waits."""

    samples: int = 0
    active: int = 0  # active backends summed over the samples
    waiting_on_lock: int = 0  # of those, waiting with wait_event_type = 'Lock'
    events: Counter[str] = field(default_factory=Counter)  # "Lock:advisory", "running", …

    def add(self, rows: Sequence[tuple[str | None, str | None]]) -> None:
        self.samples += 1
        self.active += len(rows)
        for kind, event in rows:
            self.waiting_on_lock += kind == "Lock"
            self.events["running" if kind is None else f"{kind}:{event}"] += 1

    @classmethod
    def pooled(cls, parts: Sequence[Activity]) -> Activity:
        """The samples of several runs taken together."""
        events: Counter[str] = Counter()
        for part in parts:
            events.update(part.events)
        return cls(
            sum(p.samples for p in parts),
            sum(p.active for p in parts),
            sum(p.waiting_on_lock for p in parts),
            events,
        )

    @property
    def lock_share(self) -> float:
        return self.waiting_on_lock / self.active if self.active else 0.0

    def top_events(self, count: int = 3) -> str:
        return ", ".join(
            f"{name} {n / self.active:.0%}" for name, n in self.events.most_common(count)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "active": self.active,
            "waiting_on_lock": self.waiting_on_lock,
            "lock_share": round(self.lock_share, 4),
            "events": dict(self.events.most_common()),
        }


class ActivitySampler(threading.Thread):
    """Samples the database's active backends every ``interval`` s within a window."""

    def __init__(self, url: str, start: float, end: float, interval: float) -> None:
        import psycopg

        super().__init__(daemon=True)
        self.connection = psycopg.connect(common.libpq_url(url), autocommit=True)
        self.start_time, self.end_time, self.interval = start, end, interval
        self.activity = Activity()

    def run(self) -> None:
        tick = self.start_time
        try:
            while tick < self.end_time:
                time.sleep(max(0.0, tick - time.time()))
                self.activity.add(self.connection.execute(ACTIVITY).fetchall())
                tick += self.interval
        finally:
            self.connection.close()


# -- one run: N writers of one kind ----------------------------------------------------------
@dataclass
class Run:
    kind: str
    writers: int
    seconds: float
    ops: list[int]  # per writer
    activity: Activity
    errors: list[str]

    @property
    def rate(self) -> float:
        return sum(self.ops) / self.seconds


def run_writers(kind: str, url: str, writers: int, seconds: float, interval: float) -> Run:
    """Start ``writers`` processes of ``kind``, open the window when all are ready,
    sample the server meanwhile, and gather their counts."""
    ready, go = SPAWN.Barrier(writers + 1), SPAWN.Event()
    start_at, reports = SPAWN.Value("d", 0.0), SPAWN.Queue()
    processes = [
        SPAWN.Process(
            target=writer_process,
            args=(kind, url, index, seconds, ready, go, start_at, reports),
            daemon=True,
        )
        for index in range(writers)
    ]
    for process in processes:
        process.start()
    try:
        return _window(kind, url, writers, seconds, interval, ready, go, start_at, reports)
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()


def _window(kind, url, writers, seconds, interval, ready, go, start_at, reports) -> Run:
    try:
        ready.wait(timeout=STARTUP_TIMEOUT)
    except threading.BrokenBarrierError:
        errors = [r.error for r in _gather(reports, writers, 10) if r.error]
        raise RuntimeError(f"{kind} writers failed to start:\n" + "\n".join(errors)) from None
    start = time.time() + START_DELAY
    start_at.value = start
    sampler = ActivitySampler(url, start, start + seconds, interval)
    sampler.start()
    go.set()
    gathered = _gather(reports, writers, seconds + STARTUP_TIMEOUT)
    sampler.join()
    errors = [r.error for r in gathered if r.error]
    errors += ["a writer did not report"] * (writers - len(gathered))
    ops = [r.ops for r in sorted(gathered, key=lambda r: r.index)]
    return Run(kind, writers, seconds, ops, sampler.activity, errors)


def _gather(reports, count: int, timeout: float) -> list[WriterReport]:
    gathered = []
    deadline = time.time() + timeout
    for _ in range(count):
        try:
            gathered.append(reports.get(timeout=max(0.1, deadline - time.time())))
        except Exception:  # queue.Empty: a writer died without reporting
            break
    return gathered


# -- the whole measurement ---------------------------------------------------------------------
@dataclass
class Runs:
    """The runs of one kind at one writer count, one per round: the median rate,
    the samples of all rounds pooled."""

    runs: list[Run] = field(default_factory=list)

    @property
    def rates(self) -> list[float]:
        return [run.rate for run in self.runs]

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def activity(self) -> Activity:
        return Activity.pooled([run.activity for run in self.runs])

    @property
    def errors(self) -> list[str]:
        return [error for run in self.runs for error in run.errors]


@dataclass
class Row:
    """One writer count: its service runs and its raw runs."""

    writers: int
    service: Runs = field(default_factory=Runs)
    raw: Runs = field(default_factory=Runs)


@dataclass
class Measurement:
    seconds: float
    rounds: int
    seed_records: int
    load_before: tuple[float, ...]  # the machine's load averages (1, 5, 15 min)
    rows: list[Row]
    audit_ok: bool
    audit_text: str
    audit_seconds: float

    def row(self, writers: int) -> Row | None:
        return next((r for r in self.rows if r.writers == writers), None)

    def scaling(self, row: Row, kind: str) -> float | None:
        one = self.row(1)
        if one is None:
            return None
        base = getattr(one, kind).rate
        return getattr(row, kind).rate / base if base else None

    @property
    def errors(self) -> list[str]:
        return [e for r in self.rows for e in r.service.errors + r.raw.errors]


def measure(
    url: str,
    writer_counts: Sequence[int],
    seconds: float,
    seed_records: int = 2000,
    rounds: int = 1,
    interval: float = 0.1,
    progress: Callable[[str], None] = lambda _text: None,
) -> Measurement:
    """The whole benchmark on the empty PostgreSQL database ``url``: install and seed,
    run every writer count ``rounds`` times (service and raw alternately first), then
    verify the audit."""
    load_before = tuple(round(value, 2) for value in os.getloadavg())
    with common.installed_app(url, app_spec()) as service:
        service.bulk_create(FORM, (new_values(n) for n in range(seed_records)))
    create_raw_tables(url, seed_records)
    rows = [Row(writers) for writers in writer_counts]
    for round_ in range(rounds):
        for position, row in enumerate(rows):
            kinds = ("service", "raw") if (round_ + position) % 2 == 0 else ("raw", "service")
            for kind in kinds:
                progress(
                    f"round {round_ + 1}/{rounds}: {row.writers} {kind} writer(s), {seconds:g} s"
                )
                run = run_writers(kind, url, row.writers, seconds, interval)
                getattr(row, kind).runs.append(run)
    progress("audit verify")
    audit_seconds, (ok, text) = common.timed(lambda: verify_audit(url))
    return Measurement(seconds, rounds, seed_records, load_before, rows, ok, text, audit_seconds)


def verify_audit(url: str) -> tuple[bool, str]:
    """What ``formwright audit verify --db URL`` checks (chain, signatures, records
    against their seals): whether it holds, and a line saying so."""
    from runtime.api import open_workspace

    with open_workspace(url) as workspace:
        report = workspace.verify_audit()
    if report.ok:
        return True, f"intact: {report.rows:,} rows, records match their audit"
    where = f" at row {report.broken_id}" if report.broken_id is not None else ""
    return False, f"NOT intact{where}: {report.reason}"


# -- output -------------------------------------------------------------------------------------
HEADER = (
    "writers",
    "service ops/s",
    "raw ops/s",
    "service ÷ raw",
    "service scaling",
    "raw scaling",
    "active backends (mean)",
    "of them waiting on a lock",
    "top wait events (service)",
)


def table(m: Measurement) -> str:
    """The Markdown table of the measurement."""
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
    ]
    for row in m.rows:
        activity = row.service.activity
        mean_active = activity.active / activity.samples if activity.samples else 0.0
        cells = (
            str(row.writers),
            f"{row.service.rate:,.0f}",
            f"{row.raw.rate:,.0f}",
            f"{row.service.rate / row.raw.rate:.2f}" if row.raw.rate else "-",
            _times(m.scaling(row, "service")),
            _times(m.scaling(row, "raw")),
            f"{mean_active:.1f}",
            f"{activity.lock_share:.0%}",
            activity.top_events(),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}×"


@dataclass
class Target:
    name: str
    measured: str
    passed: bool | None  # None: not measured (needs 1 and 8 writers)

    @property
    def verdict(self) -> str:
        return "not measured" if self.passed is None else ("PASS" if self.passed else "FAIL")


def targets(m: Measurement) -> list[Target]:
    """Issue #13's two targets, at 8 service writers."""
    row = m.row(TARGET_WRITERS)
    lock_name = (
        f"< {MAX_LOCK_SHARE:.0%} of active backends wait on a lock at {TARGET_WRITERS} writers"
    )
    scaling_name = f"{TARGET_WRITERS}-writer throughput ≥ {MIN_SCALING}× 1-writer"
    if row is None:
        return [Target(lock_name, "-", None), Target(scaling_name, "-", None)]
    share = row.service.activity.lock_share
    scaling = m.scaling(row, "service")
    return [
        Target(lock_name, f"{share:.1%}", share < MAX_LOCK_SHARE),
        Target(scaling_name, _times(scaling), None if scaling is None else scaling >= MIN_SCALING),
    ]


def results(m: Measurement) -> list[Result]:
    """The rows as the benches' common Result (seconds per operation, service vs raw)."""
    out = []
    for row in m.rows:
        per_op = [1 / r.rate if r.rate else float("inf") for r in (row.service, row.raw)]
        note = (
            f"{row.service.rate:,.0f} vs raw {row.raw.rate:,.0f} ops/s; "
            f"{row.service.activity.lock_share:.0%} of active backends wait on a lock"
        )
        out.append(
            Result(f"{row.writers} writers", "postgresql", per_op[0], per_op[1], "ms", note=note)
        )
    return out


def as_json(m: Measurement) -> dict[str, Any]:
    def runs_json(runs: Runs) -> dict[str, Any]:
        return {
            "ops_per_s": round(runs.rate, 1),  # the median of the rounds
            "ops_per_s_by_round": [round(rate, 1) for rate in runs.rates],
            "ops_per_writer_by_round": [run.ops for run in runs.runs],
            "activity": runs.activity.as_json(),
            "errors": runs.errors,
        }

    return {
        "seconds": m.seconds,
        "rounds": m.rounds,
        "seed_records": m.seed_records,
        "load_average_before": m.load_before,
        "writers": [
            {"writers": r.writers, "service": runs_json(r.service), "raw": runs_json(r.raw)}
            for r in m.rows
        ],
        "targets": [{**asdict(t), "result": t.verdict} for t in targets(m)],
        "audit_verify": {"ok": m.audit_ok, "text": m.audit_text, "seconds": m.audit_seconds},
    }


def report(m: Measurement) -> str:
    rates = "ops/s: one run" if m.rounds == 1 else f"ops/s: median of {m.rounds} rounds"
    load = " / ".join(f"{value:.1f}" for value in m.load_before)
    lines = [
        f"Writers on a shared PostgreSQL: {m.seconds:g} s per run, {rates}, "
        f"{m.seed_records:,} records seeded",
        f"Machine: {os.cpu_count()} cores, load average before the run {load} (1/5/15 min); "
        "other work on the machine lowers every rate",
        "",
        table(m),
        "",
        "Targets (issue #13):",
    ]
    lines += [f"  {t.verdict:<12} {t.name}: {t.measured}" for t in targets(m)]
    lines.append(f"audit verify: {m.audit_text} ({m.audit_seconds:.1f} s)")
    for error in m.errors:
        lines.append(f"WRITER ERROR:\n{error}")
    return "\n".join(lines)


# -- command line ---------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="1,2,4,8,16", help="comma-separated writer counts")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--seed-records", type=int, default=2000)
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat the sweep; rates are the medians"
    )
    parser.add_argument("--interval", type=float, default=0.1, help="sampling interval, s")
    parser.add_argument("--quick", action="store_true", help="1 and 2 writers, 2 s (smoke run)")
    args = parser.parse_args(argv)
    args.writers = [int(part) for part in args.writers.split(",") if part.strip()]
    if args.quick:
        args.writers, args.seconds = [1, 2], 2.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    say = lambda text: print(f"[pg-writers] {text}", file=sys.stderr, flush=True)  # noqa: E731
    with common.fresh_postgres_database() as url:
        m = measure(
            url, args.writers, args.seconds, args.seed_records, args.rounds, args.interval, say
        )
    path = common.write_json("pg-writers", as_json(m), results(m))
    print(f"{report(m)}\n(JSON: {path})")
    return 0  # a benchmark: the verdicts are printed, not the exit status


if __name__ == "__main__":
    sys.exit(main())
