"""Which SQLite locks a process holds (Linux /proc/locks), and another process's look.

On Linux SQLite's locks are POSIX advisory locks of the process; closing any
descriptor of a database file drops them all (see widgets.protected_files).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def database_files(database: Path) -> list[Path]:
    return [Path(f"{database}{suffix}") for suffix in SQLITE_SUFFIXES]


def locks_held(pid: int, database: Path) -> int:
    """How many POSIX locks ``pid`` holds on the database's files (/proc/locks)."""
    inodes = set()
    for path in database_files(database):
        try:
            inodes.add(path.stat().st_ino)
        except FileNotFoundError:
            continue
    count = 0
    for line in Path("/proc/locks").read_text().splitlines():
        fields = [field for field in line.split() if field != "->"]  # "->": a waiting lock
        if len(fields) < 6 or fields[1] != "POSIX" or int(fields[4]) != pid:
            continue
        if int(fields[5].rsplit(":", 1)[1]) in inodes:
            count += 1
    return count


def other_process(database: Path, sql: str = "SELECT count(*) FROM sqlite_master") -> str:
    """Open the database in another process with sqlite3, run ``sql``, close."""
    script = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "print(c.execute(sys.argv[2]).fetchone()[0])\n"
        "c.close()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(database), sql],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.strip()
