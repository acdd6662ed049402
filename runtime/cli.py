"""The ``formwright`` command.

Errors are one clear line on stderr and a non-zero exit, never a traceback:
exit 0 success, 1 invalid input or failed work, 2 usage errors.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

#: Modules that add their own sub-commands through ``register(commands)``. Named as
#: text because the runtime must not import the designer (the layers go the other
#: way); the designer's module only wires ``formwright design`` to its window.
COMMAND_MODULES = ("runtime.cli_accounts", "runtime.cli_excel", "runtime.cli_run", "designer.cli")


class CliError(Exception):
    """A failure to report as one line; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line instead of printing usage noise."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{self.prog}: {message} (see --help)", EXIT_USAGE)


def cmd_check(args: argparse.Namespace) -> int:
    """Validate packages: one line per problem, a summary line per valid package."""
    from runtime.package import PackageError, read_package
    from runtime.spec import SpecError, parse_app_spec
    from runtime.spec.formula_inputs import formula_grant_warnings

    status = EXIT_OK
    for package in args.packages:
        try:
            spec = parse_app_spec(read_package(package).app_json)
        except PackageError as error:
            print(f"{package}: {error.message}", file=sys.stderr)
            status = EXIT_INVALID
        except SpecError as error:
            for problem in error.problems:
                print(f"{package}: {problem.path or '(app)'}: {problem.message}", file=sys.stderr)
            status = EXIT_INVALID
        else:
            fields = sum(len(form.fields) for form in spec.forms)
            print(
                f"{package}: valid — {spec.title} v{spec.version}, "
                f"{len(spec.forms)} forms, {fields} fields"
            )
            # Warnings do not make a package invalid: the exit code stays.
            for problem in formula_grant_warnings(spec):
                print(
                    f"{package}: {problem.level}: {problem.path}: {problem.message}",
                    file=sys.stderr,
                )
    return status


def cmd_pack(args: argparse.Namespace) -> int:
    from runtime.package import pack

    output = pack(Path(args.folder), Path(args.output) if args.output else None)
    print(f"packed {output}")
    return EXIT_OK


def cmd_unpack(args: argparse.Namespace) -> int:
    from runtime.package import unpack

    folder = unpack(Path(args.package), Path(args.output))
    print(f"unpacked into {folder}")
    return EXIT_OK


def _open(args: argparse.Namespace):
    from runtime.api import open_workspace

    return open_workspace(args.db)


def cmd_upgrade(args: argparse.Namespace) -> int:
    """Install an app, or show (--dry-run) / apply the upgrade plan."""
    with _open(args) as workspace:
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


def cmd_audit_verify(args: argparse.Namespace) -> int:
    with _open(args) as workspace:
        report = workspace.verify_audit()
    if report.ok:
        print(f"audit log intact: {report.rows} rows")
        return EXIT_OK
    raise CliError(
        f"audit log broken at row {report.broken_id}: {report.reason} "
        f"({report.rows} rows before it are intact)"
    )


def cmd_backup(args: argparse.Namespace) -> int:
    with _open(args) as workspace:
        path = workspace.backup(args.output)
    print(f"backup written to {path}")
    return EXIT_OK


def _add_db(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        required=required,
        help="sqlite:///FILE or postgresql+psycopg://USER@HOST/DB (default: local workspace)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="formwright", description="Formwright: forms, lists, roles, Excel.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = commands.add_parser("check", help="validate app packages")
    check.add_argument("packages", nargs="+", metavar="PACKAGE")
    check.set_defaults(handler=cmd_check)

    pack = commands.add_parser("pack", help="zip a package folder into a .fwapp file")
    pack.add_argument("folder", metavar="FOLDER")
    pack.add_argument("-o", "--output", metavar="FILE.fwapp")
    pack.set_defaults(handler=cmd_pack)

    unpack = commands.add_parser("unpack", help="unzip a .fwapp file into a folder")
    unpack.add_argument("package", metavar="FILE.fwapp")
    unpack.add_argument("-o", "--output", metavar="FOLDER", required=True)
    unpack.set_defaults(handler=cmd_unpack)

    upgrade = commands.add_parser("upgrade", help="install an app or upgrade it, keeping data")
    upgrade.add_argument("package", metavar="PACKAGE")
    _add_db(upgrade)
    upgrade.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    upgrade.set_defaults(handler=cmd_upgrade)

    audit = commands.add_parser("audit", help="audit log tools")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, parser_class=_Parser)
    verify = audit_commands.add_parser("verify", help="check the audit log's hash chain")
    _add_db(verify)
    verify.set_defaults(handler=cmd_audit_verify)

    backup = commands.add_parser("backup", help="write a consistent copy of the database")
    _add_db(backup)
    backup.add_argument("-o", "--output", metavar="FILE", required=True)
    backup.set_defaults(handler=cmd_backup)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except CliError as error:
        print(str(error), file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        print("formwright: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the last guard: one line, never a traceback
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        print(f"formwright: {message}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
