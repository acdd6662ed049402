"""Reading an organisation workbook: every sheet as text, the headers a sheet of
departments or users may use, and the problems and result an import reports."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from runtime.services.org_directory import OrgError


class OrgImportError(OrgError):
    """The workbook has problems; nothing was written. ``problems`` lists them all."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the workbook; nothing was imported"
            + (f" (first: {problems[0]})" if problems else "")
        )


@dataclass(frozen=True)
class ImportProblem:
    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = [f"sheet '{self.sheet}'"] if self.sheet else []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class ImportResult:
    dry_run: bool
    departments_created: int = 0
    departments_updated: int = 0
    users_created: int = 0
    users_updated: int = 0
    #: New users, who cannot log in until an administrator sets their password.
    users_without_password: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A human summary, ending with what the administrator must do next."""
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"{verb} {self.departments_created} new and {self.departments_updated} updated "
            f"departments, {self.users_created} new and {self.users_updated} updated users"
        ]
        if self.users_without_password:
            names = ", ".join(self.users_without_password[:10])
            more = len(self.users_without_password) - 10
            lines.append(
                f"{len(self.users_without_password)} new users have no password and cannot "
                f"log in until an administrator sets one (formwright user passwd NAME): "
                f"{names}{f' and {more} more' if more > 0 else ''}"
            )
        if self.dry_run:
            lines.append("dry run: nothing was changed")
        return lines


#: Header words per column (compared case-insensitively; a header like
#: "编码/code" or "编码 (code)" matches by any of its parts).
DEPARTMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("编码", "科室编码", "部门编码", "code"),
    "name": ("名称", "科室名称", "部门名称", "name"),
    "parent_code": ("上级编码", "上级", "parent_code", "parent"),
    "head": ("负责人", "head"),
    "kind": ("类型", "层级", "kind", "level"),
}
USER_COLUMNS: dict[str, tuple[str, ...]] = {
    "username": ("用户名", "账号", "username", "user"),
    "display_name": ("姓名", "显示名", "display_name", "name"),
    "department_codes": ("科室编码", "科室", "部门", "department_codes", "departments"),
    "roles": ("角色", "roles", "role"),
}
PASSWORD_HEADERS = frozenset({"初始密码", "密码", "password", "initial_password", "口令"})
_HEADER_PARTS = re.compile(r"[/／()（）\s]+")


@dataclass
class Sheet:
    """The non-empty rows of one worksheet: ``(excel row number, cell texts)``."""

    title: str
    rows: list[tuple[int, list[str]]]


def read_workbook(path: Path) -> list[Sheet]:
    """Every sheet's non-empty rows as text (openpyxl, read-only)."""
    from openpyxl import load_workbook

    from runtime.services.excel_common import ExcelError
    from runtime.services.excel_safety import check_workbook

    if not path.is_file():
        raise OrgError(f"{path} does not exist")
    try:
        check_workbook(path)  # zip bombs, macros, DTDs, oversized sheets
    except ExcelError as error:
        raise OrgError(error.message) from None
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zipfile, XML and openpyxl errors alike
        raise OrgError(f"{path.name} is not a readable .xlsx workbook ({error})") from None
    try:
        sheets = []
        for worksheet in workbook.worksheets:
            rows = []
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                texts = [_cell_text(value) for value in values]
                if any(texts):
                    rows.append((number, texts))
            sheets.append(Sheet(worksheet.title, rows))
        return sheets
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def header_matches(header: str, aliases: Iterable[str]) -> bool:
    words = {header.strip().casefold()} | {
        part.casefold() for part in _HEADER_PARTS.split(header) if part
    }
    return any(alias.casefold() in words for alias in aliases)
