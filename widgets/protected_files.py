"""Files this process must never open itself: the files of its open SQLite databases.

On Linux (POSIX advisory locks) SQLite's locks belong to the process, and closing
*any* descriptor of a database file drops all of them — whatever opened it: a file
dialog guessing a file's type, an attachment read, an import source, an export or
backup written over it. Another process then thinks the database is unused, deletes
its ``-wal`` and ``-shm`` files, and saves made afterwards are lost. So every engine
on a SQLite file registers it here (``runtime.store.engine``) and every path that
opens a file the user chose asks :func:`is_database_file` first; file dialogs hide
these files (``widgets.editors.file_dialogs``).

Qt-free, and low in the layers (widgets ← runtime ← designer) so that the editors in
``widgets/`` can ask too. Checking never opens a file: it compares names and
``os.stat`` identities (device, inode), so hard links and symbolic links are caught.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from resources.messages import tr

#: The files of a SQLite database: the main file, its write-ahead log, its shared
#: memory index and its rollback journal (SQLite names them by these suffixes).
SQLITE_FILE_SUFFIXES = ("", "-wal", "-shm", "-journal")

_databases: set[str] = set()
_guard = threading.Lock()


def protect_database(path: str | os.PathLike[str]) -> None:
    """Register the main file of a SQLite database this process opens (for the life
    of the process: a closed workspace's files are no attachment either)."""
    with _guard:
        _databases.add(os.path.normcase(os.path.realpath(os.path.abspath(path))))


def protected_files() -> list[Path]:
    """Every file name of every registered database (existing or not)."""
    with _guard:
        databases = sorted(_databases)
    return [Path(main + suffix) for main in databases for suffix in SQLITE_FILE_SUFFIXES]


def is_database_file(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` names (or links to) a file of a database this process has open.

    Never opens ``path`` or the database's files: only their names and ``os.stat``.
    """
    try:
        name = os.path.normcase(os.path.realpath(os.path.abspath(path)))
    except (OSError, ValueError):
        return False
    files = protected_files()
    if any(name == str(file) for file in files):
        return True
    identity = _identity(path)
    return identity is not None and any(identity == _identity(file) for file in files)


def database_file_message(path: str | os.PathLike[str]) -> str:
    """The one line shown when a user chose one of the database's files."""
    text = tr(
        "'{name}' is a file of the open database: it can't be used here "
        "(opening it could lose saved records); choose another file"
    )
    return text.format(name=Path(path).name)


def refuse_database_file(
    path: str | os.PathLike[str], error: Callable[[str], Exception], writing: bool = False
) -> None:
    """Raise ``error(message)`` if ``path`` is a file of a database this process has
    open (before any code opens ``path``); when ``writing`` (a target that will be
    written or replaced), also if it is a file of a SQLite database another process
    has open (a template or backup written over a running app's database)."""
    if is_database_file(path) or (writing and in_use_by_another_process(path)):
        raise error(database_file_message(path))


def in_use_by_another_process(path: str | os.PathLike[str], locks: str = "/proc/locks") -> bool:
    """Linux: some process holds a lock on a file of the SQLite database ``path``
    belongs to (a WAL database's every connection holds one on ``-shm``). Reads
    /proc/locks, never the files; False where there is no /proc/locks."""
    base = os.fspath(path)
    for suffix in SQLITE_FILE_SUFFIXES[1:]:
        base = base.removesuffix(suffix)
    identities = (_identity(base + suffix) for suffix in SQLITE_FILE_SUFFIXES)
    files = {identity for identity in identities if identity is not None}
    if not files:
        return False
    wanted = {(os.major(dev), os.minor(dev), inode) for dev, inode in files}
    try:
        with open(locks, encoding="ascii", errors="replace") as table:
            lines = table.read().splitlines()
    except OSError:
        return False
    return any(_locked_file(line) in wanted for line in lines)


def _locked_file(line: str) -> tuple[int, int, int] | None:
    """(major, minor, inode) of a /proc/locks line ("1: POSIX ADVISORY READ 42 fe:00:123 …")."""
    fields = [field for field in line.split() if field != "->"]  # "->": a waiting lock
    try:
        major, minor, inode = fields[5].split(":")
        return int(major, 16), int(minor, 16), int(inode)
    except (IndexError, ValueError):
        return None


def _identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return found.st_dev, found.st_ino
