"""Users as rows of the workspace: names, lookup and insert, roles and memberships.

Helpers the account and organisation services share. They write no audit rows:
their callers do, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from resources.messages import tr
from runtime.services.accounts.errors import AccountError
from runtime.services.accounts.session_guard import require_session
from runtime.services.actor import Actor
from runtime.store.schema import user_departments_table, user_roles_table, users_table
from runtime.store.workspace import Workspace

MAX_USERNAME_LENGTH = 64
#: The role every app has without declaring it: everything in that app.
BUILTIN_APP_ROLES = frozenset({"admin"})


def username_key(username: str) -> str:
    """The form of a user name that must be unique: trimmed and case-folded."""
    return username.strip().casefold()


def username_problem(username: str) -> str | None:
    """Why a user name cannot be used, or ``None``."""
    name = username.strip()
    if not name:
        return tr("the user name is empty")
    if len(name) > MAX_USERNAME_LENGTH or len(username_key(name)) > MAX_USERNAME_LENGTH:
        return tr("the user name is longer than {maximum} characters").format(
            maximum=MAX_USERNAME_LENGTH
        )
    if any(char.isspace() or not char.isprintable() for char in name):
        return tr("the user name must not contain spaces or control characters")
    if any(char in name for char in ",，、;；:："):
        return tr("the user name must not contain , 、 ; or :")
    return None


def find_user(connection: Connection, username: str, *, lock: bool = False):
    """The ``fw_users`` row of a user name (any case), or ``None``.

    Rows written without ``username_key`` (by older code or raw inserts) are
    found by their exact name.
    """
    if "\x00" in username:
        return None  # no stored name holds a NUL (and PostgreSQL cannot compare one)
    key = username_key(username)
    query = sa.select(users_table).where(
        sa.or_(
            users_table.c.username_key == key,
            sa.and_(
                users_table.c.username_key.is_(None), users_table.c.username == username.strip()
            ),
        )
    )
    if lock:
        query = query.with_for_update()
    return connection.execute(query).first()


def insert_user(
    connection: Connection,
    username: str,
    display_name: str,
    now: datetime,
    *,
    password_hash: str | None = None,
    is_admin: bool = False,
) -> int:
    """Add a ``fw_users`` row (the caller validated and audits); returns its id."""
    name = username.strip()
    return connection.execute(
        users_table.insert().values(
            username=name,
            username_key=username_key(name),
            display_name=display_name.strip() or name,
            password_hash=password_hash,
            is_admin=is_admin,
            active=True,
            failed_logins=0,
            created_at=now,
            password_changed_at=now if password_hash else None,
        )
    ).inserted_primary_key[0]


def user_roles(connection: Connection, user_id: int) -> dict[str, frozenset[str]]:
    rows = connection.execute(
        sa.select(user_roles_table.c.app_id, user_roles_table.c.role_key).where(
            user_roles_table.c.user_id == user_id
        )
    )
    roles: dict[str, set[str]] = {}
    for app_id, role_key in rows:
        roles.setdefault(app_id, set()).add(role_key)
    return {app_id: frozenset(keys) for app_id, keys in roles.items()}


def role_problem(
    workspace: Workspace, connection: Connection, app_id: str, role_key: str
) -> str | None:
    """Why ``app_id:role_key`` cannot be assigned, or ``None``."""
    spec = workspace.installed_spec(app_id, connection)
    if spec is None:
        return tr("the app '{app}' is not installed in this workspace").format(app=app_id)
    if role_key in BUILTIN_APP_ROLES or spec.role(role_key) is not None:
        return None
    known = ", ".join(role.key for role in spec.roles)
    if not known:
        return tr("the app '{app}' defines no role '{role}' (its roles: none)").format(
            app=app_id, role=role_key
        )
    return tr("the app '{app}' defines no role '{role}' (its roles: {roles})").format(
        app=app_id, role=role_key, roles=known
    )


def require_admin(actor: Actor, refusal: str, workspace: Workspace | None = None) -> None:
    """Refuse a non-administrator with ``refusal`` (a whole sentence, already
    translated: ``tr("only an administrator may create users")``), and with
    ``workspace`` a session whose account was disabled or locked since it logged
    in (SessionEnded)."""
    if workspace is not None:
        require_session(workspace, actor)
    if not actor.is_admin:
        raise AccountError(refusal)


@dataclass(frozen=True)
class UserInfo:
    """A user as the account screens and the CLI show it (no password hash)."""

    id: int
    username: str
    display_name: str
    is_admin: bool
    active: bool
    has_password: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None
    password_changed_at: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    @classmethod
    def from_row(cls, row) -> UserInfo:
        return cls(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            is_admin=bool(row.is_admin),
            active=bool(row.active),
            has_password=row.password_hash is not None,
            failed_logins=row.failed_logins or 0,
            locked_until=row.locked_until,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
            password_changed_at=row.password_changed_at,
        )


def set_memberships(
    connection: Connection,
    user_id: int,
    department_ids: Iterable[int],
    primary: int | None = None,
) -> None:
    """Replace a user's departments; ``primary`` (default: the first) is one of them."""
    ids = list(dict.fromkeys(department_ids))
    if primary is None and ids:
        primary = ids[0]
    connection.execute(
        user_departments_table.delete().where(user_departments_table.c.user_id == user_id)
    )
    for department_id in ids:
        connection.execute(
            user_departments_table.insert().values(
                user_id=user_id, department_id=department_id, is_primary=department_id == primary
            )
        )
