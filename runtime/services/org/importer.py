"""Checking an organisation workbook and writing it: the plan behind
:meth:`OrgService.import_xlsx <runtime.services.org.service.OrgService.import_xlsx>`.

Every row is validated first (codes, names, levels, parents and cycles, heads,
user names, departments, roles) and nothing is written unless all rows are valid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from resources.messages import tr
from runtime.services.accounts.rows import role_problem, username_key, username_problem
from runtime.services.actor import Actor
from runtime.services.org.directory import (
    LIST_SEPARATORS,
    MAX_CODE_LENGTH,
    MAX_NAME_LENGTH,
    OrgDirectory,
    normalize_kind,
)
from runtime.services.org.workbook import (
    DEPARTMENT_COLUMNS,
    PASSWORD_HEADERS,
    USER_COLUMNS,
    ImportProblem,
    ImportResult,
    Sheet,
    header_matches,
)
from runtime.store import accounts as accounts_store
from runtime.store import org as org_store
from runtime.store.audit import AuditEntry, append
from runtime.store.connection import Connection
from runtime.store.workspace import Workspace


@dataclass
class _DeptRow:
    row: int
    code: str
    name: str
    parent_code: str
    head: str
    kind: str | None


@dataclass
class _UserRow:
    row: int
    username: str
    display_name: str
    department_codes: list[str]
    roles: list[tuple[str, str]]
    has_departments: bool
    has_roles: bool


class _RowCheck:
    """The problems of one sheet row: ``bad`` records one; ``ok`` until then."""

    def __init__(self, plan: ImportPlan, sheet: str, number: int, columns: dict) -> None:
        self.plan, self.sheet, self.number, self.columns = plan, sheet, number, columns
        self.ok = True

    def bad(self, column: str, message: str) -> None:
        self.plan.problem(self.sheet, self.number, self.columns[column][1], message)
        self.ok = False


@dataclass
class ImportPlan:
    """The validated content of a workbook and what it will change."""

    directory: OrgDirectory
    existing_users: dict[str, int]
    departments: list[_DeptRow] = field(default_factory=list)
    users: list[_UserRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    _department_sheet: str = ""
    _department_columns: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: Codes (case-folded) the department sheet names, valid rows or not.
    _sheet_codes: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, workspace: Workspace, connection: Connection, sheets: list[Sheet]):
        existing = accounts_store.user_ids_by_key(connection)
        plan = cls(OrgDirectory.load(connection), existing)
        department_sheet = user_sheet = None
        for sheet in sheets:
            if not sheet.rows:
                continue
            header = sheet.rows[0][1]
            if any(header_matches(cell, USER_COLUMNS["username"]) for cell in header):
                if user_sheet is not None:
                    plan.problem(sheet.title, None, "", tr("a second sheet of users; use one"))
                user_sheet = sheet
            elif any(header_matches(c, DEPARTMENT_COLUMNS["code"]) for c in header):
                if department_sheet is not None:
                    plan.problem(
                        sheet.title, None, "", tr("a second sheet of departments; use one")
                    )
                department_sheet = sheet
        if department_sheet is None and user_sheet is None:
            plan.problem(
                "",
                None,
                "",
                tr(
                    "no sheet of departments (columns 编码/code, 名称/name, 上级编码/parent_code, "
                    "负责人/head) or of users (用户名/username, 姓名/display_name, "
                    "科室编码/department_codes, 角色/roles) found"
                ),
            )
            return plan
        if department_sheet is not None:
            plan.read_departments(department_sheet)
        if user_sheet is not None:
            plan.read_users(user_sheet, workspace, connection)
        plan.check_departments()
        return plan

    def problem(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.problems.append(ImportProblem(sheet, row, column, message))

    def _columns(
        self, sheet: Sheet, wanted: dict[str, tuple[str, ...]], required: tuple[str, ...]
    ) -> dict[str, tuple[int, str]] | None:
        """Map column name → (index, header text); report missing/duplicate/password columns."""
        header_row, header = sheet.rows[0]
        found: dict[str, tuple[int, str]] = {}
        ok = True
        for index, text in enumerate(header):
            if not text:
                continue
            if header_matches(text, PASSWORD_HEADERS):
                self.problem(
                    sheet.title,
                    header_row,
                    text,
                    tr(
                        "passwords cannot be imported; remove this column — imported users get "
                        "no password and an administrator sets each one "
                        "(formwright user passwd NAME)"
                    ),
                )
                ok = False
                continue
            for name, aliases in wanted.items():
                if header_matches(text, aliases):
                    if name in found:
                        self.problem(
                            sheet.title,
                            header_row,
                            text,
                            tr("the same column as '{column}'; keep one").format(
                                column=found[name][1]
                            ),
                        )
                        ok = False
                    else:
                        found[name] = (index, text)
                    break
        for name in required:
            if name not in found:
                shown = "/".join(wanted[name][:1] + wanted[name][-1:])
                self.problem(sheet.title, header_row, shown, tr("this column is missing"))
                ok = False
        return found if ok else None

    def read_departments(self, sheet: Sheet) -> None:
        columns = self._columns(sheet, DEPARTMENT_COLUMNS, ("code", "name"))
        if columns is None:
            return
        seen: dict[str, int] = {}
        for number, cells in sheet.rows[1:]:
            value = _getter(cells, columns)
            row = _RowCheck(self, sheet.title, number, columns)
            bad = row.bad

            code, name = value("code"), value("name")
            if not code:
                bad("code", tr("the code is empty"))
            elif len(code) > MAX_CODE_LENGTH or LIST_SEPARATORS.search(code):
                bad(
                    "code",
                    tr("'{code}' is not a usable code (no spaces, commas or 、)").format(code=code),
                )
            elif code.casefold() in seen:
                bad(
                    "code",
                    tr("the code '{code}' appears again (first in row {row})").format(
                        code=code, row=seen[code.casefold()]
                    ),
                )
            if not name:
                bad("name", tr("the name is empty"))
            elif len(name) > MAX_NAME_LENGTH:
                bad(
                    "name",
                    tr("the name is longer than {maximum} characters").format(
                        maximum=MAX_NAME_LENGTH
                    ),
                )
            kind = None
            if "kind" in columns:
                try:
                    kind = normalize_kind(value("kind"))
                except ValueError as error:
                    bad("kind", str(error))
            if code and code.casefold() not in seen:
                seen[code.casefold()] = number
            if row.ok:
                self.departments.append(
                    _DeptRow(number, code, name, value("parent_code"), value("head"), kind)
                )
        self._department_columns = columns
        self._department_sheet = sheet.title
        self._sheet_codes = set(seen)

    def read_users(self, sheet: Sheet, workspace: Workspace, connection: Connection) -> None:
        columns = self._columns(sheet, USER_COLUMNS, ("username", "display_name"))
        if columns is None:
            return
        known_codes = {d.code.casefold() for d in self.directory if d.code} | self._sheet_codes
        role_checks: dict[tuple[str, str], str | None] = {}
        seen: dict[str, int] = {}
        for number, cells in sheet.rows[1:]:
            value = _getter(cells, columns)
            row = _RowCheck(self, sheet.title, number, columns)
            bad = row.bad

            username = value("username")
            key = username_key(username)
            problem = username_problem(username)
            if problem:
                bad("username", problem)
            elif key in seen:
                bad(
                    "username",
                    tr("the user '{user}' appears again (first in row {row})").format(
                        user=username, row=seen[key]
                    ),
                )
            else:
                seen[key] = number
            display_name = value("display_name")
            if not display_name and key not in self.existing_users:
                bad("display_name", tr("the name is empty"))
            elif len(display_name) > MAX_NAME_LENGTH:
                bad(
                    "display_name",
                    tr("the name is longer than {maximum} characters").format(
                        maximum=MAX_NAME_LENGTH
                    ),
                )
            codes = [c for c in LIST_SEPARATORS.split(value("department_codes")) if c]
            for code in codes:
                if code.casefold() not in known_codes:
                    bad(
                        "department_codes",
                        tr(
                            "no department with the code '{code}' in this workbook or the workspace"
                        ).format(code=code),
                    )
            roles: list[tuple[str, str]] = []
            for item in (r for r in LIST_SEPARATORS.split(value("roles")) if r):
                app_id, colon, role_key = item.replace("：", ":").partition(":")
                if not colon or not app_id or not role_key:
                    bad(
                        "roles",
                        tr(
                            "'{item}' is not app:role (for example equipment_repair:engineer)"
                        ).format(item=item),
                    )
                    continue
                if (app_id, role_key) not in role_checks:
                    role_checks[(app_id, role_key)] = role_problem(
                        workspace, connection, app_id, role_key
                    )
                message = role_checks[(app_id, role_key)]
                if message:
                    bad("roles", message)
                else:
                    roles.append((app_id, role_key))
            if row.ok:
                self.users.append(
                    _UserRow(
                        number,
                        username.strip(),
                        display_name,
                        list(dict.fromkeys(c.casefold() for c in codes)),
                        list(dict.fromkeys(roles)),
                        has_departments=bool(codes),
                        has_roles="roles" in columns and bool(value("roles")),
                    )
                )

    def check_departments(self) -> None:
        """Parents exist and form no cycle; heads are users (existing or in the file)."""
        if not self.departments:
            return
        sheet, columns = self._department_sheet, self._department_columns
        # The parent of every code once the import is done (the sheet overrides).
        parent_of: dict[str, str | None] = {}
        for department in self.directory:
            if department.code:
                stored_parent = self.directory.get(department.parent_id or -1)
                parent_of[department.code.casefold()] = (
                    stored_parent.code.casefold() if stored_parent and stored_parent.code else None
                )
        known = set(parent_of) | self._sheet_codes
        for row in self.departments:
            parent_of[row.code.casefold()] = row.parent_code.casefold() or None
        spelling = {d.code.casefold(): d.code for d in self.directory if d.code}
        spelling |= {row.code.casefold(): row.code for row in self.departments}
        user_keys = set(self.existing_users) | {username_key(u.username) for u in self.users}
        for row in self.departments:
            code = row.code.casefold()
            parent = row.parent_code.casefold()
            if parent:
                if parent == code:
                    self.problem(
                        sheet,
                        row.row,
                        columns["parent_code"][1],
                        tr("a department cannot be its own parent"),
                    )
                elif parent not in known:
                    self.problem(
                        sheet,
                        row.row,
                        columns["parent_code"][1],
                        tr(
                            "no department with the code '{code}' in this workbook or the workspace"
                        ).format(code=row.parent_code),
                    )
                else:
                    cycle = _cycle_from(code, parent_of)
                    if cycle:
                        self.problem(
                            sheet,
                            row.row,
                            columns["parent_code"][1],
                            tr("the parent codes form a cycle: {cycle}").format(
                                cycle=" → ".join(spelling.get(c, c) for c in cycle)
                            ),
                        )
            if row.head and username_key(row.head) not in user_keys:
                self.problem(
                    sheet,
                    row.row,
                    columns["head"][1],
                    tr("no user named '{user}' in this workbook or the workspace").format(
                        user=row.head
                    ),
                )

    def result(self, dry_run: bool) -> ImportResult:
        result = ImportResult(dry_run)
        for row in self.departments:
            if self.directory.by_code(row.code) is None:
                result.departments_created += 1
            else:
                result.departments_updated += 1
        for user in self.users:
            if username_key(user.username) in self.existing_users:
                result.users_updated += 1
            else:
                result.users_created += 1
                result.users_without_password.append(user.username)
        return result

    def apply(self, connection: Connection, actor: Actor, now: datetime) -> None:
        def audit(action: str, details: dict) -> None:
            entry = AuditEntry(action, actor.user_id, actor.username, details=details)
            append(connection, entry, at=now)

        # 1. departments without parents and heads, so any order of rows works
        ids: dict[str, int] = {d.code.casefold(): d.id for d in self.directory if d.code}
        for row in self.departments:
            code = row.code.casefold()
            existing = self.directory.by_code(row.code)
            if existing is None:
                ids[code] = org_store.insert_department(
                    connection, code=row.code, name=row.name, kind=row.kind
                )
                audit(
                    "department_created", {"code": row.code, "name": row.name, "source": "import"}
                )
            else:
                org_store.update_department(
                    connection, existing.id, name=row.name, kind=row.kind or existing.kind
                )
                audit(
                    "department_changed", {"code": row.code, "name": row.name, "source": "import"}
                )
        # 2. users
        user_ids = dict(self.existing_users)
        for user in self.users:
            key = username_key(user.username)
            user_id = user_ids.get(key)
            if user_id is None:
                user_id = accounts_store.insert_user(
                    connection, user.username, user.display_name, now
                )
                user_ids[key] = user_id
                audit(
                    "user_created",
                    {
                        "user": user.username,
                        "user_id": user_id,
                        "source": "import",
                        "password_set": False,
                    },
                )
            elif user.display_name:
                accounts_store.update_profile(connection, user_id, display_name=user.display_name)
                audit(
                    "user_changed", {"user": user.username, "user_id": user_id, "source": "import"}
                )
            if user.has_departments:
                department_ids = [ids[c] for c in user.department_codes]
                accounts_store.set_memberships(connection, user_id, department_ids)
            if user.has_roles:
                accounts_store.replace_roles(connection, user_id, user.roles)
        # 3. parents and heads
        for row in self.departments:
            org_store.update_department(
                connection,
                ids[row.code.casefold()],
                parent_id=ids[row.parent_code.casefold()] if row.parent_code else None,
                head_user_id=user_ids[username_key(row.head)] if row.head else None,
            )


def _getter(cells: list[str], columns: dict[str, tuple[int, str]]) -> Callable[[str], str]:
    def value(name: str) -> str:
        if name not in columns:
            return ""
        index = columns[name][0]
        return cells[index].strip() if index < len(cells) else ""

    return value


def _cycle_from(start: str, parent_of: dict[str, str | None]) -> list[str] | None:
    """The loop ``start → … → start`` through the parent map, or ``None``."""
    trail = [start]
    current = parent_of.get(start)
    while current is not None and len(trail) <= len(parent_of):
        if current == start:
            return [*trail, start]
        if current in trail:
            return None  # a loop further up, reported on its own rows
        trail.append(current)
        current = parent_of.get(current)
    return None
