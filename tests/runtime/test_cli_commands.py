"""The one way ``formwright`` gets its commands: every command module under
``runtime/cli/`` (and ``designer.cli``) is named once in ``COMMAND_MODULES`` and
adds its commands through ``register(commands)``; ``--help`` lists them all."""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.cli import build_parser, main
from runtime.cli.commands import COMMAND_MODULES
from runtime.cli.parsing import CommandParser, add_subcommands

ROOT = Path(__file__).resolve().parents[2]
CLI_FOLDER = ROOT / "runtime" / "cli"
#: The modules of the package that add no command: what the commands share.
SHARED_MODULES = {"__init__", "__main__", "commands", "errors", "parsing"}


def _syntax(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _defines_register(path: Path) -> bool:
    """Read, not imported: ``__main__`` would run the command."""
    return any(
        isinstance(node, ast.FunctionDef) and node.name == "register" for node in _syntax(path).body
    )


def _commands_of(module_name: str) -> list[str]:
    """The top-level commands ``module_name``'s ``register`` adds, in order."""
    commands = add_subcommands(CommandParser(prog="formwright"), "command")
    importlib.import_module(module_name).register(commands)
    return list(commands.choices)


def _listed_commands(help_text: str) -> list[str]:
    """The commands in the ``{check,pack,…}`` choice of ``formwright --help``."""
    choice = help_text[help_text.index("{") + 1 : help_text.index("}")]
    return choice.split(",")


def _leaf_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """``(command words, parser)`` of every command that takes no further sub-command."""
    nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not nested:
        yield path, parser
    for action in nested:
        for name, child in action.choices.items():
            yield from _leaf_parsers(child, (*path, name))


def test_every_command_module_is_named_exactly_once():
    in_package = {
        f"runtime.cli.{path.stem}"
        for path in CLI_FOLDER.glob("*.py")
        if path.stem not in SHARED_MODULES
    }
    assert len(COMMAND_MODULES) == len(set(COMMAND_MODULES))
    assert set(COMMAND_MODULES) == in_package | {"designer.cli"}


def test_only_command_modules_define_register():
    registering = {path.stem for path in CLI_FOLDER.glob("*.py") if _defines_register(path)}
    assert registering == {path.stem for path in CLI_FOLDER.glob("*.py")} - SHARED_MODULES
    assert _defines_register(ROOT / "designer" / "cli.py")


def test_help_lists_every_command_of_every_module_in_order(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    by_module = [_commands_of(name) for name in COMMAND_MODULES]
    assert all(by_module), "a command module that adds no command"
    expected = [command for commands in by_module for command in commands]
    assert len(expected) == len(set(expected)), "two modules add the same command"
    assert _listed_commands(capsys.readouterr().out) == expected


def test_every_command_has_a_handler():
    leaves = list(_leaf_parsers(build_parser()))
    assert len(leaves) >= 24
    for words, parser in leaves:
        assert callable(parser.get_default("handler")), " ".join(words)


def test_cli_error_is_defined_once_and_imported_normally():
    """No command module reaches the error class through ``sys.modules``."""
    sources = [*CLI_FOLDER.glob("*.py"), ROOT / "designer" / "cli.py"]
    definers = []
    for path in sources:
        tree = _syntax(path)
        definers += [
            path.name
            for node in tree.body
            if isinstance(node, ast.ClassDef) and "Error" in node.name
        ]
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert "modules" not in attributes, path.name
        assert "_cli" not in names, path.name
    assert definers == ["errors.py"]


def test_the_whole_parser_builds_without_qt():
    """``formwright check`` and the others, ``design`` and ``run`` included, register
    without PySide6: Qt is imported only when those two commands run."""
    code = (
        "import sys; sys.modules['PySide6'] = None; sys.modules['qtawesome'] = None\n"
        "from runtime.cli import build_parser\n"
        "build_parser().parse_args(['check', 'x'])\n"
        "assert not any(name.startswith(('PySide6.', 'runtime.ui', 'designer.main')) "
        "for name in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
