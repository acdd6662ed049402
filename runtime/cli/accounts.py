"""``formwright user …`` and ``formwright org …``: accounts from the command line.

Passwords are never command-line arguments (they would end up in shell history
and process lists): they come from the environment variable
``FORMWRIGHT_PASSWORD`` or are typed at a prompt (twice for a new password).
The CLI acts as the workspace owner (whoever can open the database).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from runtime.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from runtime.cli.parsing import Commands, add_db_option, add_subcommands

PASSWORD_VARIABLE = "FORMWRIGHT_PASSWORD"
NO_PASSWORD_ARGUMENT = (
    "passwords are never taken as arguments; set the environment variable "
    f"{PASSWORD_VARIABLE} or type the password at the prompt"
)


class _RefusePassword(argparse.Action):
    """``--password`` exists only to explain why it is refused."""

    def __call__(self, parser, namespace, values, option_string=None):
        raise CliError(f"formwright: {NO_PASSWORD_ARGUMENT}", EXIT_USAGE)


def register(commands: Commands) -> None:
    """Add the ``user`` and ``org`` sub-commands to ``formwright``'s sub-parsers."""
    _register_user(commands)
    _register_org(commands)


def _register_user(commands: Commands) -> None:
    user = commands.add_parser("user", help="user accounts: add, passwd, list, roles …")
    user_commands = add_subcommands(user, "user_command")

    add = user_commands.add_parser(
        "add", help="create a user (the first one must be the administrator: --admin)"
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--display-name", metavar="TEXT")
    add.add_argument("--admin", action="store_true", help="an administrator (sees everything)")
    add.add_argument(
        "--department",
        metavar="CODE",
        action="append",
        default=[],
        help="a department code (repeat for several; the first is primary)",
    )
    _common(add, cmd_user_add)

    _add_on_one_user(user_commands, "passwd", "set a user's password", cmd_user_passwd)
    listing = user_commands.add_parser("list", help="list the users")
    _common(listing, cmd_user_list)
    _add_on_one_user(user_commands, "disable", "stop a user from logging in", cmd_user_disable)
    _add_on_one_user(user_commands, "enable", "let a disabled user log in again", cmd_user_enable)
    _add_on_one_user(user_commands, "unlock", "lift a lockout after failed logins", cmd_user_unlock)

    roles = user_commands.add_parser("roles", help="show, add or remove a user's roles")
    roles.add_argument("name", metavar="NAME")
    roles.add_argument("--app", metavar="APP", help="the app whose role to add or remove")
    change = roles.add_mutually_exclusive_group()
    change.add_argument("--add", metavar="ROLE")
    change.add_argument("--remove", metavar="ROLE")
    _common(roles, cmd_user_roles)


def _add_on_one_user(
    commands: Commands, name: str, help_text: str, handler: Callable[[argparse.Namespace], int]
) -> None:
    """A ``user`` sub-command whose only argument is the user's NAME."""
    parser = commands.add_parser(name, help=help_text)
    parser.add_argument("name", metavar="NAME")
    _common(parser, handler)


def _register_org(commands: Commands) -> None:
    org = commands.add_parser("org", help="departments: import from Excel, list")
    org_commands = add_subcommands(org, "org_command")
    org_import = org_commands.add_parser(
        "import", help="import departments and users from an .xlsx workbook"
    )
    org_import.add_argument("file", metavar="FILE.xlsx")
    org_import.add_argument("--dry-run", action="store_true", help="check only, change nothing")
    _common(org_import, cmd_org_import)

    org_list = org_commands.add_parser("list", help="show the department tree")
    _common(org_list, cmd_org_list)


def _common(parser: argparse.ArgumentParser, handler: Callable[[argparse.Namespace], int]) -> None:
    add_db_option(parser)
    parser.add_argument(
        "--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS, metavar=""
    )
    parser.set_defaults(handler=_guarded(handler))


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn account and workspace errors into one-line CLI errors."""

    def run(args: argparse.Namespace) -> int:
        from runtime.services.accounts.service import AccountError
        from runtime.store.engine import WorkspaceError

        try:
            return handler(args)
        except (AccountError, WorkspaceError) as error:
            raise CliError(f"formwright: {error.message}") from None

    run.__doc__ = handler.__doc__
    return run


@contextmanager
def _workspace(args: argparse.Namespace) -> Iterator:
    from runtime.store.workspace import Workspace

    workspace = Workspace.open(args.db)
    try:
        yield workspace
    finally:
        workspace.dispose()


def read_password(prompt: str, confirm: bool) -> str:
    """The password from ``FORMWRIGHT_PASSWORD`` or typed (twice when ``confirm``)."""
    from_environment = os.environ.get(PASSWORD_VARIABLE)
    if from_environment is not None:
        return from_environment
    if not sys.stdin.isatty():
        raise CliError(
            f"formwright: no terminal to type a password in; set {PASSWORD_VARIABLE} instead"
        )
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat the password: ") != first:
        raise CliError("formwright: the two passwords differ; nothing was changed")
    return first


# -- user ---------------------------------------------------------------------
def cmd_user_add(args: argparse.Namespace) -> int:
    from runtime.services.accounts.service import AccountService

    with _workspace(args) as workspace:
        accounts = AccountService(workspace)
        if not args.admin and not accounts.has_admin():
            # Before asking for a password that would be thrown away.
            raise CliError(
                "formwright: create the administrator first: "
                f"formwright user add NAME --admin{_db_hint(args)}"
            )
        password = read_password(f"Password for {args.name}: ", confirm=True)
        user = accounts.create_user(
            args.name,
            args.display_name,
            password=password,
            is_admin=args.admin,
            departments=args.department,
        )
    kind = "administrator" if user.is_admin else "user"
    print(f"created {kind} {user.username} ({user.display_name})")
    return EXIT_OK


def _db_hint(args: argparse.Namespace) -> str:
    return f" --db {args.db}" if args.db else ""


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from runtime.services.accounts.service import AccountService

    with _workspace(args) as workspace:
        accounts = AccountService(workspace)
        user = accounts.get_user(args.name)
        password = read_password(f"New password for {user.username}: ", confirm=True)
        accounts.set_password(user.username, password)
    print(f"password of {user.username} set")
    return EXIT_OK


def cmd_user_list(args: argparse.Namespace) -> int:
    from runtime.services.accounts.service import AccountService, user_roles
    from runtime.services.org.service import OrgDirectory, memberships
    from runtime.store.audit import utc_now

    with _workspace(args) as workspace:
        users = AccountService(workspace).list_users()
        with workspace.reader() as connection:
            directory = OrgDirectory.load(connection)
            departments = {user.id: memberships(connection, user.id)[0] for user in users}
            roles = {user.id: user_roles(connection, user.id) for user in users}
    if not users:
        print(
            f"no users yet; create the administrator: formwright user add NAME --admin{_db_hint(args)}"
        )
        return EXIT_OK
    now = utc_now()
    for user in users:
        flags = []
        if user.is_admin:
            flags.append("admin")
        if not user.active:
            flags.append("disabled")
        if user.locked(now):
            flags.append(f"locked until {user.locked_until:%Y-%m-%d %H:%M} UTC")
        if not user.has_password:
            flags.append("no password")
        codes = [
            (directory.get(i).code or directory.get(i).name)  # type: ignore[union-attr]
            for i in departments[user.id]
            if directory.get(i) is not None
        ]
        role_text = " ".join(
            f"{app}:{role}" for app, keys in sorted(roles[user.id].items()) for role in sorted(keys)
        )
        parts = [user.username, user.display_name]
        if codes:
            parts.append("departments " + ",".join(codes))
        if role_text:
            parts.append("roles " + role_text)
        if flags:
            parts.append("[" + ", ".join(flags) + "]")
        print("  ".join(parts))
    return EXIT_OK


def cmd_user_disable(args: argparse.Namespace) -> int:
    from runtime.services.accounts.service import AccountService

    with _workspace(args) as workspace:
        AccountService(workspace).disable_user(args.name)
    print(f"{args.name} can no longer log in")
    return EXIT_OK


def cmd_user_enable(args: argparse.Namespace) -> int:
    from runtime.services.accounts.service import AccountService

    with _workspace(args) as workspace:
        AccountService(workspace).enable_user(args.name)
    print(f"{args.name} can log in again")
    return EXIT_OK


def cmd_user_unlock(args: argparse.Namespace) -> int:
    from runtime.services.accounts.service import AccountService

    with _workspace(args) as workspace:
        was_locked = AccountService(workspace).unlock(args.name)
    print(f"{args.name} unlocked" if was_locked else f"{args.name} was not locked")
    return EXIT_OK


def cmd_user_roles(args: argparse.Namespace) -> int:
    from runtime.services.accounts.service import AccountService

    change = args.add or args.remove
    if change and not args.app:
        raise CliError("formwright user roles: --add and --remove need --app APP", EXIT_USAGE)
    if args.app and not change:
        raise CliError("formwright user roles: --app needs --add ROLE or --remove ROLE", EXIT_USAGE)
    with _workspace(args) as workspace:
        accounts = AccountService(workspace)
        if args.add:
            done = accounts.assign_role(args.name, args.app, args.add)
            print(
                f"{args.name} {'now has' if done else 'already had'} the role {args.app}:{args.add}"
            )
        elif args.remove:
            done = accounts.remove_role(args.name, args.app, args.remove)
            print(
                f"{args.name} {'no longer has' if done else 'did not have'} the role {args.app}:{args.remove}"
            )
        roles = accounts.roles_of(args.name)
    if not change:
        if not roles:
            print(f"{args.name} has no roles")
        for app_id, keys in sorted(roles.items()):
            for key in sorted(keys):
                print(f"{app_id}:{key}")
    return EXIT_OK


# -- org ----------------------------------------------------------------------
def cmd_org_import(args: argparse.Namespace) -> int:
    from runtime.services.org.service import OrgImportError, OrgService

    with _workspace(args) as workspace:
        try:
            result = OrgService(workspace).import_xlsx(args.file, dry_run=args.dry_run)
        except OrgImportError as error:
            for problem in error.problems:
                print(f"{args.file}: {problem}", file=sys.stderr)
            count = len(error.problems)
            raise CliError(
                f"formwright: {count} problem{'s' if count != 1 else ''} found; nothing was imported"
            ) from None
    for line in result.lines():
        print(line)
    return EXIT_OK


def cmd_org_list(args: argparse.Namespace) -> int:
    from runtime.services.accounts.service import AccountService
    from runtime.services.org.service import OrgService

    with _workspace(args) as workspace:
        directory = OrgService(workspace).directory()
        heads = {d.head_user_id for d in directory if d.head_user_id is not None}
        head_names = AccountService(workspace).usernames(heads) if heads else {}
    if not len(directory):
        print("no departments yet; import them with formwright org import FILE.xlsx")
        return EXIT_OK

    def show(department, depth: int) -> None:
        head = head_names.get(department.head_user_id)
        extra = f"  head {head}" if head else ""
        print(f"{'  ' * depth}{department.code or '-'}  {department.name}{extra}")
        for child in directory.children(department.id):
            show(child, depth + 1)

    for root in sorted(directory.roots(), key=lambda d: (d.name, d.id)):
        show(root, 0)
    return EXIT_OK
