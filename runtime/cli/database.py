"""``formwright db grant-runtime``: database set-up (PostgreSQL roles)."""

from __future__ import annotations

import argparse

from runtime.cli.errors import EXIT_OK
from runtime.cli.parsing import Commands, add_db_option, add_subcommands


def register(commands: Commands) -> None:
    """Add the ``db`` sub-command and its ``grant-runtime``."""
    database = commands.add_parser("db", help="database set-up (PostgreSQL roles)")
    db_commands = add_subcommands(database, "db_command")
    grant = db_commands.add_parser(
        "grant-runtime",
        help="grant a role what workstations need; the audit log stays insert-only for it",
    )
    add_db_option(grant, required=True)
    grant.add_argument("--role", metavar="NAME", required=True)
    grant.set_defaults(handler=cmd_db_grant_runtime)


def cmd_db_grant_runtime(args: argparse.Namespace) -> int:
    """PostgreSQL: let ``--role`` work as the runtime, the audit log insert-only for it."""
    from runtime.api import open_workspace
    from runtime.store.roles import grant_runtime

    with open_workspace(args.db) as handle, handle.workspace.engine.begin() as connection:
        grant_runtime(connection, args.role)
    print(
        f"granted {args.role}: records read/write, audit log SELECT and INSERT only; "
        "workstations connect as this role, upgrades run as the tables' owner"
    )
    return EXIT_OK
