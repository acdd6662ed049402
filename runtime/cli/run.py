"""``formwright run PACKAGE [--db URL]``: open the runtime for one app package.

Qt is imported only when the command runs, so the other commands start without
PySide6. Start-up errors are shown as dialogs by the app controller; the
command then exits with status 1.
"""

from __future__ import annotations

import argparse

from runtime.cli.parsing import Commands, add_db_option


def register(commands: Commands) -> None:
    """Add the ``run`` sub-command."""
    run = commands.add_parser("run", help="open the runtime for an app package")
    run.add_argument("package", metavar="PACKAGE", help="a .fwapp file or a package folder")
    add_db_option(run)
    run.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from runtime.ui.app import main as run_app

    return run_app(args.package, args.db)
