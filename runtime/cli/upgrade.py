"""``formwright upgrade PACKAGE [--dry-run]``: install an app or upgrade it, keeping data."""

from __future__ import annotations

import argparse

from runtime.cli.errors import EXIT_OK, CliError
from runtime.cli.parsing import Commands, add_db_option


def register(commands: Commands) -> None:
    """Add the ``upgrade`` sub-command."""
    upgrade = commands.add_parser("upgrade", help="install an app or upgrade it, keeping data")
    upgrade.add_argument("package", metavar="PACKAGE")
    add_db_option(upgrade)
    upgrade.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    upgrade.set_defaults(handler=cmd_upgrade)


def cmd_upgrade(args: argparse.Namespace) -> int:
    """Install an app, or show (--dry-run) / apply the upgrade plan."""
    from runtime.api import open_workspace

    with open_workspace(args.db) as workspace:
        plan = workspace.upgrade(args.package, dry_run=args.dry_run)
    for line in plan.describe():
        print(line)
    if plan.blockers:
        raise CliError("formwright: the upgrade cannot run; nothing was changed")
    if plan.backup_path is not None:
        print(f"backup written to {plan.backup_path}")
    if args.dry_run:
        print("dry run: nothing was changed")
    elif plan.is_install:
        print(f"installed {plan.app_id} version {plan.to_version}")
    else:
        print(f"upgraded {plan.app_id} to version {plan.to_version}")
    return EXIT_OK
