"""The ``formwright`` command.

Errors are one clear line on stderr and a non-zero exit, never a traceback
(:mod:`runtime.cli.errors`). The commands live in the modules listed in
:data:`runtime.cli.commands.COMMAND_MODULES`, each adding its own through
``register(commands)``; :mod:`runtime.cli.parsing` holds what they share.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from runtime.cli.commands import register_commands
from runtime.cli.errors import run_reporting_errors
from runtime.cli.parsing import CommandParser, add_subcommands

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="formwright", description="Formwright: forms, lists, roles, Excel.")
    register_commands(add_subcommands(parser, "command"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""

    def run_command() -> int:
        args = build_parser().parse_args(argv)
        return args.handler(args)

    return run_reporting_errors(run_command)
