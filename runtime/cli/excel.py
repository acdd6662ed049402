"""``formwright export | import | template | imports``: Excel and CSV from the
command line.

``formwright imports list`` shows each import and whether it finished; an import
left unfinished (its process was killed) blocks new imports into its form until
``formwright import … --resume`` continues it with the same file or
``formwright imports undo PACKAGE ID`` moves the records it created to the trash.

Without ``--user`` the command acts as the workspace owner (SYSTEM, every field);
with ``--user NAME`` it logs in with the password in ``FORMWRIGHT_PASSWORD`` and
exports/imports only the fields that user may see/fill (permission policy).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from runtime.cli.accounts import PASSWORD_VARIABLE
from runtime.cli.errors import EXIT_INVALID, EXIT_OK, CliError
from runtime.cli.parsing import Commands, add_db_option, add_subcommands

DB_HELP = "workspace database (default: local)"


def register(commands: Commands) -> None:
    """Add the export, import and template sub-commands to ``formwright``."""
    export = commands.add_parser("export", help="export a form's records to .xlsx or .csv")
    export.add_argument("package", metavar="PACKAGE")
    add_db_option(export, help=DB_HELP)
    export.add_argument("--form", required=True, metavar="KEY")
    export.add_argument("-o", "--output", required=True, metavar="FILE.xlsx|FILE.csv")
    export.add_argument("--where", metavar="EXPR", help='e.g. AND(status = "open", labour > 0)')
    export.add_argument("--columns", metavar="a,b", help="field keys to export, in order")
    export.add_argument(
        "--subtables",
        choices=("sheet", "flatten", "omit"),
        default="sheet",
        help="subtable rows on their own sheet (default), one line each, or left out",
    )
    _add_user_option(export)
    export.set_defaults(handler=cmd_export)

    imp = commands.add_parser("import", help="import records from .xlsx or .csv")
    imp.add_argument("package", metavar="PACKAGE")
    add_db_option(imp, help=DB_HELP)
    imp.add_argument("--form", required=True, metavar="KEY")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    imp.add_argument("--valid-only", action="store_true", help="import the valid rows only")
    imp.add_argument("--upsert-by", metavar="KEY", help="update records with the same value")
    imp.add_argument("--errors", action="store_true", help="write FILE.errors.xlsx on errors")
    imp.add_argument(
        "--resume",
        action="store_true",
        help="continue the form's unfinished import of this same file (its options)",
    )
    imp.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="import even if the file or some rows were imported into the form before",
    )
    _add_user_option(imp)
    imp.set_defaults(handler=cmd_import)

    imports = commands.add_parser("imports", help="list imports; undo one")
    imports_commands = add_subcommands(imports, "imports_command")
    listing = imports_commands.add_parser("list", help="the imports of an app, newest first")
    listing.add_argument("package", metavar="PACKAGE")
    add_db_option(listing, help=DB_HELP)
    listing.add_argument("--form", metavar="KEY")
    listing.set_defaults(handler=cmd_imports_list)
    undo = imports_commands.add_parser(
        "undo", help="move the records an import created to the trash (run again to finish)"
    )
    undo.add_argument("package", metavar="PACKAGE")
    undo.add_argument("import_id", metavar="ID", help="the import's id or its first characters")
    add_db_option(undo, help=DB_HELP)
    _add_user_option(undo)
    undo.set_defaults(handler=cmd_imports_undo)

    template = commands.add_parser("template", help="write the import template of a form")
    template.add_argument("package", metavar="PACKAGE")
    template.add_argument("--form", required=True, metavar="KEY")
    template.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")
    template.set_defaults(handler=cmd_template)


def _add_user_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", metavar="NAME", help=f"act as this user ({PASSWORD_VARIABLE})")


def _service(args, workspace):
    from runtime.services.records.service import RecordService
    from runtime.spec.load import load_app

    wanted = load_app(args.package)
    spec = workspace.workspace.installed_spec(wanted.id)
    if spec is None:
        raise CliError(
            f"formwright: the app '{wanted.id}' is not installed in this workspace; "
            "run 'formwright upgrade' first"
        )
    if args.form is not None and spec.form(args.form) is None:
        raise CliError(f"formwright: the app '{spec.id}' has no form '{args.form}'")
    return RecordService(workspace.workspace, spec)


def _actor_and_fields(args, service, writing: bool):
    """SYSTEM and every field, or the logged-in user and the fields the policy allows."""
    from runtime.services.actor import SYSTEM
    from runtime.services.permissions import Policy

    tables = service.form_tables(args.form)
    every = [
        spec.key
        for spec in tables.form.fields
        if spec.key in tables.columns or spec.key in tables.children
    ]
    actor = _actor(args, service)
    if actor is SYSTEM:
        return SYSTEM, every
    policy = Policy(service.spec, actor, service.registry)
    fields = (
        policy.writable_fields(args.form, "create") if writing else policy.visible_fields(args.form)
    )
    if not fields:
        verb = "import into" if writing else "export"
        raise CliError(f"formwright: '{args.user}' may not {verb} the form '{args.form}'")
    return actor, fields


def _actor(args, service):
    """SYSTEM, or the user ``--user`` names, logged in with ``FORMWRIGHT_PASSWORD``."""
    from runtime.services.actor import SYSTEM

    if not args.user:
        return SYSTEM
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        raise CliError(f"formwright: set {PASSWORD_VARIABLE} to the password of '{args.user}'")
    from runtime.services.accounts.service import AccountService, LoginFailed

    try:
        session = AccountService(service.workspace).login(args.user, password)
    except LoginFailed as error:
        raise CliError(f"formwright: {getattr(error, 'message', error)}") from None
    return session.actor()


def cmd_export(args: argparse.Namespace) -> int:
    from runtime.api import open_workspace
    from runtime.services.excel.common import ExcelError
    from runtime.services.excel.export import export_records
    from runtime.services.excel.filter import WhereError, filter_from_expression
    from runtime.services.progress import run_steps
    from runtime.store.query import RecordQuery

    with open_workspace(args.db) as workspace:
        service = _service(args, workspace)
        actor, fields = _actor_and_fields(args, service, writing=False)
        tables = service.form_tables(args.form)
        query = RecordQuery()
        try:
            if args.where:
                allowed = {k: s for k, s in tables.columns.items() if k in fields}
                query = RecordQuery(
                    filter=filter_from_expression(args.where, allowed, service.registry)
                )
            columns = (
                [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
            )
            result = run_steps(
                export_records(
                    service,
                    args.form,
                    args.output,
                    actor=actor,
                    visible_fields=fields,
                    query=query,
                    columns=columns,
                    subtables=args.subtables,
                )
            )
        except ExcelError as error:
            # A --where problem names the option itself; others get the program name.
            where = isinstance(error, WhereError)
            raise CliError(error.message if where else f"formwright: {error.message}") from None
    print(f"exported {result.rows} records to {result.path}")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from runtime.api import open_workspace
    from runtime.services.excel.common import ExcelError
    from runtime.services.excel.importer import import_records
    from runtime.services.progress import run_steps

    with open_workspace(args.db) as workspace:
        service = _service(args, workspace)
        actor, fields = _actor_and_fields(args, service, writing=True)
        try:
            result = run_steps(
                import_records(
                    service,
                    args.form,
                    args.file,
                    actor=actor,
                    visible_fields=fields,
                    mode="valid_only" if args.valid_only else "all",
                    upsert_by=args.upsert_by,
                    dry_run=args.dry_run,
                    error_workbook=args.errors,
                    resume=args.resume,
                    allow_duplicates=args.allow_duplicates,
                )
            )
        except ExcelError as error:
            raise CliError(f"formwright: {_refusal(args, error)}") from None
    for error in result.errors[:50]:
        print(str(error), file=sys.stderr)
    if len(result.errors) > 50:
        print(f"... and {len(result.errors) - 50} more problems", file=sys.stderr)
    if result.error_workbook:
        print(f"errors written to {result.error_workbook}", file=sys.stderr)
    if args.dry_run:
        _dry_run_warnings(args, result)
        print(
            f"dry run: {result.rows_valid} of {result.rows_total} rows are valid; "
            "nothing was written"
        )
        return EXIT_OK if result.ok else EXIT_INVALID
    if result.errors and not args.valid_only:
        raise CliError(
            f"formwright: {len(result.errors)} problems in {args.file}; nothing was imported "
            "(fix them, or use --valid-only)"
        )
    resumed = f" (resumed after row {result.resumed_from})" if result.resumed_from else ""
    print(
        f"imported {result.created} new and {result.updated} updated records"
        f"{resumed}; {result.skipped} rows skipped"
    )
    return EXIT_OK


def _refusal(args, error) -> str:
    """An import's refusal, with the commands that get past it."""
    from runtime.services.excel.journal import (
        DuplicateImport,
        ImportInProgress,
        UnfinishedImport,
    )

    if isinstance(error, ImportInProgress):
        return error.message
    if isinstance(error, UnfinishedImport):
        entry = error.entry
        if entry.state == "undoing":
            return f"{error.message}: {_undo_command(args, entry)}"
        original = entry.source_path or entry.file_name or "FILE"
        resume = f"formwright import {args.package} --form {entry.form} {original} --resume"
        return f"{error.message}. Resume: {resume}; undo: {_undo_command(args, entry)}"
    if isinstance(error, DuplicateImport):
        return f"{error.message}; add --allow-duplicates to import it anyway"
    return error.message


def _undo_command(args, entry) -> str:
    return f"formwright imports undo {args.package} {entry.import_id[:8]}"


def _dry_run_warnings(args, result) -> None:
    """What would stop the real import: an unfinished import, rows imported before."""
    from runtime.services.excel.journal import (
        blocked_message,
        duplicate_rows_message,
        same_file_message,
    )

    name = Path(args.file).name
    if result.open_import is not None and not args.resume:
        print(f"warning: {blocked_message(result.open_import, args.form)}", file=sys.stderr)
    if result.same_file is not None:
        text = same_file_message(result.same_file, name, args.form)
        print(f"warning: {text}", file=sys.stderr)
    if result.duplicates:
        text = duplicate_rows_message(result.duplicates, name, args.form)
        print(f"warning: {text}", file=sys.stderr)


def cmd_imports_list(args: argparse.Namespace) -> int:
    """One line per import: id, status, form, rows, file, when, who, where."""
    from runtime.api import open_workspace
    from runtime.services.excel.journal import ImportJournal, status

    with open_workspace(args.db) as workspace:
        service = _service(args, workspace)
        entries = ImportJournal(service).imports(args.form)
    if not entries:
        print("no imports")
        return EXIT_OK
    print("ID        STATUS       FORM  ROWS  FILE  STARTED (UTC)  BY  HOST")
    for entry in entries:
        rows = f"{entry.rows_done}/{entry.rows_total}"
        if entry.state in ("undoing", "undone"):
            rows += " (undo)" if entry.state == "undoing" else " (undone)"
        print(
            f"{entry.import_id[:8]}  {status(entry):<11}  {entry.form}  {rows}  "
            f"{entry.file_name or '?'}  {entry.started_at:%Y-%m-%d %H:%M}  "
            f"{entry.started_by_name or 'system'}  {entry.host or '?'}"
        )
    return EXIT_OK


def cmd_imports_undo(args: argparse.Namespace) -> int:
    from runtime.api import open_workspace
    from runtime.services.excel.common import ExcelError
    from runtime.services.excel.journal import ImportJournal
    from runtime.services.progress import run_steps

    args.form = None
    with open_workspace(args.db) as workspace:
        service = _service(args, workspace)
        journal = ImportJournal(service)
        try:
            actor = _actor(args, service)
            result = run_steps(journal.undo(args.import_id, actor))
        except ExcelError as error:
            raise CliError(f"formwright: {error.message}") from None
    entry = result.entry
    if result.already_undone:
        print(f"import {entry.import_id[:8]} ({entry.file_name}) was already undone")
        return EXIT_OK
    kept = (
        f"; {result.updated_kept} records it updated keep their values"
        if result.updated_kept
        else ""
    )
    print(
        f"undid import {entry.import_id[:8]} ({entry.file_name}): {result.trashed} records "
        f"moved to the trash{kept}"
    )
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from runtime.services.excel.common import ExcelError
    from runtime.services.excel.template import write_template
    from runtime.spec.load import load_app

    spec = load_app(args.package)
    try:
        path = write_template(spec, args.form, args.output)
    except ExcelError as error:
        raise CliError(f"formwright: {error.message}") from None
    print(f"template written to {path}")
    return EXIT_OK
