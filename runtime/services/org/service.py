"""The organisation: a department tree, its heads, users' memberships (Qt-free).

Departments form a tree (hospital → division → department → ward); each has a
unique code and optionally a head (a user). Users belong to one or more
departments, one of them primary (new records belong to it).

:class:`OrgDirectory` is an in-memory snapshot of the tree for fast questions
(``descendants`` for the ``department_tree`` row scope, ``head_of`` for
approvals). :meth:`OrgService.import_xlsx` reads departments and users from an
Excel workbook: every row is validated first and nothing is written unless all
rows are valid.

The tree lives in :mod:`.directory`, the workbook import in :mod:`.workbook`
and :mod:`.importer`; their names are importable from here. The rows live in
:mod:`runtime.store.org` and :mod:`runtime.store.accounts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from resources.messages import tr
from runtime.services.accounts.rows import require_admin
from runtime.services.actor import SYSTEM, Actor
from runtime.services.org.directory import (
    KINDS,
    LIST_SEPARATORS,
    MAX_CODE_LENGTH,
    MAX_NAME_LENGTH,
    Department,
    OrgDirectory,
    OrgError,
    memberships,
    normalize_kind,
)
from runtime.services.org.importer import ImportPlan
from runtime.services.org.workbook import (
    DEPARTMENT_COLUMNS,
    PASSWORD_HEADERS,
    USER_COLUMNS,
    ImportProblem,
    ImportResult,
    OrgImportError,
    Sheet,
    read_workbook,
)
from runtime.store import accounts as accounts_store
from runtime.store import org as org_store
from runtime.store.accounts import StoredUser
from runtime.store.audit import AuditEntry, append, utc_now
from runtime.store.connection import Connection
from runtime.store.workspace import Workspace

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
        require_admin(actor, tr("only an administrator may change departments"), self.workspace)
        code, name = _check_code(code), _check_name(name)
        kind = _kind(kind)
        with self.engine.begin() as connection:
            directory = OrgDirectory.load(connection)
            if directory.by_code(code) is not None:
                raise OrgError(
                    tr("a department with the code '{code}' already exists").format(code=code)
                )
            parent_id = _department(directory, parent).id if parent else None
            head_id = _user(connection, head).id if head else None
            department_id = org_store.insert_department(
                connection,
                code=code,
                name=name,
                parent_id=parent_id,
                head_user_id=head_id,
                kind=kind,
            )
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
        require_admin(actor, tr("only an administrator may change departments"), self.workspace)
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
                        tr(
                            "'{parent}' is '{code}' itself or below it; "
                            "a department cannot be moved under itself"
                        ).format(parent=parent, code=department.code)
                    )
                values["parent_id"] = parent_id
            if head is not _KEEP:
                values["head_user_id"] = _user(connection, head).id if head else None
            if kind is not _KEEP:
                values["kind"] = _kind(kind)
            if values:
                org_store.update_department(connection, department.id, **values)
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
        require_admin(actor, tr("only an administrator may change memberships"), self.workspace)
        codes = list(codes)
        with self.engine.begin() as connection:
            directory = OrgDirectory.load(connection)
            user = _user(connection, username)
            ids = [_department(directory, code).id for code in codes]
            primary_id = _department(directory, primary).id if primary else None
            if primary_id is not None and primary_id not in ids:
                raise OrgError(
                    tr("the primary department '{code}' is not among the departments").format(
                        code=primary
                    )
                )
            accounts_store.set_memberships(connection, user.id, ids, primary_id)
            self._audit(
                connection,
                actor,
                "memberships_changed",
                {"user": user.username, "departments": codes, "primary": primary or codes[:1]},
            )

    def user_departments(self, username: str) -> list[Department]:
        """A user's departments, the primary one first."""
        with self._read() as connection:
            user = _user(connection, username)
            ids, _primary = accounts_store.memberships(connection, user.id)
            directory = OrgDirectory.load(connection)
        return [directory.get(i) for i in ids if directory.get(i) is not None]  # type: ignore[misc]

    def members(self, code: str) -> list[tuple[int, str, bool]]:
        """``(user id, user name, is primary)`` of a department's members."""
        with self._read() as connection:
            department = _department(OrgDirectory.load(connection), code)
            return accounts_store.department_members(connection, department.id)

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
        require_admin(
            actor, tr("only an administrator may import the organisation"), self.workspace
        )
        sheets = read_workbook(Path(path))
        if dry_run:
            with self._read() as connection:
                plan = ImportPlan.build(self.workspace, connection, sheets)
            if plan.problems:
                raise OrgImportError(plan.problems)
            return plan.result(dry_run=True)
        # Validate and write in one transaction, so nothing changes in between.
        with self.engine.begin() as connection:
            plan = ImportPlan.build(self.workspace, connection, sheets)
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
        raise OrgError(tr("a department needs a code"))
    if len(code) > MAX_CODE_LENGTH or LIST_SEPARATORS.search(code):
        raise OrgError(
            tr(
                "'{code}' is not a usable code (at most {maximum} characters, "
                "no spaces, commas or 、)"
            ).format(code=code, maximum=MAX_CODE_LENGTH)
        )
    return code


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise OrgError(tr("a department needs a name"))
    if len(name) > MAX_NAME_LENGTH:
        raise OrgError(
            tr("a department name has at most {maximum} characters").format(maximum=MAX_NAME_LENGTH)
        )
    if "\x00" in name:
        raise OrgError(tr("a department name must not contain an invisible NUL character"))
    return name


def _kind(text: str | None) -> str | None:
    try:
        return normalize_kind(text)
    except ValueError as error:
        raise OrgError(str(error)) from None


def _department(directory: OrgDirectory, code: str | None) -> Department:
    department = directory.by_code(code or "")
    if department is None:
        raise OrgError(tr("there is no department with the code '{code}'").format(code=code))
    return department


def _user(connection: Connection, username: str) -> StoredUser:
    user = accounts_store.find_user_by_name(connection, username)
    if user is None:
        raise OrgError(tr("there is no user named '{user}'").format(user=username))
    return user


__all__ = [
    "DEPARTMENT_COLUMNS",
    "KINDS",
    "LIST_SEPARATORS",
    "MAX_CODE_LENGTH",
    "MAX_NAME_LENGTH",
    "PASSWORD_HEADERS",
    "USER_COLUMNS",
    "Department",
    "ImportProblem",
    "ImportResult",
    "OrgDirectory",
    "OrgError",
    "OrgImportError",
    "OrgService",
    "Sheet",
    "memberships",
    "normalize_kind",
    "read_workbook",
]
