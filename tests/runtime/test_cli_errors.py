"""Every error of the command is one line: no SQL, parameters, values or tracebacks.

The commands run in a subprocess (as a user runs them), so what Python prints on
its own at exit (``Exception ignored in: ZipFile.__del__``) is seen too. A full
disk is a 64 KiB tmpfs where mounting one is allowed, else a file size limit
(RLIMIT_FSIZE with SIGXFSZ ignored: writes past it fail with EFBIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import random
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from runtime.api import open_workspace
from runtime.store.workspace import Workspace
from tests.store.conftest import add_department

ROOT = Path(__file__).resolve().parents[2]
REPAIR = str(ROOT / "sample_apps" / "equipment_repair")
SECRET = "SECRET-pump-Zhang"
FORBIDDEN = ("Traceback", "INSERT", "SELECT", "UPDATE ", "[SQL", "Background", "parameters")
FILE_LIMIT = 64 * 1024


def _limit_file_size(size: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def _drop_file_override() -> None:
    """As root, give up the capabilities that ignore file permissions (before exec)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop, cap_dac_override, cap_dac_read_search = 24, 1, 2
    for capability in (cap_dac_override, cap_dac_read_search):
        assert libc.prctl(pr_capbset_drop, capability, 0, 0, 0) == 0


def formwright(*argv: str, preexec=None) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), FORMWRIGHT_PASSWORD="ward 3 night shift")
    env.pop("FORMWRIGHT_LANG", None)
    done = subprocess.run(
        [sys.executable, "-m", "runtime.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=preexec,
        timeout=120,
        cwd=ROOT,
    )
    return done.returncode, done.stdout, done.stderr


def assert_one_clean_line(code: int, err: str) -> str:
    assert code != 0
    lines = err.splitlines()
    assert len(lines) == 1, err
    for word in (*FORBIDDEN, SECRET, "$argon2"):
        assert word not in err, err
    return lines[0]


@pytest.fixture
def devices(tmp_path) -> str:
    """A SQLite workspace with 3,000 devices (an export of some 200 KB)."""
    rng = random.Random(1)
    letters = "abcdefghijklmnopqrstuvwxyz输液泵"
    url = f"sqlite:///{tmp_path / 'ws.sqlite'}"
    assert formwright("upgrade", REPAIR, "--db", url)[0] == 0
    workspace = Workspace.open(url)
    add_department(workspace, "设备科", "eq")
    workspace.dispose()
    with open_workspace(url) as opened:
        rows = [
            {
                "asset_no": f"EQ-{n:05d}",
                "name": SECRET + "".join(rng.choice(letters) for _ in range(40)),
                "owner_dept": 1,
            }
            for n in range(3000)
        ]
        opened.app("equipment_repair").service.bulk_create("device", rows)
    return url


@contextlib.contextmanager
def full_disk(folder: Path, how: str, size: int):
    """A preexec for the command, with ``folder`` full past ``size`` bytes."""
    folder.mkdir()
    if how == "file-size-limit":
        yield functools.partial(_limit_file_size, size)
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs is not allowed here (the file-size-limit case runs)")
    try:
        yield None
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "lost+found")


@pytest.mark.parametrize("how", ["tmpfs", "file-size-limit"])
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_to_a_full_disk_is_one_line_and_leaves_nothing(devices, tmp_path, how, suffix):
    """The .xlsx export used to add a ZipFile.__del__ traceback to its error."""
    folder = tmp_path / "full"
    with full_disk(folder, how, FILE_LIMIT) as preexec:
        target = folder / f"devices{suffix}"
        code, _, err = formwright(
            "export", REPAIR, "--db", devices, "--form", "device", "-o", str(target),
            preexec=preexec,
        )  # fmt: skip
        line = assert_one_clean_line(code, err)
        assert "Exception ignored" not in err and line.startswith("formwright: ")
        assert _left_in(folder) == []


@pytest.mark.parametrize("how", ["tmpfs", "file-size-limit"])
@pytest.mark.parametrize("room", [FILE_LIMIT, "database"])
def test_backup_to_a_full_disk_is_one_line_and_leaves_no_journal(devices, tmp_path, how, room):
    """Room for a part of the copy, or for nearly all of it (its -wal/-shm were left)."""
    size = (tmp_path / "ws.sqlite").stat().st_size
    if room == "database":  # a tmpfs holds the -wal and -shm too; a size limit is per file
        size = (size // 4096 + 2) * 4096 if how == "tmpfs" else size - 4096
    else:
        size = FILE_LIMIT
    folder = tmp_path / "full"
    with full_disk(folder, how, size) as preexec:
        code, _, err = formwright(
            "backup", "-o", str(folder / "copy.sqlite"), "--db", devices, preexec=preexec
        )
        assert_one_clean_line(code, err)
        assert _left_in(folder) == []


def test_read_only_sqlite_database_is_one_line(devices, tmp_path):
    database = tmp_path / "ws.sqlite"
    database.chmod(0o444)
    preexec = _drop_file_override if os.geteuid() == 0 else None
    code, _, err = formwright("user", "add", "bob", "--admin", "--db", devices, preexec=preexec)
    line = assert_one_clean_line(code, err)
    assert "read-only" in line


def test_read_only_postgresql_database_is_one_line(postgres_url):
    assert formwright("upgrade", REPAIR, "--db", postgres_url)[0] == 0
    engine = sa.create_engine(postgres_url)
    name = engine.url.database
    with engine.connect() as connection:
        connection.execute(
            sa.text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        )
        connection.commit()
    engine.dispose()
    code, _, err = formwright("user", "add", SECRET, "--admin", "--db", postgres_url)
    line = assert_one_clean_line(code, err)
    assert "read-only" in line


def test_a_database_error_is_a_plain_sentence(db_url):
    """A damaged schema (a table renamed): the driver's text would show the SQL."""
    assert formwright("upgrade", REPAIR, "--db", db_url)[0] == 0
    engine = sa.create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE fw_users RENAME TO fw_users_gone"))
    engine.dispose()
    code, _, err = formwright("user", "add", SECRET, "--admin", "--db", db_url)
    assert_one_clean_line(code, err)
