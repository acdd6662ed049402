"""Backups before an upgrade: a new file each time, never a half-written one."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from runtime.store import backup as backup_module
from runtime.store.backup import backup_before_upgrade, upgrade_backup_folder
from runtime.store.workspace import Workspace


class _FrozenClock(dt.datetime):
    """Every backup in this test is taken in the same second."""

    @classmethod
    def now(cls, tz=None):
        return cls(2026, 11, 26, 10, 15, 0)


@pytest.fixture
def same_second(monkeypatch) -> None:
    monkeypatch.setattr(backup_module, "datetime", _FrozenClock)


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_backups_in_the_same_second_keep_each_other(workspace, same_second):
    if workspace.engine.dialect.name != "sqlite" and shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed for PostgreSQL backups (postgresql-client)")
    first = backup_before_upgrade(workspace.engine)
    second = backup_before_upgrade(workspace.engine)
    assert first != second and first.parent == second.parent
    stem = (
        "workspace" if workspace.engine.dialect.name == "sqlite" else workspace.engine.url.database
    )
    assert first.name.startswith(f"{stem}-20261126-101500")
    assert second.name.startswith(f"{stem}-20261126-101500-2")
    assert first.stat().st_size > 0 and second.stat().st_size > 0
    ours = [name for name in files_in(first.parent) if stem in name]  # the folder is shared
    checkpoints = [f"{first.name}.checkpoint.json", f"{second.name}.checkpoint.json"]
    assert ours == sorted([first.name, second.name, *checkpoints])  # and no .part left


def test_a_sqlite_backup_is_a_working_copy(tmp_path, same_second):
    workspace = Workspace.open(f"sqlite:///{tmp_path / 'w.sqlite'}")
    try:
        copy = backup_before_upgrade(workspace.engine)
    finally:
        workspace.dispose()
    engine = sa.create_engine(f"sqlite:///{copy}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        tables = sa.inspect(connection).get_table_names()
    engine.dispose()
    assert "fw_audit" in tables


def test_a_failed_backup_leaves_no_file(workspace, monkeypatch):
    def broken(engine, output):
        raise OSError("disk full")

    monkeypatch.setattr(backup_module, "backup", broken)
    folder = upgrade_backup_folder(workspace.engine)
    before = files_in(folder)
    with pytest.raises(OSError, match="disk full"):
        backup_before_upgrade(workspace.engine)
    assert files_in(folder) == before
