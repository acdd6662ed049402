"""Users as stored: ``fw_users``, their roles (``fw_user_roles``) and their
departments (``fw_user_departments``).

The account and organisation services keep the rules (who may do what, the
password policy, the lockout, audit rows); the queries they need are here. Every
function takes the caller's connection, so a change and its audit row share one
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.connection import inserted_id
from runtime.store.schema import user_departments_table, user_roles_table, users_table


def username_key(username: str) -> str:
    """The form of a user name that must be unique: trimmed and case-folded
    (the ``username_key`` column)."""
    return username.strip().casefold()


@dataclass(frozen=True)
class StoredUser:
    """One ``fw_users`` row."""

    id: int
    username: str
    display_name: str
    password_hash: str | None = field(repr=False)
    is_admin: bool
    active: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None
    password_changed_at: datetime | None

    @classmethod
    def from_row(cls, row) -> StoredUser:
        return cls(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            password_hash=row.password_hash,
            is_admin=bool(row.is_admin),
            active=bool(row.active),
            failed_logins=row.failed_logins or 0,
            locked_until=row.locked_until,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
            password_changed_at=row.password_changed_at,
        )


# -- finding users -------------------------------------------------------------
def find_user_by_name(
    connection: Connection, username: str, *, lock: bool = False
) -> StoredUser | None:
    """The user of a user name (any case), or ``None``; ``lock`` holds the row
    (``FOR UPDATE``) until the transaction ends.

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
    row = connection.execute(query).first()
    return None if row is None else StoredUser.from_row(row)


def find_user_by_id(connection: Connection, user_id: int) -> StoredUser | None:
    row = connection.execute(sa.select(users_table).where(users_table.c.id == user_id)).first()
    return None if row is None else StoredUser.from_row(row)


def all_users(connection: Connection) -> list[StoredUser]:
    """Every user, in the order of their case-folded names."""
    rows = connection.execute(sa.select(users_table).order_by(users_table.c.username_key))
    return [StoredUser.from_row(row) for row in rows]


def user_ids_by_key(connection: Connection) -> dict[str, int]:
    """``username_key`` → user id of every user that has a key."""
    query = sa.select(users_table.c.id, users_table.c.username_key)
    return {row.username_key: row.id for row in connection.execute(query) if row.username_key}


def has_active_admin(connection: Connection, *, besides: int | None = None) -> bool:
    """True when an active administrator exists (other than user ``besides``)."""
    query = sa.select(users_table.c.id).where(
        users_table.c.is_admin.is_(True), users_table.c.active.is_(True)
    )
    if besides is not None:
        query = query.where(users_table.c.id != besides)
    return connection.execute(query.limit(1)).first() is not None


# -- changing users ------------------------------------------------------------
def insert_user(
    connection: Connection,
    username: str,
    display_name: str,
    now: datetime,
    *,
    password_hash: str | None = None,
    is_admin: bool = False,
) -> int:
    """Add an active user (the caller validated and audits); returns its id.
    An empty display name becomes the user name."""
    name = username.strip()
    return inserted_id(
        connection.execute(
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
        )
    )


def update_profile(
    connection: Connection,
    user_id: int,
    *,
    display_name: str | None = None,
    is_admin: bool | None = None,
) -> None:
    """Change a user's display name and/or administrator flag (``None``: keep)."""
    values = {"display_name": display_name, "is_admin": is_admin}
    _update(connection, user_id, **{key: v for key, v in values.items() if v is not None})


def set_active(connection: Connection, user_id: int, active: bool) -> None:
    """Enable or disable an account."""
    _update(connection, user_id, active=active)


def store_password(
    connection: Connection, user_id: int, password_hash: str, changed_at: datetime
) -> None:
    """A new password hash; it also lifts a lockout and resets the failure count."""
    _update(
        connection,
        user_id,
        password_hash=password_hash,
        password_changed_at=changed_at,
        failed_logins=0,
        locked_until=None,
    )


def clear_lockout(connection: Connection, user_id: int) -> None:
    """No lock and no failed logins counted."""
    _update(connection, user_id, failed_logins=0, locked_until=None)


def record_failed_login(
    connection: Connection, user_id: int, failures: int, locked_until: datetime | None
) -> None:
    """The consecutive failures so far, and the lock they caused (if any)."""
    _update(connection, user_id, failed_logins=failures, locked_until=locked_until)


def record_login(
    connection: Connection, user_id: int, at: datetime, new_password_hash: str | None = None
) -> None:
    """A successful login: the failure count and any lock are cleared; a
    ``new_password_hash`` (the same password with stronger parameters) replaces
    the stored one."""
    values: dict = {"failed_logins": 0, "locked_until": None, "last_login_at": at}
    if new_password_hash is not None:
        values["password_hash"] = new_password_hash
    _update(connection, user_id, **values)


def _update(connection: Connection, user_id: int, **values) -> None:
    if values:
        connection.execute(users_table.update().where(users_table.c.id == user_id).values(values))


# -- roles -----------------------------------------------------------------------
def roles_of(connection: Connection, user_id: int) -> dict[str, frozenset[str]]:
    """A user's role keys per app id."""
    rows = connection.execute(
        sa.select(user_roles_table.c.app_id, user_roles_table.c.role_key).where(
            user_roles_table.c.user_id == user_id
        )
    )
    roles: dict[str, set[str]] = {}
    for app_id, role_key in rows:
        roles.setdefault(app_id, set()).add(role_key)
    return {app_id: frozenset(keys) for app_id, keys in roles.items()}


def grant_role(connection: Connection, user_id: int, app_id: str, role_key: str) -> None:
    """Give a role the user does not hold yet."""
    connection.execute(
        user_roles_table.insert().values(user_id=user_id, app_id=app_id, role_key=role_key)
    )


def revoke_role(connection: Connection, user_id: int, app_id: str, role_key: str) -> bool:
    """Take a role away; False if the user did not hold it."""
    table = user_roles_table
    removed = connection.execute(
        table.delete().where(
            table.c.user_id == user_id, table.c.app_id == app_id, table.c.role_key == role_key
        )
    ).rowcount
    return bool(removed)


def replace_roles(connection: Connection, user_id: int, roles: Iterable[tuple[str, str]]) -> None:
    """The user holds exactly these ``(app id, role key)`` roles."""
    connection.execute(user_roles_table.delete().where(user_roles_table.c.user_id == user_id))
    for app_id, role_key in dict.fromkeys(roles):
        grant_role(connection, user_id, app_id, role_key)


# -- departments of users ----------------------------------------------------------
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
    table = user_departments_table
    connection.execute(table.delete().where(table.c.user_id == user_id))
    for department_id in ids:
        connection.execute(
            table.insert().values(
                user_id=user_id, department_id=department_id, is_primary=department_id == primary
            )
        )


def memberships(connection: Connection, user_id: int) -> tuple[list[int], int | None]:
    """A user's department ids (primary first) and the primary one."""
    table = user_departments_table
    rows = connection.execute(
        sa.select(table.c.department_id, table.c.is_primary)
        .where(table.c.user_id == user_id)
        .order_by(table.c.is_primary.desc(), table.c.department_id)
    ).all()
    ids = [row.department_id for row in rows]
    primary = next((row.department_id for row in rows if row.is_primary), None)
    return ids, primary


def department_members(connection: Connection, department_id: int) -> list[tuple[int, str, bool]]:
    """``(user id, user name, is primary)`` of a department's members, by user name."""
    members = user_departments_table
    rows = connection.execute(
        sa.select(users_table.c.id, users_table.c.username, members.c.is_primary)
        .join(users_table, users_table.c.id == members.c.user_id)
        .where(members.c.department_id == department_id)
        .order_by(users_table.c.username)
    )
    return [(row.id, row.username, bool(row.is_primary)) for row in rows]


def account_state(connection: Connection, user_id: int) -> tuple[bool, datetime | None] | None:
    """(active, locked_until) of a user, None if there is no such user (one
    primary-key row): what every service call's session check reads
    (``runtime.services.accounts.session_guard``)."""
    table = users_table
    row = connection.execute(
        sa.select(table.c.active, table.c.locked_until).where(table.c.id == user_id)
    ).first()
    return None if row is None else (bool(row.active), row.locked_until)
