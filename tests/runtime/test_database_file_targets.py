"""A file the user names is never one of the open database's files.

Import sources, export, template, error-workbook and backup targets, organisation
workbooks and app packages: naming the workspace's database file, its ``-wal`` or
``-shm`` (or a link to them) is refused with one line before anything opens,
writes or replaces it — so SQLite keeps its locks (closing any descriptor of those
files drops them on Linux) and the database is never replaced under a running app.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.api import WorkspaceHandle, open_workspace
from runtime.cli import main
from runtime.package import PackageContents, PackageError, read_package, write_package
from runtime.services.actor import SYSTEM
from runtime.services.excel.common import ExcelError
from runtime.services.excel.errors import write_error_workbook
from runtime.services.excel.export import export_records
from runtime.services.excel.importer import import_records
from runtime.services.excel.read import SheetData
from runtime.services.excel.template import write_template
from runtime.services.org.directory import OrgError
from runtime.services.org.workbook import read_workbook
from runtime.services.progress import run_steps
from runtime.store.engine import WorkspaceError
from tests.sqlite_locks import locks_held, other_process

pytestmark = pytest.mark.skipif(not Path("/proc/locks").exists(), reason="Linux locks only")

ROOT = Path(__file__).resolve().parents[2]
REPAIR = ROOT / "sample_apps" / "equipment_repair"
REFUSED = "is a file of the open database"
SUFFIXES = ["", "-wal", "-shm"]


@pytest.fixture
def handle(tmp_path) -> Iterator[WorkspaceHandle]:
    opened = open_workspace(f"sqlite:///{tmp_path / 'data' / 'workspace.sqlite'}")
    opened.upgrade(REPAIR)
    yield opened
    opened.close()


@pytest.fixture
def database(handle) -> Iterator[Path]:
    """The database file, with a connection held open as a running app holds it;
    afterwards the locks must still be held and every file still be the same one."""
    path = Path(handle.workspace.engine.url.database)
    with handle.workspace.reader() as connection:
        connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").all()
        files = [Path(f"{path}{suffix}") for suffix in SUFFIXES]
        before = {file: file.stat().st_ino for file in files}
        held = locks_held(os.getpid(), path)
        assert held > 0
        yield path
        assert locks_held(os.getpid(), path) == held
        assert {file: file.stat().st_ino for file in files} == before
    assert other_process(path, "PRAGMA integrity_check") == "ok"


def named(database: Path, suffix: str) -> Path:
    return Path(f"{database}{suffix}")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_an_import_source_is_refused(handle, database, suffix):
    service = handle.app("equipment_repair").service
    steps = import_records(
        service, "device", named(database, suffix), actor=SYSTEM, visible_fields=["name"]
    )
    with pytest.raises(ExcelError, match=REFUSED):
        run_steps(steps)


def test_a_link_to_the_database_is_refused_as_export_target(handle, database, tmp_path):
    link = tmp_path / "devices.xlsx"
    link.symlink_to(database)
    hard = tmp_path / "devices.csv"
    os.link(database, hard)
    service = handle.app("equipment_repair").service
    for target in (link, hard):
        steps = export_records(service, "device", target, actor=SYSTEM, visible_fields=["name"])
        with pytest.raises(ExcelError, match=REFUSED):
            run_steps(steps)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_template_and_error_workbook_targets_are_refused(handle, database, suffix):
    target = named(database, suffix)
    with pytest.raises(ExcelError, match=REFUSED):
        write_template(handle.app("equipment_repair").spec, "device", target)
    with pytest.raises(ExcelError, match=REFUSED):
        write_error_workbook(SheetData("sheet", [["name"]]), [0], 1, [], target)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_backup_target_is_refused(handle, database, suffix):
    with pytest.raises(WorkspaceError, match=REFUSED):
        handle.backup(named(database, suffix))


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_organisation_workbook_and_packages_are_refused(database, suffix):
    with pytest.raises(OrgError, match=REFUSED):
        read_workbook(named(database, suffix))
    with pytest.raises(PackageError, match=REFUSED):
        read_package(named(database, suffix))
    with pytest.raises(PackageError, match=REFUSED):
        write_package(named(database, suffix), PackageContents(app_json={}, assets={}))


@pytest.fixture
def used_elsewhere(tmp_path) -> Iterator[Path]:
    """A WAL database that another process (a running app) holds open."""
    path = tmp_path / "elsewhere" / "workspace.sqlite"
    path.parent.mkdir()
    connection = sqlite3.connect(path)  # not through an engine: not this process's
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE kept (value)")
    connection.commit()
    connection.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout.readline() == b"open\n"
        inode = path.stat().st_ino
        yield path
        assert path.stat().st_ino == inode and locks_held(holder.pid, path) > 0
    finally:
        holder.kill()
        holder.wait()


HOLD = (
    "import sqlite3, sys\n"
    "c = sqlite3.connect(sys.argv[1])\n"
    "c.execute('SELECT count(*) FROM kept').fetchall()\n"
    "print('open', flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.mark.parametrize("suffix", ["", "-wal"])
def test_the_cli_never_writes_over_a_database_another_process_uses(
    used_elsewhere, tmp_path, capsys, suffix
):
    """`formwright template -o` / `backup -o` naming a running app's database."""
    target = str(named(used_elsewhere, suffix))
    ours = f"sqlite:///{tmp_path / 'ours.sqlite'}"
    for argv in (
        ["template", str(REPAIR), "--form", "device", "-o", target],
        ["backup", "--db", ours, "-o", target],
    ):
        code = main(argv)
        _out, err = capsys.readouterr()
        assert code != 0
        assert REFUSED in err and len(err.strip().splitlines()) == 1
