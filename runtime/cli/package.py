"""``formwright check | pack | unpack``: app packages (``.fwapp`` files and folders)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runtime.cli.errors import EXIT_INVALID, EXIT_OK
from runtime.cli.parsing import Commands


def register(commands: Commands) -> None:
    """Add the ``check``, ``pack`` and ``unpack`` sub-commands."""
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
