"""A damaged SQLite file: noticed when opened, every write refused, restored from a backup.

The damage is real: one b-tree page of a record table is overwritten in the file,
as a failing disk or a stray writer would, so SQLite's ``quick_check`` fails.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.api import open_workspace
from runtime.cli import main
from runtime.services.records.service import RecordService
from runtime.store import integrity
from runtime.store.integrity import DamagedDatabase
from runtime.store.workspace import Workspace
from tests.store.conftest import add_department, load_sample

ROOT = Path(__file__).resolve().parents[2]
REPAIR = str(ROOT / "sample_apps" / "equipment_repair")
DAMAGED = "The database file is damaged: "


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sound(tmp_path) -> tuple[Path, str, Path]:
    """A workspace file with 300 devices (several pages), and a good backup of it."""
    path = tmp_path / "ward" / "workspace.sqlite"
    url = f"sqlite:///{path}"
    workspace = Workspace.open(url)
    spec = load_sample("equipment_repair")
    workspace.install(spec)
    department = add_department(workspace, "ICU", "icu")
    rows = [{"asset_no": f"EQ-{n:04}", "name": f"泵 {n}", "owner_dept": department}
            for n in range(300)]  # fmt: skip
    RecordService(workspace, spec).bulk_create("device", rows)
    workspace.dispose()
    backup = tmp_path / "good.sqlite"
    with open_workspace(url) as handle:
        handle.backup(backup)
    return path, url, backup


def overwrite_a_table_page(path: Path, table: str = "equipment_repair__device") -> None:
    """Overwrite the root b-tree page of ``table`` (not page 1, the header) with junk."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()[0]
    finally:
        connection.close()
    assert root > 1
    with open(path, "r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(bytes([0xA5]) * page_size)


@pytest.fixture
def damaged(sound) -> tuple[Path, str, Path]:
    path, _url, _backup = sound
    overwrite_a_table_page(path)
    return sound


def test_a_sound_file_passes(sound):
    _path, url, _ = sound
    workspace = Workspace.open(url)
    try:
        assert workspace.damage() == ""
    finally:
        workspace.dispose()


def test_open_notices_the_damage_and_refuses_writes(damaged):
    _path, url, backup = damaged
    workspace = Workspace.open(url)  # still opens: what is left can be read
    try:
        assert workspace.damage()
        assert workspace.installed_apps() == [("equipment_repair", 1)]
        service = RecordService(workspace, workspace.installed_spec("equipment_repair"))
        with pytest.raises(DamagedDatabase) as refused:
            service.create("device", {"asset_no": "EQ-9999", "name": "x", "owner_dept": 1})
        message = refused.value.message
        assert message.startswith(DAMAGED) and "\n" not in message
        assert str(backup) in message and "formwright backup restore" in message
    finally:
        workspace.dispose()


def test_a_large_file_is_checked_in_the_background_before_the_first_write(damaged, monkeypatch):
    _path, url, _ = damaged
    monkeypatch.setattr(integrity, "BACKGROUND_CHECK_BYTES", 0)
    workspace = Workspace.open(url)
    try:
        assert workspace.integrity._thread is not None  # open did not wait
        with pytest.raises(DamagedDatabase), workspace.engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM fw_settings")
    finally:
        workspace.dispose()


def test_audit_verify_says_damaged(damaged, capsys):
    _, url, _ = damaged
    code, out, err = run(capsys, "audit", "verify", "--db", url)
    assert code == 1 and out == ""
    assert err.startswith(f"formwright: {DAMAGED}") and err.count("\n") == 1


def test_import_is_refused(damaged, capsys, tmp_path):
    _, url, _ = damaged
    source = tmp_path / "devices.csv"
    source.write_text("资产编号,名称\nEQ-7777,泵\n", encoding="utf-8")
    code, _out, err = run(capsys, "import", REPAIR, "--db", url, "--form", "device", str(source))
    assert code == 1 and DAMAGED in err and err.count("\n") == 1


def test_upgrade_plan_is_refused(damaged, capsys):
    _, url, _ = damaged
    code, out, err = run(capsys, "upgrade", REPAIR, "--db", url, "--dry-run")
    assert code == 1 and DAMAGED in err and err.count("\n") == 1
    assert "nothing was changed" not in out


def test_backup_is_refused(damaged, capsys, tmp_path):
    _, url, _ = damaged
    target = tmp_path / "copy.sqlite"
    code, _out, err = run(capsys, "backup", "--db", url, "-o", str(target))
    assert code == 1 and DAMAGED in err
    assert not target.exists()


def test_every_backup_has_a_checkpoint_beside_it(sound, capsys):
    _, url, backup = sound
    checkpoint = backup.with_name(backup.name + ".checkpoint.json")
    assert checkpoint.is_file()
    code, _out, err = run(capsys, "audit", "verify", "--db", url, "--against", str(checkpoint))
    assert (code, err) == (0, ""), err


def test_restore_puts_the_backup_back_and_keeps_the_damaged_file(damaged, capsys):
    path, url, backup = damaged
    damaged_bytes = path.read_bytes()
    code, _out, err = run(capsys, "backup", "restore", str(backup), "--db", url)
    assert (code, err) == (0, ""), err
    kept = [p for p in path.parent.iterdir() if ".damaged-" in p.name]
    assert [p.read_bytes() for p in kept if p.name.endswith(tuple("0123456789"))] == [damaged_bytes]
    with open_workspace(url) as handle:
        assert handle.workspace.damage() == ""
        assert handle.app("equipment_repair").count("device") == 300
        assert handle.verify_audit().ok


def test_restore_is_refused_while_another_program_has_the_workspace_open(damaged, capsys):
    path, url, backup = damaged
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time\n"
         "c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode').fetchall()\n"
         "c.execute('SELECT count(*) FROM fw_meta').fetchall()\n"
         "print('ready', flush=True); time.sleep(60)",
         str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        before = path.read_bytes()
        code, _out, err = run(capsys, "backup", "restore", str(backup), "--db", url)
        assert code == 1 and f"process {holder.pid}" in err and err.count("\n") == 1
        assert path.read_bytes() == before
    finally:
        holder.kill()
        holder.wait()


def test_restore_refuses_a_file_that_is_not_a_sound_workspace(sound, capsys, tmp_path):
    _path, url, _ = sound
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(os.urandom(8192))
    code, _out, err = run(capsys, "backup", "restore", str(junk), "--db", url)
    assert code == 1 and "cannot be restored" in err
    with open_workspace(url) as handle:
        assert handle.app("equipment_repair").count("device") == 300


def test_an_upgrade_checks_the_file_again_before_rewriting_it(sound, monkeypatch):
    """Damage found after the workspace was opened still stops an upgrade."""
    from runtime.spec import parse_app_spec

    path, url, _ = sound
    data = load_sample("equipment_repair").to_json_dict()
    data["version"] += 1
    device = next(form for form in data["forms"] if form["key"] == "device")
    device["fields"].append({"key": "room", "type": "text", "label": "Room"})
    with open_workspace(url) as handle:
        assert handle.workspace.damage() == ""
        overwrite_a_table_page(path)
        with pytest.raises(DamagedDatabase):
            handle.upgrade(parse_app_spec(data), take_backup=False)
    with open_workspace(url) as handle:
        assert handle.workspace.installed_spec("equipment_repair").version == 1
