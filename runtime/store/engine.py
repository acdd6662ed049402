"""Database engines: the local SQLite workspace (default) and shared PostgreSQL."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import sqlalchemy as sa

# Every workspace uses the SQLite dialect (the default database; backups and tests
# too): importing it with this module keeps ~8 ms of imports out of the first
# database open, which happens after the window starts to be built.
import sqlalchemy.dialects.sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from resources.messages import tr
from runtime.store.postgres import UrlOptionError, postgres_engine
from widgets.protected_files import protect_database

#: File systems that cannot hold SQLite's locks for every process that opens the
#: file: network and cluster file systems (other computers do not see the locks, or
#: see them late) and shares of virtual machines and WSL.
NETWORK_FILESYSTEMS = frozenset(
    {
        "cifs", "smb", "smb2", "smb3", "smbfs", "ncpfs", "afs", "coda", "9p", "virtiofs",
        "davfs", "sshfs", "ceph", "glusterfs", "lustre", "gpfs", "beegfs", "orangefs",
        "pvfs2", "panfs", "vboxsf", "vmhgfs", "prl_fs", "drvfs", "fuse",
    }
)  # fmt: skip
#: Type prefixes refused too: ``nfs``/``nfs4``, ``smb*``, and every FUSE file system
#: (``fuse.rclone``, ``fuse.sshfs``…), whose locks are only as good as its daemon.
#: ``fuseblk`` is a FUSE driver for a local disk (ntfs-3g, exfat-fuse): the kernel
#: keeps the locks of such a file system on this computer, so it is accepted.
NETWORK_PREFIXES = ("nfs", "smb", "fuse.")
MOUNTINFO = "/proc/self/mountinfo"

SQLITE_BUSY_TIMEOUT_MS = 15_000


class WorkspaceError(Exception):
    """A database that cannot be used; ``message`` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def default_workspace_path() -> Path:
    """The local workspace file in the user's data folder."""
    import platformdirs

    folder = Path(platformdirs.user_data_dir("Formwright", appauthor=False))
    return folder / "workspace.sqlite"


def default_workspace_url() -> str:
    return f"sqlite:///{default_workspace_path()}"


def describe_url(url: str) -> str:
    """A short, password-free description for status bars and messages."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite {parsed.database}" if parsed.database else tr("SQLite in memory")
    return f"PostgreSQL {parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"


def create_engine(url: str | None = None) -> Engine:
    """An engine for a workspace URL, configured for safe multi-user use."""
    url = url or default_workspace_url()
    try:
        parsed = make_url(url)
    except ArgumentError:
        text = tr(
            "'{url}' is not a database address; use sqlite:///path/to/file.sqlite "
            "or postgresql+psycopg://user@host/database"
        )
        raise WorkspaceError(text.format(url=url)) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        text = tr("unsupported database '{backend}': use SQLite or PostgreSQL")
        raise WorkspaceError(text.format(backend=backend))
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.drivername == "postgresql+psycopg":
            return postgres_engine(parsed)
        return sa.create_engine(parsed, pool_pre_ping=True)  # another driver: as it comes
    except UrlOptionError as error:
        raise WorkspaceError(str(error)) from None
    except ArgumentError as error:  # e.g. an unknown driver: postgresql+nodriver://
        text = tr("cannot use the database address '{url}': {error}")
        shown = parsed.render_as_string(hide_password=True)
        raise WorkspaceError(text.format(url=shown, error=error)) from None
    except OSError as error:  # the folder of a SQLite file cannot be created
        text = tr("cannot create the database folder: {error}")
        raise WorkspaceError(text.format(error=error)) from None


def _sqlite_engine(parsed) -> Engine:
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser().absolute()
        refuse_network_path(path)
        refuse_linked_database(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        protect_database(path)  # nothing else in this process may open its files
        parsed = parsed.set(database=str(path))
    engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    sa.event.listen(engine, "connect", _configure_sqlite_connection)
    sa.event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite_connection(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "PRAGMA synchronous=FULL",
    ):
        cursor.execute(pragma)
    cursor.close()


def _begin_immediate(connection) -> None:
    """Take the write lock at BEGIN, so two writers queue instead of deadlocking.

    With a deferred BEGIN, two transactions that both read and then write fail
    with "database is locked" regardless of the busy timeout. Pure readers opt out
    with ``connection.execution_options(read_only=True)`` and never block writers.
    """
    read_only = connection.get_execution_options().get("read_only", False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def refuse_network_path(path: Path) -> None:
    """SQLite on a network share or FUSE mount corrupts or loses locks: refuse it."""
    if is_network_path(path):
        text = tr(
            "{path} is on a network drive or a FUSE file system ({type}), which cannot hold "
            "SQLite's locks. A SQLite workspace must be on this computer's own disk; to share "
            "data between workstations, use a PostgreSQL database "
            "(--db postgresql+psycopg://user@server/database)."
        )
        raise WorkspaceError(text.format(path=path, type=filesystem_type(path) or "network"))


def refuse_linked_database(path: Path) -> None:
    """A database file with several names (hard links) gets a ``-wal`` per name, so
    two programs opening it by different names corrupt it: refuse it."""
    try:
        links = path.stat().st_nlink
    except OSError:  # a new database, or one SQLite will explain
        return
    if links > 1:
        text = tr(
            "{path} has {count} names (hard links to one file); SQLite can lose data when "
            "a database is opened by two names. Keep one name (delete the other links) "
            "or make a copy with 'formwright backup'."
        )
        raise WorkspaceError(text.format(path=path, count=links))


def is_lock_safe_filesystem(fs_type: str) -> bool:
    """Whether SQLite's locks hold on a file system of this type (a mountinfo type)."""
    fs_type = fs_type.lower()
    return fs_type not in NETWORK_FILESYSTEMS and not fs_type.startswith(NETWORK_PREFIXES)


def is_network_path(path: Path, mountinfo: str | None = None) -> bool:
    """Whether ``path`` is on a file system that cannot hold SQLite's locks."""
    if sys.platform == "win32":
        return _is_windows_network_path(path)
    fs_type = filesystem_type(path, mountinfo=mountinfo)
    return fs_type is not None and not is_lock_safe_filesystem(fs_type)


def read_mountinfo() -> str | None:
    """This process's mount table (Linux), or ``None`` where there is none."""
    for name in (MOUNTINFO, "/proc/mounts"):
        try:
            with open(name, encoding="utf-8", errors="surrogateescape") as handle:
                return handle.read()
        except OSError:
            continue
    return None


def filesystem_type(path: Path, mountinfo: str | None = None) -> str | None:
    """The type of the file system holding ``path``, from the longest matching mount.

    ``mountinfo`` is the text of ``/proc/self/mountinfo`` (or of ``/proc/mounts``);
    by default this process's own is read. ``None`` when it cannot be told.
    """
    text = read_mountinfo() if mountinfo is None else mountinfo
    if text is None:
        return None
    target = str(_existing_ancestor(path))
    best, best_type = "", None
    for line in text.splitlines():
        mount = _mount_entry(line)
        if mount is None:
            continue
        mount_point, fs_type = mount
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fs_type
    return best_type


_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


def _mount_entry(line: str) -> tuple[str, str] | None:
    """(mount point, type) of a mountinfo line (or a /proc/mounts line)."""
    fields = line.split(" ")
    if " - " in line:  # mountinfo: id parent dev root point options [tags] - type source
        head, tail = line.split(" - ", 1)
        fields, rest = head.split(" "), tail.split(" ")
        if len(fields) < 5 or not rest:
            return None
        point, fs_type = fields[4], rest[0]
    elif len(fields) >= 3:  # mounts: source point type options
        point, fs_type = fields[1], fields[2]
    else:
        return None
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), point), fs_type


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path.resolve()


def _is_windows_network_path(path: Path) -> bool:  # pragma: no cover - Windows only
    text = str(path)
    if text.startswith(("\\\\", "//")):
        return True
    if sys.platform != "win32":  # never (see is_network_path); tells mypy windll exists
        return False
    import ctypes

    drive = os.path.splitdrive(str(path.absolute()))[0] + "\\"
    drive_remote = 4
    return ctypes.windll.kernel32.GetDriveTypeW(drive) == drive_remote
