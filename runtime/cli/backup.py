"""``formwright backup -o FILE`` and ``formwright backup restore FILE``."""

from __future__ import annotations

import argparse
from pathlib import Path

from runtime.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from runtime.cli.parsing import Commands, add_db_option


def register(commands: Commands) -> None:
    """Add the ``backup`` sub-command (``restore FILE`` is its optional action)."""
    backup = commands.add_parser(
        "backup",
        help="write a consistent copy of the database (-o FILE), or restore one (restore FILE)",
    )
    add_db_option(backup)
    backup.add_argument("action", nargs="?", choices=["restore"], help="restore FILE")
    backup.add_argument("file", nargs="?", metavar="FILE", help="the backup to restore")
    backup.add_argument("-o", "--output", metavar="FILE")
    backup.set_defaults(handler=cmd_backup)


def cmd_backup(args: argparse.Namespace) -> int:
    if args.action == "restore":
        return _restore(args)
    if args.file or not args.output:
        raise CliError(
            "formwright backup: give -o FILE, or `restore FILE` (see --help)", EXIT_USAGE
        )
    from runtime.api import open_workspace

    with open_workspace(args.db) as workspace:
        path = workspace.backup(args.output)
    print(f"backup written to {path}")
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    """Put a backup in place of a SQLite workspace file, never opening the workspace
    (see runtime.store.integrity.restore_sqlite)."""
    from sqlalchemy.engine import make_url

    from runtime.store.engine import default_workspace_path
    from runtime.store.integrity import restore_sqlite

    if not args.file:
        raise CliError("formwright backup restore: name the backup FILE (see --help)", EXIT_USAGE)
    url = make_url(args.db) if args.db else None
    if url is not None and url.get_backend_name() != "sqlite":
        raise CliError(
            "formwright: restore a PostgreSQL backup (.dump) with "
            "`pg_restore --clean --if-exists --dbname DATABASE FILE` as the tables' owner"
        )
    target = Path(url.database) if url is not None and url.database else default_workspace_path()
    aside = restore_sqlite(Path(args.file), target)
    print(f"restored {target} from {args.file}; the previous file was kept as {aside}")
    return EXIT_OK
