"""Helpers shared by the benchmarks: timing, results, tables, temporary databases."""

from __future__ import annotations

import cProfile
import io
import json
import math
import os
import platform
import pstats
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from runtime.services.records.service import RecordService
from runtime.spec.models import AppSpec
from runtime.store.workspace import Workspace

T = TypeVar("T")

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
POSTGRES_ADMIN_URL = os.environ.get(
    "FORMWRIGHT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

#: Set by ``--profile``: engine-side work then runs under cProfile (slower!).
PROFILE_TO: Path | None = None


# -- timing ---------------------------------------------------------------------
def timed(work: Callable[[], T]) -> tuple[float, T]:
    """Seconds taken by ``work()`` (perf_counter) and its result."""
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def samples(work: Callable[[], object], runs: int, warmup: int = 5) -> list[float]:
    """Seconds of each of ``runs`` calls of ``work`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        work()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    return seconds


def median(values: list[float]) -> float:
    return statistics.median(values)


def paired(
    engine: Callable[[], object], raw: Callable[[], object], runs: int, warmup: int = 5
) -> tuple[list[float], list[float]]:
    """Seconds of each engine call and each raw call, alternated so that load from
    elsewhere on the machine hits both sides alike."""
    for _ in range(warmup):
        engine()
        raw()
    engine_seconds, raw_seconds = [], []
    for _ in range(runs):
        engine_seconds.append(timed(engine)[0])
        raw_seconds.append(timed(raw)[0])
    return engine_seconds, raw_seconds


_profiles: dict[str, cProfile.Profile] = {}


def profiled(label: str, work: Callable[[], T]) -> T:
    """Run ``work``; under ``--profile`` also collect its cProfile stats under ``label``."""
    if PROFILE_TO is None:
        return work()
    return _profiles.setdefault(label, cProfile.Profile()).runcall(work)


def write_profiles() -> None:
    """Write each label's collected stats to ``results/profile-<label>.txt``."""
    assert PROFILE_TO is not None
    PROFILE_TO.mkdir(parents=True, exist_ok=True)
    for label, profile in _profiles.items():
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text).strip_dirs()
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(30)
        (PROFILE_TO / f"profile-{label}.txt").write_text(text.getvalue(), "utf-8")
    _profiles.clear()


# -- results ----------------------------------------------------------------------
@dataclass
class Result:
    """One benchmark on one engine: engine time vs the raw baseline's time."""

    benchmark: str
    engine: str
    engine_seconds: float
    raw_seconds: float
    unit: str = "s"  # how times are shown: "s" or "ms"
    target: str = "report only"
    passed: bool | None = None  # None: no target on this engine
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.engine_seconds / self.raw_seconds if self.raw_seconds else math.inf

    @property
    def verdict(self) -> str:
        return "-" if self.passed is None else ("PASS" if self.passed else "FAIL")

    def as_json(self) -> dict[str, object]:
        return {
            "benchmark": self.benchmark,
            "engine": self.engine,
            "engine_seconds": self.engine_seconds,
            "raw_seconds": self.raw_seconds,
            "ratio": round(self.ratio, 3),
            "target": self.target,
            "result": self.verdict,
            "note": self.note,
        }


def show_time(seconds: float, unit: str) -> str:
    return f"{seconds * 1000:.3f} ms" if unit == "ms" else f"{seconds:.2f} s"


HEADER = ("benchmark", "engine", "engine time", "raw time", "ratio", "target", "result", "note")


def table(results: list[Result]) -> str:
    """A plain-text (and Markdown-compatible) table of results."""
    rows = [HEADER] + [
        (
            r.benchmark,
            r.engine,
            show_time(r.engine_seconds, r.unit),
            show_time(r.raw_seconds, r.unit),
            f"{r.ratio:.2f}×",
            r.target,
            r.verdict,
            r.note,
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> dict[str, object]:
    return {
        "date": datetime.now().isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
    }


def write_json(name: str, meta: dict[str, object], results: list[Result]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {**meta, "machine": machine(), "results": [r.as_json() for r in results]}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return path


# -- databases ----------------------------------------------------------------------
@contextmanager
def fresh_postgres_database(admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A new empty database ``fw_bench_<random>`` (its URL), dropped afterwards."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"fw_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = sa.engine.make_url(admin_url).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def libpq_url(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://…`` as a plain libpq URL for ``psycopg.connect``."""
    url = sa.engine.make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@contextmanager
def temp_folder() -> Iterator[Path]:
    """A temporary folder for SQLite files, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="fw_bench_") as folder:
        yield Path(folder)


@contextmanager
def installed_app(url: str, spec: AppSpec) -> Iterator[RecordService]:
    """A workspace at ``url`` with ``spec`` installed; its RecordService."""
    workspace = Workspace.open(url)
    try:
        workspace.install(spec)
        yield RecordService(workspace, spec)
    finally:
        workspace.dispose()
