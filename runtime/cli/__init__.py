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
        report = workspace.verify_audit(args.against, args.key_file or ())
    if report.ok:
        if report.signed_from is None and report.rows:
            print(f"audit log intact: {report.rows} rows, none signed (not provable)")
        elif report.unsigned:
            print(
                f"audit log intact: {report.rows} rows, signed from row {report.signed_from} "
                f"({report.unsigned} older rows unsigned); records match their audit"
            )
        else:
            print(f"audit log intact: {report.rows} rows, all signed; records match their audit")
        return EXIT_OK
    if report.drifted:
        for record in report.drifted:
            print(
                f"record {record.record_id} of {record.app_id}.{record.form}: "
                f"{record.how} outside Formwright",
                file=sys.stderr,
            )
        raise CliError(f"audit log not intact: {len(report.drifted)} {report.reason}")
    if report.broken_id is None:
        raise CliError(f"audit log not intact: {report.reason}")
    raise CliError(
        f"audit log broken at row {report.broken_id}: {report.reason} "
        f"({report.rows} rows before it are intact)"
    )


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    with _open(args) as workspace:
        output = args.output or _default_checkpoint_name()
        path = workspace.checkpoint(output)
    print(f"checkpoint written to {path}; keep it away from the database")
    return EXIT_OK


def _default_checkpoint_name() -> str:
    from datetime import datetime

    return f"audit-checkpoint-{datetime.now():%Y%m%d-%H%M%S}.json"


def cmd_backup(args: argparse.Namespace) -> int:
    if args.action == "restore":
        return _restore(args)
    if args.file or not args.output:
        raise CliError(
            "formwright backup: give -o FILE, or `restore FILE` (see --help)", EXIT_USAGE
        )
    with _open(args) as workspace:
        path = workspace.backup(args.output)
    print(f"backup written to {path}")
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    """Put a backup in place of a SQLite workspace file, never opening the workspace
    (see runtime.store.integrity.restore_sqlite)."""
    from sqlalchemy.engine import make_url

    from runtime.store.engine import default_workspace_path
    from runtime.store.integrity import restore_sqlite

    if not args.file:
        raise CliError("formwright backup restore: name the backup FILE (see --help)", EXIT_USAGE)
    url = make_url(args.db) if args.db else None
    if url is not None and url.get_backend_name() != "sqlite":
        raise CliError(
            "formwright: restore a PostgreSQL backup (.dump) with "
            "`pg_restore --clean --if-exists --dbname DATABASE FILE` as the tables' owner"
        )
    target = Path(url.database) if url is not None and url.database else default_workspace_path()
    aside = restore_sqlite(Path(args.file), target)
    print(f"restored {target} from {args.file}; the previous file was kept as {aside}")
    return EXIT_OK


def cmd_db_grant_runtime(args: argparse.Namespace) -> int:
    """PostgreSQL: let ``--role`` work as the runtime, the audit log insert-only for it."""
    from runtime.store.roles import grant_runtime

    with _open(args) as handle, handle.workspace.engine.begin() as connection:
        grant_runtime(connection, args.role)
    print(
        f"granted {args.role}: records read/write, audit log SELECT and INSERT only; "
        "workstations connect as this role, upgrades run as the tables' owner"
    )
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
    verify = audit_commands.add_parser(
        "verify", help="check the audit log's signed chain and every record against it"
    )
    _add_db(verify)
    verify.add_argument(
        "--against", metavar="FILE", help="also check the log still holds this checkpoint's rows"
    )
    verify.add_argument(
        "--key-file",
        metavar="FILE",
        action="append",
        help="another workstation's audit key file (repeatable)",
    )
    verify.set_defaults(handler=cmd_audit_verify)
    checkpoint = audit_commands.add_parser(
        "checkpoint", help="write the audit log's head (rows, hash) to a file kept elsewhere"
    )
    _add_db(checkpoint)
    checkpoint.add_argument("-o", "--output", metavar="FILE")
    checkpoint.set_defaults(handler=cmd_audit_checkpoint)

    backup = commands.add_parser(
        "backup",
        help="write a consistent copy of the database (-o FILE), or restore one (restore FILE)",
    )
    _add_db(backup)
    backup.add_argument("action", nargs="?", choices=["restore"], help="restore FILE")
    backup.add_argument("file", nargs="?", metavar="FILE", help="the backup to restore")
    backup.add_argument("-o", "--output", metavar="FILE")
    backup.set_defaults(handler=cmd_backup)
    database = commands.add_parser("db", help="database set-up (PostgreSQL roles)")
    db_commands = database.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    grant = db_commands.add_parser(
        "grant-runtime",
        help="grant a role what workstations need; the audit log stays insert-only for it",
    )
    _add_db(grant, required=True)
    grant.add_argument("--role", metavar="NAME", required=True)
    grant.set_defaults(handler=cmd_db_grant_runtime)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except CliError as error:  # our own sentence: whole (it may name the commands out)
        print(one_line(str(error), limit=None), file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        print("formwright: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the last guard: one line, never a traceback
        print(one_line(f"formwright: {error_line(error)}"), file=sys.stderr)
        return EXIT_INVALID


def error_line(error: BaseException) -> str:
    """What went wrong, for one line of stderr: a database error becomes a plain
    sentence (its text holds the SQL, the parameters and the record's values)."""
    from runtime.store.db_errors import database_problem_in

    problem = database_problem_in(error)
    if problem is not None:
        return problem
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return message.removeprefix("formwright: ")


def one_line(text: str, limit: int | None = 500) -> str:
    """``text`` on one line (whitespace runs joined), cut to ``limit`` characters."""
    line = " ".join(text.split())
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
