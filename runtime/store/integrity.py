"""A damaged SQLite file is noticed, refused for writing, and restored from a backup.

``PRAGMA quick_check`` runs when a workspace opens (in a background thread when the
file is large; the first write waits for its verdict) and again before a backup,
an upgrade and an import. A damaged workspace still opens for reading (so what is
left can be looked at and exported), but every write is refused with one line
that names the last backup and the command that restores it.

:func:`restore_sqlite` puts a backup in place of a workspace file: only when no
other program has the file open, atomically, keeping the damaged file (and its
``-wal``/``-shm``) aside. It never opens the workspace through SQLite.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import struct
import tempfile
import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from resources.messages import tr
from runtime.store.connection import driver_connection
from runtime.store.engine import WorkspaceError

#: Larger files are checked in a background thread (quick_check reads every page:
#: about a second per few hundred MB), smaller ones before ``open`` returns.
BACKGROUND_CHECK_BYTES = 32 * 1024 * 1024


class DamagedDatabase(WorkspaceError):
    """The SQLite file failed its check; writing to it would spread the damage."""


def quick_check(engine: Engine) -> str:
    """``""`` when SQLite's ``quick_check`` passes, else its first problem (one line).
    Always ``""`` on PostgreSQL (the server checks its own pages)."""
    if engine.dialect.name != "sqlite":
        return ""
    try:
        connection = engine.raw_connection()
    except Exception as error:
        return _one_line(error)
    try:
        rows = driver_connection(connection).execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as error:
        return _one_line(error)
    finally:
        connection.close()
    verdict = [str(row[0]) for row in rows]
    return "" if verdict == ["ok"] else _one_line(verdict[0])


def _one_line(problem: object) -> str:
    return " ".join(str(problem).split())[:300]


def database_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


class IntegrityWatch:
    """The verdict of one workspace's file check, maybe still being computed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._problem = ""
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Check now, or in the background when the file is large."""
        path = database_path(self.engine)
        if path is None:
            return
        try:
            size = path.stat().st_size
        except OSError:
            return
        if size > BACKGROUND_CHECK_BYTES:
            self._thread = threading.Thread(target=self._run, name="quick_check", daemon=True)
            self._thread.start()
        else:
            self._run()

    def _run(self) -> None:
        self._problem = quick_check(self.engine)

    def problem(self) -> str:
        """The problem found (waits for a background check to finish)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return self._problem

    def known_problem(self) -> str:
        """The problem found so far, without waiting for a background check."""
        if self._thread is not None and self._thread.is_alive():
            return ""
        return self.problem()

    def recheck(self) -> str:
        """Check again now (before a backup, upgrade or import)."""
        self.problem()
        self._run()
        return self._problem

    def refuse_if_known_damaged(self) -> None:
        problem = self.known_problem()
        if problem:
            raise damaged_error(self.engine, problem)

    def refuse_if_damaged(self) -> None:
        problem = self.problem()
        if problem:
            raise damaged_error(self.engine, problem)


def damaged_error(engine: Engine, problem: str) -> DamagedDatabase:
    """The one line shown when the file is damaged."""
    last = last_backup(engine)
    where = str(last) if last is not None else tr("no backup found")
    text = tr(
        "The database file is damaged: {problem}; restore the last backup ({backup}) "
        "with `formwright backup restore FILE --db {url}`"
    )
    url = f"sqlite:///{database_path(engine)}"
    return DamagedDatabase(text.format(problem=problem, backup=where, url=url))


# -- where the last backup is ----------------------------------------------


def _backup_notes() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("Formwright", appauthor=False)) / "last-backups.json"


def note_backup(engine: Engine, output: Path) -> None:
    """Remember ``output`` as the last backup of this workspace file."""
    path = database_path(engine)
    if path is None:
        return
    notes_path = _backup_notes()
    try:
        notes = json.loads(notes_path.read_text("utf-8"))
    except (OSError, ValueError):
        notes = {}
    notes[str(path)] = str(output)
    try:
        notes_path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=notes_path.parent, suffix=".part")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(notes, out, ensure_ascii=False, indent=1)
        os.replace(temporary, notes_path)
    except OSError:
        pass  # a note only: the backup itself is written


def last_backup(engine: Engine) -> Path | None:
    """The newest backup known of this workspace: the last one noted, or the newest
    in the folder upgrades back up into."""
    path = database_path(engine)
    if path is None:
        return None
    candidates: list[Path] = []
    try:
        noted = json.loads(_backup_notes().read_text("utf-8")).get(str(path))
        if noted and Path(noted).is_file():
            candidates.append(Path(noted))
    except (OSError, ValueError, AttributeError):
        pass
    folder = path.parent / "backups"
    if folder.is_dir():
        candidates.extend(p for p in folder.glob("*.sqlite") if p.stat().st_size > 0)
    if not candidates:
        return None
    return max(candidates, key=lambda p: p.stat().st_mtime)


# -- restore -----------------------------------------------------------------

#: SQLite's lock bytes (see its os_unix.c): a reader of a rollback-journal database
#: holds a shared lock on the SHARED range of the file; every connection of a WAL
#: database holds a shared lock on the DMS byte of the ``-shm`` file.
_PENDING_BYTE = 0x40000000
_SHARED_FIRST, _SHARED_SIZE = _PENDING_BYTE + 2, 510
_WAL_DMS_BYTE, _WAL_LOCK_END = 128, 136


def _held_by_other(path: Path, start: int, length: int) -> int | None:
    """The pid of another process holding a lock on bytes of ``path``, if any."""
    if not path.exists():
        return None
    descriptor = os.open(path, os.O_RDONLY)
    try:
        request = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
        answer = fcntl.fcntl(descriptor, fcntl.F_GETLK, request)
        kind, _, _, _, pid = struct.unpack("hhqqi", answer)
        return None if kind == fcntl.F_UNLCK else pid
    finally:
        os.close(descriptor)


def open_by(path: Path) -> int | None:
    """The pid of a process that has this SQLite database open (0 when it is
    another host's); ``None`` when none does."""
    shm = path.with_name(path.name + "-shm")
    for held in (
        _held_by_other(shm, 0, _WAL_LOCK_END),
        _held_by_other(path, _PENDING_BYTE, _SHARED_SIZE + 2),
    ):
        if held is not None:
            return held
    return None


def restore_sqlite(backup: Path, target: Path) -> Path:
    """Replace the workspace file ``target`` by ``backup``; returns where the old
    file was kept. Refused while another program has the workspace open."""
    backup, target = Path(backup).expanduser().absolute(), Path(target).expanduser().absolute()
    problem = _backup_problem(backup)
    if problem:
        text = tr("{path} cannot be restored: {problem}")
        raise WorkspaceError(text.format(path=backup, problem=problem))
    pid = open_by(target)
    if pid is not None:
        text = tr("the workspace {path} is open in another program (process {pid}); close it first")
        raise WorkspaceError(text.format(path=target, pid=pid))
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as out, backup.open("rb") as source:
            shutil.copyfileobj(source, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = target.with_name(f"{target.name}.damaged-{stamp}")
        if target.exists():
            os.link(target, aside)  # the damaged file stays, under another name
        for suffix in ("-wal", "-shm", "-journal"):  # never replayed into the backup
            companion = target.with_name(target.name + suffix)
            if companion.exists():
                os.replace(companion, aside.with_name(aside.name + suffix))
        os.replace(temporary, target)
        _sync_folder(target.parent)
    finally:
        temporary.unlink(missing_ok=True)
    return aside


def _backup_problem(backup: Path) -> str:
    if not backup.is_file():
        return tr("the file does not exist")
    try:
        connection = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        return _one_line(error)
    if verdict != "ok":
        return _one_line(verdict)
    if "fw_meta" not in tables:
        return tr("it is not a Formwright workspace")
    return ""


def _sync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
