"""An import killed with ``kill -9`` in the middle: a form without unique fields
(visits: the same rows can be imported twice), a workbook of many batches, and a
worker process that imports it until the test kills it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import sqlalchemy as sa
import xlsxwriter

from runtime.services.actor import SYSTEM
from runtime.services.excel.importer import import_records
from runtime.services.progress import run_steps
from runtime.services.records.service import RecordService
from runtime.store.schema import imports_table
from runtime.store.workspace import Workspace
from tests.store.conftest import make_spec

SPAWN = multiprocessing.get_context("spawn")
APP = "clinic"
FORM = "visit"
HEADER = ["Patient", "Ward", "Amount"]
#: The worker writes batches of this many rows: a 3,000-row file is 300 commits.
WORKER_BATCH = 10


def visit_spec():
    return make_spec(
        APP,
        [
            {
                "key": FORM,
                "title": "Visits",
                "fields": [
                    {"key": "patient", "type": "text", "label": "Patient", "required": True},
                    {"key": "ward", "type": "text", "label": "Ward"},
                    {"key": "amount", "type": "number", "label": "Amount", "decimals": 2},
                ],
            }
        ],
    )


def visit_service(url: str) -> RecordService:
    """The clinic app, installed if the workspace has not got it yet."""
    workspace = Workspace.open(url)
    spec = workspace.installed_spec(APP)
    if spec is None:
        spec = visit_spec()
        workspace.install(spec)
    return RecordService(workspace, spec)


def visit_rows(count: int, edited: bool = False) -> list[list]:
    """``count`` visits; ``edited`` changes the ward of every 100th row (a corrected
    copy of the file)."""
    rows = []
    for n in range(count):
        ward = "ICU" if n % 2 else "ER"
        if edited and n % 100 == 0:
            ward = "Cardiology"
        rows.append([f"P{n:05d}", ward, f"{n % 500}.25"])
    return rows


def write_visits(path: Path, count: int, edited: bool = False) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for number, row in enumerate(visit_rows(count, edited), 1):
        sheet.write_row(number, 0, row)
    book.close()
    return path


def import_worker(url: str, path: str) -> None:
    """Import the file as the system in small batches (until killed)."""
    service = visit_service(url)
    fields = ["patient", "ward", "amount"]
    run_steps(
        import_records(
            service, FORM, path, actor=SYSTEM, visible_fields=fields, batch_size=WORKER_BATCH
        )
    )


def rows_done(url: str) -> int | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.select(imports_table.c.rows_done)).scalar()
    finally:
        engine.dispose()


def import_and_kill(url: str, path: Path, after_rows: int = 100) -> int:
    """Run the import in another process and ``kill -9`` it once ``after_rows`` rows
    are committed; the rows committed then (the file must be much longer)."""
    visit_service(url).workspace.dispose()  # installed before the worker starts
    worker = SPAWN.Process(target=import_worker, args=(url, str(path)))
    worker.start()
    engine = sa.create_engine(url)
    deadline = time.monotonic() + 120
    try:
        while worker.is_alive() and time.monotonic() < deadline:
            with engine.connect() as connection:
                done = connection.execute(sa.select(imports_table.c.rows_done)).scalar()
            if done is not None and done >= after_rows:
                os.kill(worker.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        worker.join(timeout=30)
    finally:
        engine.dispose()
    assert worker.exitcode == -signal.SIGKILL, "the import finished before it could be killed"
    done = rows_done(url)
    assert done is not None and after_rows <= done and done % WORKER_BATCH == 0
    return done
