"""Backups: a consistent copy of a workspace, checked before it is trusted."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from resources.messages import tr
from runtime.store.audit_verify import checkpoint_path_beside, write_checkpoint
from runtime.store.connection import driver_connection
from runtime.store.engine import WorkspaceError
from runtime.store.integrity import damaged_error, note_backup, quick_check
from widgets.protected_files import refuse_database_file


def backup(engine: Engine, output: Path) -> Path:
    """Write a backup of the workspace to ``output`` (atomically) and return it."""
    output = Path(output).expanduser().absolute()
    refuse_database_file(output, WorkspaceError, writing=True)  # never replace a database in use
    problem = quick_check(engine)  # a damaged file is not copied over a good backup
    if problem:
        raise damaged_error(engine, problem)
    output.parent.mkdir(parents=True, exist_ok=True)
    point = _checkpoint(engine)
    if engine.dialect.name == "sqlite":
        written = _backup_sqlite(engine, output)
    else:
        written = _backup_postgresql(engine, output)
    if point is not None:
        write_checkpoint(point, checkpoint_path_beside(written))
    note_backup(engine, written)
    return written


def _checkpoint(engine: Engine):
    """The audit log's checkpoint taken just before the copy: the copy holds at
    least these rows (written beside the backup, see runtime.store.audit_verify)."""
    from runtime.store.audit_verify import make_checkpoint

    with engine.connect().execution_options(read_only=True) as connection:
        try:
            return make_checkpoint(connection)
        except WorkspaceError:  # not a workspace (yet): nothing to anchor
            return None


def default_backup_path(engine: Engine, folder: Path) -> Path:
    """A new, reserved file in ``folder`` named after the database and the time:
    ``workspace-20261126-101500.sqlite``, ``<database>-20261126-101500.dump``.

    The name is claimed by creating the (empty) file, so two backups in the same
    second (several workstations upgrading one PostgreSQL database, each into its
    user's folder, or a retried upgrade) get ``-2``, ``-3``… and never overwrite
    each other.
    """
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if engine.dialect.name == "sqlite":
        stem, suffix = "workspace", ".sqlite"
    else:
        stem, suffix = engine.url.database or "postgres", ".dump"
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, 1000):
        name = f"{stem}-{stamp}{'' if number == 1 else f'-{number}'}{suffix}"
        try:
            os.close(os.open(folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            continue
        return folder / name
    raise WorkspaceError(tr("no free backup file name in {folder}").format(folder=folder))


def upgrade_backup_folder(engine: Engine) -> Path | None:
    """Where backups taken before an upgrade go: beside a SQLite file, else the
    user's data folder; ``None`` for a database with no file (in memory)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        return Path(url.database).parent / "backups"
    import platformdirs

    return Path(platformdirs.user_data_dir("Formwright", appauthor=False)) / "backups"


def automatic_backup_folder(engine: Engine) -> Path | None:
    """Where :func:`backup_before_upgrade` writes, or ``None`` when it can write
    nothing here (a database in memory, or PostgreSQL without pg_dump)."""
    folder = upgrade_backup_folder(engine)
    if engine.dialect.name != "sqlite" and shutil.which("pg_dump") is None:
        return None
    return folder


def backup_before_upgrade(engine: Engine) -> Path | None:
    """The automatic backup before a migration; ``None`` when none can be made here
    (see :func:`automatic_backup_folder`) — the migration still runs in one
    transaction, so a failure rolls everything back."""
    folder = automatic_backup_folder(engine)
    if folder is None:
        return None
    output = default_backup_path(engine, folder)
    try:
        return backup(engine, output)
    except BaseException:
        output.unlink(missing_ok=True)  # the empty file that reserved the name
        raise


def _temporary_beside(output: Path) -> Path:
    """A new file of our own next to ``output``, renamed over it when complete
    (unique, so two backups to one name never write into each other's copy)."""
    handle, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    os.close(handle)
    return Path(name)


def _backup_sqlite(engine: Engine, output: Path) -> Path:
    """SQLite's online backup API: a consistent copy while others keep working."""
    temporary = _temporary_beside(output)  # empty: SQLite takes it as a new database
    try:
        with engine.connect() as connection:
            source = driver_connection(connection.connection)
            target = sqlite3.connect(temporary)
            try:
                source.backup(target)
                verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                target.close()
        if verdict != "ok":
            text = tr("the backup copy failed its integrity check: {verdict}")
            raise WorkspaceError(text.format(verdict=verdict))
        os.replace(temporary, output)
    finally:  # the copy and what SQLite left beside it when the disk filled
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{temporary}{suffix}").unlink(missing_ok=True)
    return output


def _backup_postgresql(engine: Engine, output: Path) -> Path:
    """pg_dump in custom format; a clear message when it is not installed."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise WorkspaceError(
            tr(
                "pg_dump was not found: install the PostgreSQL client tools "
                "(Debian: apt install postgresql-client) or back up on the database server"
            )
        )
    url = engine.url
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = url.password
    temporary = _temporary_beside(output)
    command = [
        pg_dump,
        "--format=custom",
        f"--file={temporary}",
        "--no-owner",
        f"--host={url.host or 'localhost'}",
        f"--port={url.port or 5432}",
        f"--username={url.username or 'postgres'}",
        url.database or "postgres",
    ]
    try:
        result = subprocess.run(command, env=environment, capture_output=True, text=True)
        if result.returncode != 0:
            text = tr("pg_dump failed: {error}")
            raise WorkspaceError(text.format(error=result.stderr.strip().splitlines()[-1:]))
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)
    return output
