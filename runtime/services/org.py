"""The organisation: a department tree, its heads, users' memberships (Qt-free).

Departments form a tree (hospital → division → department → ward); each has a
unique code and optionally a head (a user). Users belong to one or more
departments, one of them primary (new records belong to it).

:class:`OrgDirectory` is an in-memory snapshot of the tree for fast questions
(``descendants`` for the ``department_tree`` row scope, ``head_of`` for
approvals). :meth:`OrgService.import_xlsx` reads departments and users from an
Excel workbook: every row is validated first and nothing is written unless all
rows are valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.services.accounts import (
    AccountError,
    find_user,
    insert_user,
    require_admin,
    role_problem,
    set_memberships,
    username_key,
    username_problem,
)
from runtime.services.actor import SYSTEM, Actor
from runtime.store.audit import AuditEntry, append, utc_now
from runtime.store.schema import (
    departments_table,
    user_departments_table,
    user_roles_table,
    users_table,
)
from runtime.store.workspace import Workspace

#: Levels of the tree, with the words a sheet may use for them.
KINDS: dict[str, str] = {
    "hospital": "hospital",
    "医院": "hospital",
    "院区": "hospital",
    "division": "division",
    "大科": "division",
    "部": "division",
    "department": "department",
    "科室": "department",
    "ward": "ward",
    "病区": "ward",
    "护理单元": "ward",
}
MAX_CODE_LENGTH = 64
MAX_NAME_LENGTH = 200
#: Separators between several department codes or roles in one cell.
LIST_SEPARATORS = re.compile(r"[,，、;；\s]+")


class OrgError(AccountError):
    """An organisation change that cannot be done; ``message`` says why."""


@dataclass(frozen=True)
class Department:
    id: int
    code: str | None
    name: str
    parent_id: int | None
    head_user_id: int | None
    kind: str | None = None
    active: bool = True


class OrgDirectory:
    """A snapshot of the department tree."""

    def __init__(self, departments: Iterable[Department]) -> None:
        self._by_id = {department.id: department for department in departments}
        self._by_code = {d.code.casefold(): d for d in self._by_id.values() if d.code}
        self._children: dict[int | None, list[Department]] = {}
        for department in sorted(self._by_id.values(), key=lambda d: (d.name, d.id)):
            self._children.setdefault(department.parent_id, []).append(department)

    @classmethod
    def load(cls, connection: Connection) -> OrgDirectory:
        rows = connection.execute(sa.select(departments_table))
        return cls(
            Department(
                id=row.id,
                code=row.code,
                name=row.name,
                parent_id=row.parent_id,
                head_user_id=row.head_user_id,
                kind=row.kind,
                active=bool(row.active),
            )
            for row in rows
        )

    def __iter__(self) -> Iterator[Department]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, department_id: int) -> Department | None:
        return self._by_id.get(department_id)

    def by_code(self, code: str) -> Department | None:
        """A department by its code (case-insensitive)."""
        return self._by_code.get(code.strip().casefold())

    def roots(self) -> list[Department]:
        """Departments without a parent (or whose parent is missing)."""
        return [d for d in self._by_id.values() if d.parent_id not in self._by_id]

    def children(self, department_id: int) -> list[Department]:
        return list(self._children.get(department_id, ()))

    def descendants(self, department_ids: Iterable[int], include_self: bool = True) -> set[int]:
        """Every department below the given ones — and, by default, the given ones
        themselves: the departments a ``department_tree`` scope reaches."""
        start = [i for i in department_ids if i in self._by_id]
        found: set[int] = set(start) if include_self else set()
        stack = list(start)
        while stack:
            for child in self._children.get(stack.pop(), ()):
                if child.id not in found:
                    found.add(child.id)
                    stack.append(child.id)
        return found

    def ancestors(self, department_id: int) -> list[Department]:
        """The parent, its parent … up to the root (cycle-safe)."""
        chain: list[Department] = []
        seen = {department_id}
        current = self._by_id.get(department_id)
        while current is not None and current.parent_id is not None:
            if current.parent_id in seen:
                break
            seen.add(current.parent_id)
            current = self._by_id.get(current.parent_id)
            if current is not None:
                chain.append(current)
        return chain

    def path(self, department_id: int, separator: str = " / ") -> str:
        """``Hospital / Surgery / Ward 3``."""
        department = self._by_id.get(department_id)
        if department is None:
            return f"#{department_id}"
        names = [d.name for d in reversed(self.ancestors(department_id))]
        return separator.join([*names, department.name])

    def head_of(self, department_id: int, inherited: bool = False) -> int | None:
        """The head's user id; with ``inherited`` the nearest head up the tree."""
        department = self._by_id.get(department_id)
        if department is None:
            return None
        if department.head_user_id is not None or not inherited:
            return department.head_user_id
        for ancestor in self.ancestors(department_id):
            if ancestor.head_user_id is not None:
                return ancestor.head_user_id
        return None

    def headed_by(self, user_id: int) -> list[Department]:
        """The departments a user heads."""
        return [d for d in self._by_id.values() if d.head_user_id == user_id]

    def would_cycle(self, department_id: int, new_parent_id: int | None) -> bool:
        """True when making ``new_parent_id`` the parent would close a loop."""
        if new_parent_id is None:
            return False
        return new_parent_id in self.descendants([department_id])


def memberships(connection: Connection, user_id: int) -> tuple[list[int], int | None]:
    """A user's department ids (primary first) and the primary one."""
    rows = connection.execute(
        sa.select(user_departments_table.c.department_id, user_departments_table.c.is_primary)
        .where(user_departments_table.c.user_id == user_id)
        .order_by(
            user_departments_table.c.is_primary.desc(), user_departments_table.c.department_id
        )
    ).all()
    ids = [row.department_id for row in rows]
    primary = next((row.department_id for row in rows if row.is_primary), None)
    return ids, primary


def normalize_kind(text: str | None) -> str | None:
    """``"病区"`` → ``"ward"``; ``None`` for an empty text; ValueError if unknown."""
    if text is None or not text.strip():
        return None
    kind = KINDS.get(text.strip().casefold())
    if kind is None:
        raise ValueError(f"'{text}' is not a level; use hospital, division, department or ward")
    return kind


_KEEP: Any = object()


class OrgService:
    """Departments and memberships of one workspace. Changes need an administrator."""

    def __init__(self, workspace: Workspace, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.workspace = workspace
        self.engine = workspace.engine
        self.clock = clock

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            connection.execution_options(read_only=True)
            yield connection

    def _audit(self, connection: Connection, actor: Actor, action: str, details: dict) -> None:
        append(
            connection,
            AuditEntry(action, actor.user_id, actor.username, details=details),
            at=self.clock(),
        )

    def directory(self) -> OrgDirectory:
        with self._read() as connection:
            return OrgDirectory.load(connection)

    # -- departments ----------------------------------------------------------
    def add_department(
        self,
        code: str,
        name: str,
        *,
        parent: str | None = None,
        head: str | None = None,
        kind: str | None = None,
        actor: Actor = SYSTEM,
    ) -> Department:
        """Add a department under ``parent`` (a code; ``None``: a root)."""
        require_admin(actor, "change departments")
        code, name = _check_code(code), _check_name(name)
        kind = _kind(kind)
        with self.engine.begin() as connection:
            directory = OrgDirectory.load(connection)
            if directory.by_code(code) is not None:
                raise OrgError(f"a department with the code '{code}' already exists")
            parent_id = _department(directory, parent).id if parent else None
            head_id = _user_id(connection, head) if head else None
            department_id = connection.execute(
                departments_table.insert().values(
                    code=code,
                    name=name,
                    parent_id=parent_id,
                    head_user_id=head_id,
                    kind=kind,
                    active=True,
                )
            ).inserted_primary_key[0]
            self._audit(
                connection,
                actor,
                "department_created",
                {"code": code, "name": name, "parent": parent, "head": head, "kind": kind},
            )
            return OrgDirectory.load(connection).get(department_id)  # type: ignore[return-value]

    def update_department(
        self,
        code: str,
        *,
        name: str | None = None,
        parent: str | None = _KEEP,
        head: str | None = _KEEP,
        kind: str | None = _KEEP,
        actor: Actor = SYSTEM,
    ) -> Department:
        """Rename, move (``parent`` code or ``None`` for a root), set or clear the head."""
        require_admin(actor, "change departments")
        with self.engine.begin() as connection:
            directory = OrgDirectory.load(connection)
            department = _department(directory, code)
            values: dict[str, Any] = {}
            if name is not None:
                values["name"] = _check_name(name)
            if parent is not _KEEP:
                parent_id = _department(directory, parent).id if parent else None
                if parent_id == department.id or directory.would_cycle(department.id, parent_id):
                    raise OrgError(
                        f"'{parent}' is '{department.code}' itself or below it; "
                        "a department cannot be moved under itself"
                    )
                values["parent_id"] = parent_id
            if head is not _KEEP:
                values["head_user_id"] = _user_id(connection, head) if head else None
            if kind is not _KEEP:
                values["kind"] = _kind(kind)
            if values:
                connection.execute(
                    departments_table.update()
                    .where(departments_table.c.id == department.id)
                    .values(**values)
                )
                self._audit(
                    connection,
                    actor,
                    "department_changed",
                    {"code": department.code, **values},
                )
            return OrgDirectory.load(connection).get(department.id)  # type: ignore[return-value]

    def set_head(self, code: str, username: str | None, actor: Actor = SYSTEM) -> Department:
        return self.update_department(code, head=username, actor=actor)

    # -- memberships ----------------------------------------------------------
    def set_user_departments(
        self,
        username: str,
        codes: Iterable[str],
        *,
        primary: str | None = None,
        actor: Actor = SYSTEM,
    ) -> None:
        """Replace a user's departments; ``primary`` (default: the first code)."""
        require_admin(actor, "change memberships")
        codes = list(codes)
        with self.engine.begin() as connection:
            directory = OrgDirectory.load(connection)
            user = find_user(connection, username)
            if user is None:
                raise OrgError(f"there is no user named '{username}'")
            ids = [_department(directory, code).id for code in codes]
            primary_id = _department(directory, primary).id if primary else None
            if primary_id is not None and primary_id not in ids:
                raise OrgError(f"the primary department '{primary}' is not among the departments")
            set_memberships(connection, user.id, ids, primary_id)
            self._audit(
                connection,
                actor,
                "memberships_changed",
                {"user": user.username, "departments": codes, "primary": primary or codes[:1]},
            )

    def user_departments(self, username: str) -> list[Department]:
        """A user's departments, the primary one first."""
        with self._read() as connection:
            user = find_user(connection, username)
            if user is None:
                raise OrgError(f"there is no user named '{username}'")
            ids, _primary = memberships(connection, user.id)
            directory = OrgDirectory.load(connection)
        return [directory.get(i) for i in ids if directory.get(i) is not None]  # type: ignore[misc]

    def members(self, code: str) -> list[tuple[int, str, bool]]:
        """``(user id, user name, is primary)`` of a department's members."""
        with self._read() as connection:
            department = _department(OrgDirectory.load(connection), code)
            rows = connection.execute(
                sa.select(
                    users_table.c.id, users_table.c.username, user_departments_table.c.is_primary
                )
                .join(users_table, users_table.c.id == user_departments_table.c.user_id)
                .where(user_departments_table.c.department_id == department.id)
                .order_by(users_table.c.username)
            )
            return [(row.id, row.username, bool(row.is_primary)) for row in rows]

    # -- import ---------------------------------------------------------------
    def import_xlsx(
        self, path: str | Path, *, actor: Actor = SYSTEM, dry_run: bool = False
    ) -> ImportResult:
        """Import departments and users from a workbook: validate every row, then
        write all of it in one transaction (or nothing: :class:`OrgImportError`
        lists each problem by sheet, row and column).

        Departments and users already in the workspace (same code / user name)
        are updated: a listed department takes the row's name, parent (empty: a
        root) and head (empty: none); a listed user takes a non-empty name, and a
        non-empty department or role cell replaces their departments (the first
        is primary) or roles. Imported users get no password; an administrator
        sets one (``ImportResult.users_without_password``).
        """
        require_admin(actor, "import the organisation")
        sheets = read_workbook(Path(path))
        if dry_run:
            with self._read() as connection:
                plan = _ImportPlan.build(self.workspace, connection, sheets)
            if plan.problems:
                raise OrgImportError(plan.problems)
            return plan.result(dry_run=True)
        # Validate and write in one transaction, so nothing changes in between.
        with self.engine.begin() as connection:
            plan = _ImportPlan.build(self.workspace, connection, sheets)
            if plan.problems:
                raise OrgImportError(plan.problems)  # rolls back: nothing was written
            result = plan.result(dry_run=False)
            plan.apply(connection, actor, self.clock())
            self._audit(
                connection,
                actor,
                "import",
                {
                    "what": "organisation",
                    "file": Path(path).name,
                    "departments_created": result.departments_created,
                    "departments_updated": result.departments_updated,
                    "users_created": result.users_created,
                    "users_updated": result.users_updated,
                },
            )
        return result


def _check_code(code: str) -> str:
    code = (code or "").strip()
    if not code:
        raise OrgError("a department needs a code")
    if len(code) > MAX_CODE_LENGTH or LIST_SEPARATORS.search(code):
        raise OrgError(
            f"'{code}' is not a usable code (at most {MAX_CODE_LENGTH} characters, "
            "no spaces, commas or 、)"
        )
    return code


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise OrgError("a department needs a name")
    if len(name) > MAX_NAME_LENGTH:
        raise OrgError(f"a department name has at most {MAX_NAME_LENGTH} characters")
    return name


def _kind(text: str | None) -> str | None:
    try:
        return normalize_kind(text)
    except ValueError as error:
        raise OrgError(str(error)) from None


def _department(directory: OrgDirectory, code: str | None) -> Department:
    department = directory.by_code(code or "")
    if department is None:
        raise OrgError(f"there is no department with the code '{code}'")
    return department


def _user_id(connection: Connection, username: str) -> int:
    user = find_user(connection, username)
    if user is None:
        raise OrgError(f"there is no user named '{username}'")
    return user.id


# -- Excel import ------------------------------------------------------------------
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


def _header_matches(header: str, aliases: Iterable[str]) -> bool:
    words = {header.strip().casefold()} | {
        part.casefold() for part in _HEADER_PARTS.split(header) if part
    }
    return any(alias.casefold() in words for alias in aliases)


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


@dataclass
class _ImportPlan:
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
        existing = {
            row.username_key: row.id
            for row in connection.execute(sa.select(users_table.c.id, users_table.c.username_key))
            if row.username_key
        }
        plan = cls(OrgDirectory.load(connection), existing)
        department_sheet = user_sheet = None
        for sheet in sheets:
            if not sheet.rows:
                continue
            header = sheet.rows[0][1]
            if any(_header_matches(cell, USER_COLUMNS["username"]) for cell in header):
                if user_sheet is not None:
                    plan.problem(sheet.title, None, "", "a second sheet of users; use one")
                user_sheet = sheet
            elif any(_header_matches(c, DEPARTMENT_COLUMNS["code"]) for c in header):
                if department_sheet is not None:
                    plan.problem(sheet.title, None, "", "a second sheet of departments; use one")
                department_sheet = sheet
        if department_sheet is None and user_sheet is None:
            plan.problem(
                "",
                None,
                "",
                "no sheet of departments (columns 编码/code, 名称/name, 上级编码/parent_code, "
                "负责人/head) or of users (用户名/username, 姓名/display_name, "
                "科室编码/department_codes, 角色/roles) found",
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
            if _header_matches(text, PASSWORD_HEADERS):
                self.problem(
                    sheet.title,
                    header_row,
                    text,
                    "passwords cannot be imported; remove this column — imported users get no "
                    "password and an administrator sets each one (formwright user passwd NAME)",
                )
                ok = False
                continue
            for name, aliases in wanted.items():
                if _header_matches(text, aliases):
                    if name in found:
                        self.problem(
                            sheet.title,
                            header_row,
                            text,
                            f"the same column as '{found[name][1]}'; keep one",
                        )
                        ok = False
                    else:
                        found[name] = (index, text)
                    break
        for name in required:
            if name not in found:
                aliases = "/".join(wanted[name][:1] + wanted[name][-1:])
                self.problem(sheet.title, header_row, aliases, "this column is missing")
                ok = False
        return found if ok else None

    def read_departments(self, sheet: Sheet) -> None:
        columns = self._columns(sheet, DEPARTMENT_COLUMNS, ("code", "name"))
        if columns is None:
            return
        seen: dict[str, int] = {}
        for number, cells in sheet.rows[1:]:
            value = _getter(cells, columns)
            row_ok = True

            def bad(column: str, message: str, number: int = number) -> None:
                nonlocal row_ok
                self.problem(sheet.title, number, columns[column][1], message)
                row_ok = False

            code, name = value("code"), value("name")
            if not code:
                bad("code", "the code is empty")
            elif len(code) > MAX_CODE_LENGTH or LIST_SEPARATORS.search(code):
                bad("code", f"'{code}' is not a usable code (no spaces, commas or 、)")
            elif code.casefold() in seen:
                bad(
                    "code",
                    f"the code '{code}' appears again (first in row {seen[code.casefold()]})",
                )
            if not name:
                bad("name", "the name is empty")
            elif len(name) > MAX_NAME_LENGTH:
                bad("name", f"the name is longer than {MAX_NAME_LENGTH} characters")
            kind = None
            if "kind" in columns:
                try:
                    kind = normalize_kind(value("kind"))
                except ValueError as error:
                    bad("kind", str(error))
            if code and code.casefold() not in seen:
                seen[code.casefold()] = number
            if row_ok:
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
            row_ok = True

            def bad(column: str, message: str, number: int = number) -> None:
                nonlocal row_ok
                self.problem(sheet.title, number, columns[column][1], message)
                row_ok = False

            username = value("username")
            key = username_key(username)
            problem = username_problem(username)
            if problem:
                bad("username", problem)
            elif key in seen:
                bad("username", f"the user '{username}' appears again (first in row {seen[key]})")
            else:
                seen[key] = number
            display_name = value("display_name")
            if not display_name and key not in self.existing_users:
                bad("display_name", "the name is empty")
            elif len(display_name) > MAX_NAME_LENGTH:
                bad("display_name", f"the name is longer than {MAX_NAME_LENGTH} characters")
            codes = [c for c in LIST_SEPARATORS.split(value("department_codes")) if c]
            for code in codes:
                if code.casefold() not in known_codes:
                    bad(
                        "department_codes",
                        f"no department with the code '{code}' in this workbook or the workspace",
                    )
            roles: list[tuple[str, str]] = []
            for item in (r for r in LIST_SEPARATORS.split(value("roles")) if r):
                app_id, colon, role_key = item.replace("：", ":").partition(":")
                if not colon or not app_id or not role_key:
                    bad(
                        "roles", f"'{item}' is not app:role (for example equipment_repair:engineer)"
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
            if row_ok:
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
                parent = self.directory.get(department.parent_id or -1)
                parent_of[department.code.casefold()] = (
                    parent.code.casefold() if parent and parent.code else None
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
                        "a department cannot be its own parent",
                    )
                elif parent not in known:
                    self.problem(
                        sheet,
                        row.row,
                        columns["parent_code"][1],
                        f"no department with the code '{row.parent_code}' in this workbook or the workspace",
                    )
                else:
                    cycle = _cycle_from(code, parent_of)
                    if cycle:
                        self.problem(
                            sheet,
                            row.row,
                            columns["parent_code"][1],
                            "the parent codes form a cycle: "
                            + " → ".join(spelling.get(c, c) for c in cycle),
                        )
            if row.head and username_key(row.head) not in user_keys:
                self.problem(
                    sheet,
                    row.row,
                    columns["head"][1],
                    f"no user named '{row.head}' in this workbook or the workspace",
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
                ids[code] = connection.execute(
                    departments_table.insert().values(
                        code=row.code, name=row.name, kind=row.kind, active=True
                    )
                ).inserted_primary_key[0]
                audit(
                    "department_created", {"code": row.code, "name": row.name, "source": "import"}
                )
            else:
                connection.execute(
                    departments_table.update()
                    .where(departments_table.c.id == existing.id)
                    .values(name=row.name, kind=row.kind or existing.kind)
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
                user_id = insert_user(connection, user.username, user.display_name, now)
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
                connection.execute(
                    users_table.update()
                    .where(users_table.c.id == user_id)
                    .values(display_name=user.display_name)
                )
                audit(
                    "user_changed", {"user": user.username, "user_id": user_id, "source": "import"}
                )
            if user.has_departments:
                set_memberships(connection, user_id, [ids[c] for c in user.department_codes])
            if user.has_roles:
                connection.execute(
                    user_roles_table.delete().where(user_roles_table.c.user_id == user_id)
                )
                for app_id, role_key in user.roles:
                    connection.execute(
                        user_roles_table.insert().values(
                            user_id=user_id, app_id=app_id, role_key=role_key
                        )
                    )
        # 3. parents and heads
        for row in self.departments:
            connection.execute(
                departments_table.update()
                .where(departments_table.c.id == ids[row.code.casefold()])
                .values(
                    parent_id=ids[row.parent_code.casefold()] if row.parent_code else None,
                    head_user_id=user_ids[username_key(row.head)] if row.head else None,
                )
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
