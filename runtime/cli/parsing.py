"""The argument parsing every ``formwright`` command shares: a parser whose usage
errors are one line (exit 2), nested sub-commands, the ``--db`` option."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from runtime.cli.errors import EXIT_USAGE, CliError

if TYPE_CHECKING:
    #: What ``register(commands)`` receives: the sub-parsers to add commands to.
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Commands = Any

DB_HELP = "sqlite:///FILE or postgresql+psycopg://USER@HOST/DB (default: local workspace)"


class CommandParser(argparse.ArgumentParser):
    """argparse that exits 2 with one line instead of printing usage noise."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{self.prog}: {message} (see --help)", EXIT_USAGE)


def add_subcommands(parser: argparse.ArgumentParser, dest: str) -> Commands:
    """Sub-commands of ``parser`` (one of them required), named in ``args.<dest>``."""
    return parser.add_subparsers(dest=dest, required=True, parser_class=CommandParser)


def add_db_option(
    parser: argparse.ArgumentParser, *, required: bool = False, help: str = DB_HELP
) -> None:
    """The ``--db URL`` option: which workspace database the command works on."""
    parser.add_argument("--db", metavar="URL", required=required, help=help)
