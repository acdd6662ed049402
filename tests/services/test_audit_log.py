"""Reading the audit log on both engines: filters, newest-first pages, chain check, admins only."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import date, datetime

import pytest

from runtime.services.actor import Actor
from runtime.services.audit_log import PAGE_SIZE, AuditFilter, AuditLog
from runtime.services.errors import PermissionDenied
from runtime.services.progress import Progress, run_steps
from runtime.store.audit import AuditEntry, append
from runtime.store.schema import audit_table
from runtime.store.workspace import Workspace

ADMIN = Actor(user_id=1, username="admin", display_name="Admin", is_admin=True)
NURSE = Actor(user_id=2, username="zhang.wei", display_name="Zhang Wei")


@pytest.fixture
def log(workspace) -> AuditLog:
    return AuditLog(workspace, ADMIN)


def add(workspace: Workspace, entries: list[tuple[AuditEntry, datetime | None]]) -> list[int]:
    with workspace.engine.begin() as connection:
        return [append(connection, entry, at=at) for entry, at in entries]


@pytest.fixture
def rows(workspace) -> list[int]:
    """Five rows over two days (UTC) in a new, otherwise empty log; returns their ids."""
    return add(
        workspace,
        [
            (AuditEntry("login", 1, "admin"), datetime(2024, 5, 1, 8, 0)),
            (AuditEntry("create", 2, "zhang.wei", "repair", "device", 7, {"name": "泵"}),
             datetime(2024, 5, 1, 9, 30)),
            (AuditEntry("update", 2, "zhang.wei", "repair", "request", 3), datetime(2024, 5, 1, 23, 0)),
            (AuditEntry("create", 1, "admin", "repair", "request", 4), datetime(2024, 5, 2, 7, 0)),
            (AuditEntry("export", 1, "admin", "triage", "visit"), datetime(2024, 5, 2, 12, 0)),
        ],
    )  # fmt: skip


@pytest.fixture
def utc_local_time() -> Iterator[None]:
    """Local time is UTC, so calendar days are UTC days (restored afterwards)."""
    yield from _local_zone("UTC0")


@pytest.fixture
def beijing_time() -> Iterator[None]:
    """Local time is UTC+8 (POSIX rule, no time zone database needed)."""
    yield from _local_zone("CST-8")


def _local_zone(rule: str) -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = rule
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def ids(lines) -> list[int]:
    return [line.id for line in lines]


def test_every_row_newest_first(log, rows):
    lines = log.page(AuditFilter())
    assert ids(lines) == rows[::-1]
    assert log.count(AuditFilter()) == 5
    created = lines[-2]
    assert (created.username, created.action, created.app_id, created.form) == (
        "zhang.wei", "create", "repair", "device",
    )  # fmt: skip
    assert created.record_id == 7 and created.workstation
    assert created.details == "name: 泵"
    assert lines[-1].details == "" and lines[-1].app_id == "" and lines[-1].record_id is None


@pytest.mark.parametrize(
    ("where", "wanted"),
    [
        (AuditFilter(username="zhang.wei"), [2, 1]),
        (AuditFilter(action="create"), [3, 1]),
        (AuditFilter(app_id="repair"), [3, 2, 1]),
        (AuditFilter(app_id="repair", form="request"), [3, 2]),
        (AuditFilter(username="admin", action="create"), [3]),
        (AuditFilter(username="nobody"), []),
    ],
)
def test_filters_by_user_action_app_and_form(log, rows, where, wanted):
    assert ids(log.page(where)) == [rows[i] for i in wanted]
    assert log.count(where) == len(wanted)


def test_empty_choices_mean_any(log, rows):
    assert log.count(AuditFilter(username="", action="", app_id="", form="")) == 5


def test_days_are_inclusive_local_calendar_days(log, rows, utc_local_time):
    may_1, may_2 = date(2024, 5, 1), date(2024, 5, 2)
    assert ids(log.page(AuditFilter(start=may_1, end=may_1))) == rows[2::-1]
    assert ids(log.page(AuditFilter(start=may_2))) == rows[:2:-1]
    assert ids(log.page(AuditFilter(end=may_1))) == rows[2::-1]
    assert log.count(AuditFilter(start=date(2024, 5, 3))) == 0
    assert log.count(AuditFilter(start=may_2, end=may_1)) == 0


def test_days_follow_the_local_time_zone(log, rows, beijing_time):
    """23:00 UTC on 1 May is 07:00 on 2 May in Beijing; 07:00 UTC on 2 May is 15:00 there."""
    may_1, may_2 = date(2024, 5, 1), date(2024, 5, 2)
    assert ids(log.page(AuditFilter(start=may_1, end=may_1))) == rows[1::-1]
    assert ids(log.page(AuditFilter(start=may_2, end=may_2))) == rows[:1:-1]
    assert log.page(AuditFilter(start=may_2))[-1].local_time() == "2024-05-02 07:00:00"


def test_pages_go_back_by_the_last_id_shown(workspace, log):
    entries = [(AuditEntry("export", None, "robot", details={"n": n}), None) for n in range(250)]
    written = add(workspace, entries)
    where = AuditFilter(action="export")
    first = log.page(where)
    assert ids(first) == written[::-1][:PAGE_SIZE]
    second = log.page(where, before_id=first[-1].id)
    assert ids(second) == written[::-1][PAGE_SIZE : 2 * PAGE_SIZE]
    last = log.page(where, before_id=second[-1].id)
    assert ids(last) == written[::-1][2 * PAGE_SIZE :]
    assert log.page(where, before_id=last[-1].id) == []
    assert ids(log.page(where, before_id=written[10], limit=3)) == written[9:6:-1]
    assert log.count(where) == 250


def test_a_new_row_does_not_shift_an_older_page(workspace, log, rows):
    first = log.page(AuditFilter(), limit=2)
    add(workspace, [(AuditEntry("login", 2, "zhang.wei"), datetime(2024, 5, 3))])
    assert ids(log.page(AuditFilter(), before_id=first[-1].id, limit=2)) == rows[2:0:-1]


def test_distinct_values_for_the_filter_choices(log, rows):
    assert log.distinct_values("username") == ["admin", "zhang.wei"]
    assert log.distinct_values("action") == ["create", "export", "login", "update"]
    assert log.distinct_values("app_id") == ["repair", "triage"]
    assert log.distinct_values("form") == ["device", "request", "visit"]
    with pytest.raises(ValueError, match="details"):
        log.distinct_values("details")


def test_verify_an_intact_chain(log, rows):
    report = log.verify()
    assert report.ok and report.rows == 5 and report.broken_id is None


def test_verify_names_the_tampered_row(workspace, log, rows):
    with workspace.engine.begin() as connection:
        connection.execute(
            audit_table.update().where(audit_table.c.id == rows[2]).values(username="mallory")
        )
    report = log.verify()
    assert (report.ok, report.broken_id, report.rows) == (False, rows[2], 2)
    assert "changed" in report.reason


def test_verify_notices_a_deleted_row(workspace, log, rows):
    with workspace.engine.begin() as connection:
        connection.execute(audit_table.delete().where(audit_table.c.id == rows[1]))
    report = log.verify()
    assert (report.ok, report.broken_id) == (False, rows[2])
    assert "missing" in report.reason


def test_verify_steps_report_progress_then_the_report(log, rows):
    seen: list[Progress] = []
    report = run_steps(log.verify_steps(batch=2), seen.append)
    assert seen == [Progress(done, 5, "checking") for done in (0, 2, 4, 5)]
    assert report == log.verify() and report.ok and report.rows == 5


def test_verify_steps_name_the_tampered_row(workspace, log, rows):
    with workspace.engine.begin() as connection:
        connection.execute(audit_table.update().where(audit_table.c.id == rows[3]).values(form="x"))
    report = run_steps(log.verify_steps(batch=2))
    assert (report.ok, report.broken_id, report.rows) == (False, rows[3], 3)
    assert report == log.verify()


def test_verify_steps_check_one_snapshot(workspace, log, rows):
    """A row saved while the check walks is not seen: total and rows stay those of the start."""
    steps = log.verify_steps(batch=2)
    assert next(steps) == Progress(0, 5, "checking")
    add(workspace, [(AuditEntry("login", 2, "zhang.wei"), None)])
    seen: list[Progress] = []
    report = run_steps(steps, seen.append)
    assert seen[-1] == Progress(5, 5, "checking")
    assert report.ok and report.rows == 5
    assert log.verify().rows == 6


def test_closing_verify_steps_frees_the_connection(workspace, log, rows):
    pool = workspace.engine.pool
    before = pool.checkedout()
    steps = log.verify_steps(batch=2)
    next(steps)
    assert pool.checkedout() == before + 1  # held for the whole walk
    steps.close()
    assert pool.checkedout() == before


def test_reading_does_not_wait_for_a_writer(workspace, log, rows):
    """A save in progress on another workstation holds the write lock; the viewer reads on."""
    with workspace.engine.begin() as writer:
        append(writer, AuditEntry("login", 2, "zhang.wei"))
        assert log.count(AuditFilter()) == 5  # the unfinished save is not seen
        assert log.verify().ok
    assert log.count(AuditFilter()) == 6


@pytest.mark.parametrize(
    "read",
    [
        lambda log: log.page(AuditFilter()),
        lambda log: log.count(AuditFilter()),
        lambda log: log.distinct_values("username"),
        lambda log: log.distinct_values("details"),
        lambda log: log.verify(),
        lambda log: log.verify_steps(),
    ],
    ids=[
        "page",
        "count",
        "distinct_values",
        "distinct_values_of_any_column",
        "verify",
        "verify_steps",
    ],
)
def test_only_administrators_read_the_log(workspace, rows, read):
    with pytest.raises(PermissionDenied, match="administrator"):
        read(AuditLog(workspace, NURSE))
