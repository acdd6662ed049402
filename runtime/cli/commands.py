"""The one list of ``formwright``'s command modules: adding a command is adding a
module with a ``register(commands)`` function and naming it here.

``register`` receives the top-level sub-parsers (:data:`runtime.cli.parsing.Commands`),
adds its sub-command(s) and sets each one's ``handler`` (``args -> exit status``).
Modules are named as text and imported here, so the designer's ``design`` command
joins the same way although the runtime must not import the designer (the layers
go the other way). Every command module imports Qt and its heavy dependencies only
inside its handlers, so ``formwright check`` and the others start without PySide6.
"""

from __future__ import annotations

import importlib

from runtime.cli.parsing import Commands

#: In the order ``formwright --help`` lists their commands.
COMMAND_MODULES = (
    "runtime.cli.package",  # check, pack, unpack
    "runtime.cli.upgrade",  # upgrade
    "runtime.cli.audit",  # audit verify | checkpoint
    "runtime.cli.backup",  # backup [restore FILE]
    "runtime.cli.database",  # db grant-runtime
    "runtime.cli.accounts",  # user …, org …
    "runtime.cli.excel",  # export, import, imports …, template
    "runtime.cli.run",  # run
    "designer.cli",  # design
)


def register_commands(commands: Commands) -> None:
    """Let every module of :data:`COMMAND_MODULES` add its commands, in order."""
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
