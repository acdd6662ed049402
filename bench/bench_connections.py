"""Connection handling on PostgreSQL: what a save and a page cost with each engine setup.

    .venv/bin/python bench/bench_connections.py               # 1,000 creates and pages each
    .venv/bin/python bench/bench_connections.py --ops 300

Runs, in one process on one database, the same single-record creates, first
pages of 100 (filter ``status = 'open'``, sort ``due``, as bench_store.py) and bare
read transactions (``SELECT 1``) through ``RecordService`` on engines set up as:

- ``pre-ping``: as before issue #13 (``pool_pre_ping=True``: a round trip per checkout),
- ``local check``: ``runtime.store.engine.create_engine`` (a zero-timeout ``select``
  on the socket when a connection leaves the pool; server settings in the startup packet),
- ``pgbouncer=true``: the same URL setting for a server behind PgBouncer, here
  against the server itself (``SET LOCAL`` of the settings in each transaction that
  may write; no server-side prepared statements),

beside raw psycopg (one INSERT per transaction; the same page query; ``SELECT 1``
in autocommit). Engines take
turns in rounds of 50 operations, so load from elsewhere hits them alike.

Times on a shared machine vary; the round trips per operation do not: they are
counted from libpq's protocol trace (one ``ReadyForQuery`` ends each exchange) over
20 more operations of each kind on a fresh engine of each setup. (Every ~10th create
does more — the audit's periodic work — hence fractions.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import _common as common
import sqlalchemy as sa
from bench_store import FILTER_STATUS, FORM, RawPostgres, app_spec, as_dicts, make_rows
from psycopg import pq

from runtime.services.records.service import RecordService
from runtime.store.engine import create_engine
from runtime.store.query import Condition, RecordQuery, Sort
from runtime.store.workspace import Workspace

ROUND = 50
KINDS = ("create one record", "first page", "SELECT 1 in a transaction")
ROWS = 20_000
TRACED = 20


SETUPS: dict[str, Callable[[str], sa.Engine]] = {
    "pre-ping": lambda url: sa.create_engine(url, pool_pre_ping=True),
    "local check": create_engine,
    "pgbouncer=true": lambda url: create_engine(f"{url}?pgbouncer=true"),
}


class ProtocolTrace:
    """libpq's trace of every connection an engine checks out while ``on``."""

    def __init__(self, engine: sa.Engine) -> None:
        handle, self.path = tempfile.mkstemp(prefix="fw_bench_trace_")
        self.file = os.fdopen(handle, "w")
        self.traced: list[Any] = []
        self.on = False
        sa.event.listen(engine, "checkout", self._trace)

    def _trace(self, dbapi_connection, _record, _proxy) -> None:
        if self.on and dbapi_connection not in self.traced:
            dbapi_connection.pgconn.trace(self.file.fileno())
            dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            self.traced.append(dbapi_connection)

    def round_trips(self) -> int:
        """Exchanges so far (each ends with the server's ReadyForQuery)."""
        for connection in self.traced:
            connection.pgconn.untrace()  # flushes its part of the file
        self.traced.clear()
        with open(self.path, encoding="utf-8", errors="replace") as text:
            return sum(1 for line in text if "\tReadyForQuery" in line)

    def close(self) -> None:
        self.file.close()
        os.unlink(self.path)


def operations(service: RecordService, rows: Iterator[dict], query: RecordQuery) -> list:
    """One create, one first page, one ``SELECT 1`` on a reader (the bare cost of a
    transaction: checkout, BEGIN, the statement, ROLLBACK, return)."""

    def select_one() -> None:
        with service.workspace.reader() as connection:
            connection.exec_driver_sql("SELECT 1")

    return [
        lambda: service.create(FORM, next(rows)),
        lambda: service.page(FORM, query, limit=100),
        select_one,
    ]


def round_trips_per_operation(url: str, spec, rows, query) -> dict[str, list[float]]:
    """Round trips per operation of each kind (see :func:`operations`), per setup."""
    counted = {}
    for name, make in SETUPS.items():
        engine = make(url)
        service = RecordService(Workspace(engine), spec)
        service.create(FORM, next(rows))  # the dialect's first-connect queries: not counted
        trace = ProtocolTrace(engine)
        counted[name] = []
        for work in operations(service, rows, query):
            trace.on = True
            work()  # traces the connection from its next checkout: a pre-ping comes first
            before = trace.round_trips()
            for _ in range(TRACED):
                work()
            counted[name].append((trace.round_trips() - before) / TRACED)
            trace.on = False
        trace.close()
        engine.dispose()
    return counted


def timed_each(work: Callable[[], Any], count: int) -> list[float]:
    return [common.timed(work)[0] for _ in range(count)]


def run(url: str, ops: int) -> list[common.Result]:
    spec = app_spec()
    setup = Workspace.open(url)
    setup.install(spec)
    RecordService(setup, spec).bulk_create(FORM, as_dicts(make_rows(ROWS)))
    setup.dispose()
    raw = RawPostgres.open(url)
    raw.bulk_insert([raw.native(row) for row in make_rows(ROWS)])
    raw.connection.execute("ANALYZE")
    services = {name: RecordService(Workspace(make(url)), spec) for name, make in SETUPS.items()}
    rows = iter(as_dicts(make_rows((ops + 2 * TRACED + 3) * len(services), start=ROWS)))
    raw_rows = iter([raw.native(row) for row in make_rows(ops, start=ROWS)])
    query = RecordQuery(filter=Condition("status", "eq", FILTER_STATUS), sort=Sort("due"))
    raw_operations = [
        lambda: raw.insert_one(next(raw_rows)),
        lambda: raw.page(FILTER_STATUS, None),
        lambda: raw.connection.execute("SELECT 1").fetchall(),
    ]
    seconds: list[dict[str, list[float]]] = [{} for _ in KINDS]
    for _ in range(ops // ROUND):
        for name, service in services.items():
            for kind, work in enumerate(operations(service, rows, query)):
                seconds[kind].setdefault(name, []).extend(timed_each(work, ROUND))
        for kind, work in enumerate(raw_operations):
            seconds[kind].setdefault("raw", []).extend(timed_each(work, ROUND))
    for service in services.values():
        service.workspace.dispose()
    raw.close()
    trips = round_trips_per_operation(url, spec, rows, query)
    return [
        result
        for kind, name in enumerate(KINDS)
        for result in results(name, seconds[kind], {k: v[kind] for k, v in trips.items()})
    ]


def results(
    name: str, seconds: dict[str, list[float]], trips: dict[str, float]
) -> list[common.Result]:
    """Mean per operation (commit stalls count); the median and round trips in the note."""
    raw = statistics.mean(seconds["raw"])
    return [
        common.Result(
            f"{name}: {setup}",
            "postgresql",
            statistics.mean(times),
            raw,
            "ms",
            note=(
                f"median {statistics.median(times) * 1e3:.3f} ms of {len(times)}; "
                f"{trips[setup]:g} round trips"
            ),
        )
        for setup, times in seconds.items()
        if setup != "raw"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000, help="operations of each kind per engine")
    args = parser.parse_args(argv)
    with common.fresh_postgres_database() as url:
        found = run(url, max(ROUND, args.ops // ROUND * ROUND))
    path = common.write_json("connections", {"ops": args.ops, "rows": ROWS}, found)
    print(f"\nPostgreSQL, {ROWS:,} rows (JSON: {path})\n{common.table(found)}\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
