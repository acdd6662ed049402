"""One upgrade rule (runtime.services.upgrade): when a backup is written, where, and
that it is written before the migration touches a table."""

from __future__ import annotations

import pytest

from runtime.services import upgrade as upgrades
from runtime.services.progress import run_steps
from runtime.services.upgrade import MigrationPlan
from runtime.spec import parse_app_spec
from runtime.store import backup as backup_module
from runtime.store.migrate import Step
from runtime.store.workspace import Workspace

ADDED = Step("add_field", "main", "add the field Extra", field="extra", ddl=True)


def spec(version: int = 1, extra: bool = False):
    fields = [{"key": "name", "type": "text", "label": "Name"}]
    if extra:
        fields.append({"key": "extra", "type": "text", "label": "Extra"})
    data = {
        "format": "formwright-app",
        "spec_version": 1,
        "id": "rule",
        "title": "Rule",
        "version": version,
        "forms": [{"key": "main", "title": "Main", "fields": fields}],
    }
    return parse_app_spec(data)


@pytest.mark.parametrize(
    ("plan", "dry_run", "backs_up"),
    [
        (MigrationPlan("rule", None, 1, [ADDED]), False, False),  # an install: no data yet
        (MigrationPlan("rule", 1, 1), False, False),  # the same version: nothing changes
        (MigrationPlan("rule", 1, 2, [ADDED], blockers=["duplicates"]), False, False),
        (MigrationPlan("rule", 1, 2, [ADDED]), True, False),  # a dry run changes nothing
        (MigrationPlan("rule", 1, 2, [ADDED]), False, True),
        (MigrationPlan("rule", 1, 2), False, True),  # only the version: it is rewritten too
    ],
)
def test_which_plans_take_a_backup(plan, dry_run, backs_up):
    assert upgrades.takes_backup(plan, dry_run) is backs_up


def test_only_the_same_version_is_current():
    assert upgrades.is_current(MigrationPlan("rule", 2, 2))
    assert not upgrades.is_current(MigrationPlan("rule", 1, 2))
    assert not upgrades.is_current(MigrationPlan("rule", None, 1))


def test_an_install_takes_no_backup_and_an_upgrade_backs_up_first(db_url):
    workspace = Workspace.open(db_url)
    try:
        install = upgrades.upgrade_steps(workspace, spec())
        assert [step.message for step in install] == [upgrades.INSTALLING]
        planned = upgrades.preview(workspace, spec(2, extra=True))
        folder = upgrades.backup_folder(workspace, planned)
        assert folder is not None  # SQLite beside the file; PostgreSQL with pg_dump
        seen = []
        applied = run_steps(
            upgrades.upgrade_steps(workspace, spec(2, extra=True)),
            lambda step: seen.append((step.message, workspace.installed_spec("rule").version)),
        )
    finally:
        workspace.dispose()
    # The backup step is announced, and done, while version 1 is still installed.
    assert seen == [(upgrades.BACKING_UP, 1), (upgrades.UPGRADING, 1)]
    assert applied.backup_path is not None and applied.backup_path.parent == folder
    assert applied.backup_path.stat().st_size > 0 and not applied.blockers


def test_a_failed_backup_stops_the_upgrade_with_nothing_changed(db_url, monkeypatch):
    def disk_full(engine, output):
        raise OSError("disk full")

    workspace = Workspace.open(db_url)
    try:
        upgrades.upgrade(workspace, spec())
        folder = upgrades.backup_folder(workspace, upgrades.plan(workspace, spec(2, extra=True)))
        before = sorted(folder.iterdir()) if folder.exists() else []
        monkeypatch.setattr(backup_module, "backup", disk_full)
        with pytest.raises(OSError, match="disk full"):
            upgrades.upgrade(workspace, spec(2, extra=True))
        assert workspace.installed_spec("rule").version == 1
        assert (sorted(folder.iterdir()) if folder.exists() else []) == before
    finally:
        workspace.dispose()


def test_no_backup_folder_for_a_database_in_memory():
    workspace = Workspace.open("sqlite://")
    try:
        upgrades.upgrade(workspace, spec())
        planned = upgrades.plan(workspace, spec(2, extra=True))
        assert upgrades.takes_backup(planned)
        assert upgrades.backup_folder(workspace, planned) is None
        assert upgrades.upgrade(workspace, spec(2, extra=True)).backup_path is None
        assert workspace.installed_spec("rule").version == 2  # it still runs
    finally:
        workspace.dispose()
