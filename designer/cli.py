"""``formwright design [PACKAGE]``: the designer's sub-command.

It is one of ``runtime.cli.commands.COMMAND_MODULES``, imported there by name: the
layers contract (designer → runtime → widgets) forbids runtime importing the
designer, and this module stays free of Qt at import so ``formwright check`` and
the other commands start without loading PySide6.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from runtime.cli.errors import EXIT_OK
from runtime.cli.parsing import Commands


def register(commands: Commands) -> None:
    """Add the ``design`` sub-command to ``formwright``'s sub-parsers."""
    design = commands.add_parser("design", help="open the designer (a new app if none)")
    design.add_argument("package", nargs="?", metavar="PACKAGE")
    design.add_argument("--no-exec", action="store_true", help=argparse.SUPPRESS)
    design.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    """Open the designer window; ``--no-exec`` (tests) returns without the event loop."""
    from designer.main_window import run_designer

    package = Path(args.package) if args.package else None
    if package is not None and not package.exists():
        raise FileNotFoundError(f"there is no package at {package}")
    window = run_designer(package, exec_loop=not args.no_exec)
    main.last_window = window  # type: ignore[attr-defined]  (tests look at it)
    return EXIT_OK
