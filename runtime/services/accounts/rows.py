"""Rules about users the account and organisation services share: valid user
names, assignable roles, who is an administrator, and :class:`UserInfo`.

The rows themselves live in :mod:`runtime.store.accounts` (``username_key``,
the form of a name that is unique, is importable from here too). Nothing here
writes audit rows: callers do, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from resources.messages import tr
from runtime.services.accounts.errors import AccountError
from runtime.services.accounts.session_guard import require_session
from runtime.services.actor import Actor
from runtime.store.accounts import StoredUser, username_key
from runtime.store.connection import Connection
from runtime.store.workspace import Workspace

MAX_USERNAME_LENGTH = 64
#: The role every app has without declaring it: everything in that app.
BUILTIN_APP_ROLES = frozenset({"admin"})


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
    def of(cls, user: StoredUser) -> UserInfo:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            is_admin=user.is_admin,
            active=user.active,
            has_password=user.password_hash is not None,
            failed_logins=user.failed_logins,
            locked_until=user.locked_until,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
            password_changed_at=user.password_changed_at,
        )
