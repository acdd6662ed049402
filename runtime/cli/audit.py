"""``formwright audit verify | checkpoint``: the audit log's signed chain."""

from __future__ import annotations

import argparse
import sys

from runtime.cli.errors import EXIT_OK, CliError
from runtime.cli.parsing import Commands, add_db_option, add_subcommands


def register(commands: Commands) -> None:
    """Add the ``audit`` sub-command and its ``verify`` and ``checkpoint``."""
    audit = commands.add_parser("audit", help="audit log tools")
    audit_commands = add_subcommands(audit, "audit_command")
    verify = audit_commands.add_parser(
        "verify", help="check the audit log's signed chain and every record against it"
    )
    add_db_option(verify)
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
    add_db_option(checkpoint)
    checkpoint.add_argument("-o", "--output", metavar="FILE")
    checkpoint.set_defaults(handler=cmd_audit_checkpoint)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from runtime.api import open_workspace

    with open_workspace(args.db) as workspace:
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
    from runtime.api import open_workspace

    with open_workspace(args.db) as workspace:
        output = args.output or _default_checkpoint_name()
        path = workspace.checkpoint(output)
    print(f"checkpoint written to {path}; keep it away from the database")
    return EXIT_OK


def _default_checkpoint_name() -> str:
    from datetime import datetime

    return f"audit-checkpoint-{datetime.now():%Y%m%d-%H%M%S}.json"
