"""Reading an organisation workbook: every sheet as text, the headers a sheet of
departments or users may use, and the problems and result an import reports."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from resources.messages import tr
from runtime.services.org.directory import OrgError
from widgets.protected_files import refuse_database_file


class OrgImportError(OrgError):
    """The workbook has problems; nothing was written. ``problems`` lists them all."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        count = len(problems)
        if not problems:
            message = tr("{count} problems in the workbook; nothing was imported")
        elif count == 1:
            message = tr("1 problem in the workbook; nothing was imported (first: {first})")
        else:
            message = tr("{count} problems in the workbook; nothing was imported (first: {first})")
        super().__init__(message.format(count=count, first=problems[0] if problems else ""))


@dataclass(frozen=True)
class ImportProblem:
    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        """``sheet 'Users', row 3, column 用户名: the user name is empty``."""
        sheet, row, column = bool(self.sheet), self.row is not None, bool(self.column)
        if sheet and row and column:
            template = tr("sheet '{sheet}', row {row}, column {column}: {message}")
        elif sheet and row:
            template = tr("sheet '{sheet}', row {row}: {message}")
        elif sheet and column:
            template = tr("sheet '{sheet}', column {column}: {message}")
        elif sheet:
            template = tr("sheet '{sheet}': {message}")
        elif row and column:
            template = tr("row {row}, column {column}: {message}")
        elif row:
            template = tr("row {row}: {message}")
        elif column:
            template = tr("column {column}: {message}")
        else:
            return self.message
        return template.format(
            sheet=self.sheet, row=self.row, column=self.column, message=self.message
        )


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
        if self.dry_run:
            summary = tr(
                "would import {new_departments} new and {updated_departments} updated "
                "departments, {new_users} new and {updated_users} updated users"
            )
        else:
            summary = tr(
                "imported {new_departments} new and {updated_departments} updated "
                "departments, {new_users} new and {updated_users} updated users"
            )
        lines = [
            summary.format(
                new_departments=self.departments_created,
                updated_departments=self.departments_updated,
                new_users=self.users_created,
                updated_users=self.users_updated,
            )
        ]
        if self.users_without_password:
            names = ", ".join(self.users_without_password[:10])
            more = len(self.users_without_password) - 10
            if more > 0:
                text = tr(
                    "{count} new users have no password and cannot log in until an "
                    "administrator sets one (formwright user passwd NAME): {names} and "
                    "{more} more"
                )
            else:
                text = tr(
                    "{count} new users have no password and cannot log in until an "
                    "administrator sets one (formwright user passwd NAME): {names}"
                )
            lines.append(
                text.format(count=len(self.users_without_password), names=names, more=more)
            )
        if self.dry_run:
            lines.append(tr("dry run: nothing was changed"))
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

    from runtime.services.excel.common import ExcelError
    from runtime.services.excel.safety import check_workbook

    refuse_database_file(path, OrgError)
    if not path.is_file():
        raise OrgError(tr("{path} does not exist").format(path=path))
    try:
        check_workbook(path)  # zip bombs, macros, DTDs, oversized sheets
    except ExcelError as error:
        raise OrgError(error.message) from None
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zipfile, XML and openpyxl errors alike
        raise OrgError(
            tr("{name} is not a readable .xlsx workbook ({error})").format(
                name=path.name, error=error
            )
        ) from None
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
