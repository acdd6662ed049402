"""Administering users: create, change, disable, unlock, passwords and roles.

No default password exists: the first account of an empty workspace is the
administrator, created with a password its creator chooses. Every other change
needs an administrator (a user may change their own password) and writes one
audit row (a lock and an unlock too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from resources.messages import tr
from runtime.services.accounts.errors import (
    AccountDisabled,
    AccountError,
    AccountLocked,
    LoginFailed,
    PasswordPolicyError,
)
from runtime.services.accounts.passwords import AccountBase
from runtime.services.accounts.rows import (
    UserInfo,
    require_admin,
    role_problem,
    username_problem,
)
from runtime.services.accounts.session_guard import session_guard
from runtime.services.actor import SYSTEM, Actor
from runtime.services.org.directory import OrgDirectory
from runtime.store import accounts as accounts_store
from runtime.store.audit import AuditEntry
from runtime.store.connection import Connection
from runtime.store.names import usernames


class UserAdministration(AccountBase):
    """Users and their roles: a part of :class:`~runtime.services.accounts.service.AccountService`."""

    def has_admin(self) -> bool:
        """True once an active administrator exists (the first run is over)."""
        with self._read() as connection:
            return accounts_store.has_active_admin(connection)

    def get_user(self, username: str) -> UserInfo:
        with self._read() as connection:
            return UserInfo.of(self._user(connection, username))

    def list_users(self) -> list[UserInfo]:
        with self._read() as connection:
            return [UserInfo.of(user) for user in accounts_store.all_users(connection)]

    def usernames(self, user_ids: Iterable[int]) -> dict[int, str]:
        """User id -> user name, for the ids of users that exist."""
        with self._read() as connection:
            return usernames(connection, user_ids)

    def create_user(
        self,
        username: str,
        display_name: str | None = None,
        *,
        password: str | None = None,
        is_admin: bool = False,
        departments: Sequence[str] = (),
        actor: Actor = SYSTEM,
    ) -> UserInfo:
        """Add a user; ``departments`` are department codes, the first is primary.

        On an empty workspace the first user must be the administrator (with a
        password); until then no other user can be created. A user created
        without a password cannot log in until an administrator sets one.
        """
        problem = username_problem(username)
        if problem:
            raise AccountError(problem)
        _check_display_name(display_name)
        name = username.strip()
        now = self.clock()
        with self.engine.begin() as connection:
            if accounts_store.has_active_admin(connection):
                require_admin(actor, tr("only an administrator may create users"), self.workspace)
            elif not is_admin:
                raise AccountError(
                    tr("create the administrator first: formwright user add NAME --admin")
                )
            if is_admin and password is None:
                raise AccountError(tr("an administrator account needs a password"))
            if accounts_store.find_user_by_name(connection, name) is not None:
                raise AccountError(tr("a user named '{user}' already exists").format(user=name))
            password_hash = None if password is None else self._hash(password, name, connection)
            user_id = accounts_store.insert_user(
                connection,
                name,
                display_name or name,
                now,
                password_hash=password_hash,
                is_admin=is_admin,
            )
            department_ids = self._department_ids(connection, departments)
            if department_ids:
                accounts_store.set_memberships(
                    connection, user_id, department_ids, department_ids[0]
                )
            self._audit(
                connection,
                AuditEntry(
                    "user_created",
                    actor.user_id,
                    actor.username,
                    details={
                        "user": name,
                        "user_id": user_id,
                        "admin": is_admin,
                        "departments": list(departments),
                        "password_set": password_hash is not None,
                    },
                ),
            )
            return UserInfo.of(self._user(connection, name))

    def _department_ids(self, connection: Connection, codes: Sequence[str]) -> list[int]:
        directory = OrgDirectory.load(connection)
        ids = []
        for code in codes:
            department = directory.by_code(code)
            if department is None:
                raise AccountError(
                    tr("there is no department with the code '{code}'").format(code=code)
                )
            if department.id not in ids:
                ids.append(department.id)
        return ids

    def update_user(
        self,
        username: str,
        *,
        display_name: str | None = None,
        is_admin: bool | None = None,
        actor: Actor = SYSTEM,
    ) -> UserInfo:
        require_admin(actor, tr("only an administrator may change users"), self.workspace)
        _check_display_name(display_name)
        with self.engine.begin() as connection:
            row = self._user(connection, username, lock=True)
            values: dict[str, Any] = {}
            if display_name is not None and display_name.strip():
                values["display_name"] = display_name.strip()[:200]
            if is_admin is not None and is_admin != row.is_admin:
                if not is_admin:
                    self._keep_an_admin(connection, row.id)
                values["is_admin"] = is_admin
            if values:
                accounts_store.update_profile(connection, row.id, **values)
                self._audit(
                    connection,
                    AuditEntry(
                        "user_changed",
                        actor.user_id,
                        actor.username,
                        details={"user": row.username, **values},
                    ),
                )
            return UserInfo.of(self._user(connection, username))

    def set_password(self, username: str, password: str, actor: Actor = SYSTEM) -> None:
        """An administrator sets (resets) a password; this also lifts a lockout."""
        require_admin(
            actor, tr("only an administrator may set other users' passwords"), self.workspace
        )
        with self.engine.begin() as connection:
            row = self._user(connection, username, lock=True)
            new_hash = self._hash(password, row.username, connection)
            accounts_store.store_password(connection, row.id, new_hash, self.clock())
            self._audit(
                connection,
                AuditEntry(
                    "password_set",
                    actor.user_id,
                    actor.username,
                    details={"user": row.username, "user_id": row.id},
                ),
            )

    def change_password(self, username: str, current_password: str, new_password: str) -> None:
        """A user changes their own password, proving the current one."""
        with self._read() as connection:
            row = accounts_store.find_user_by_name(connection, username)
        stored = row.password_hash if row is not None else None
        if (
            not self._verify(stored or self._dummy(), current_password)
            or stored is None
            or row is None
        ):
            raise LoginFailed(tr("the current password is wrong"))
        if not row.active:
            raise AccountDisabled(row.username)
        if row.locked_until is not None and row.locked_until > self.clock():
            raise AccountLocked(row.username, row.locked_until)
        if new_password == current_password:
            raise PasswordPolicyError([tr("the new password must differ from the current one")])
        with self.engine.begin() as connection:
            row = self._user(connection, username, lock=True)
            new_hash = self._hash(new_password, row.username, connection)
            accounts_store.store_password(connection, row.id, new_hash, self.clock())
            self._audit(
                connection,
                AuditEntry("password_changed", row.id, row.username),
            )

    def disable_user(self, username: str, actor: Actor = SYSTEM) -> None:
        """The user can no longer log in; records keep their name."""
        self._set_active(username, False, actor)

    def enable_user(self, username: str, actor: Actor = SYSTEM) -> None:
        self._set_active(username, True, actor)

    def _set_active(self, username: str, active: bool, actor: Actor) -> None:
        require_admin(
            actor, tr("only an administrator may disable or enable users"), self.workspace
        )
        with self.engine.begin() as connection:
            row = self._user(connection, username, lock=True)
            if row.active == active:
                return
            if not active:
                if row.id == actor.user_id:
                    raise AccountError(tr("you cannot disable your own account"))
                if row.is_admin:
                    self._keep_an_admin(connection, row.id)
            accounts_store.set_active(connection, row.id, active)
            self._audit(
                connection,
                AuditEntry(
                    "user_enabled" if active else "user_disabled",
                    actor.user_id,
                    actor.username,
                    details={"user": row.username, "user_id": row.id},
                ),
            )
        session_guard(self.workspace).forget(row.id)  # its open sessions end now

    def _keep_an_admin(self, connection: Connection, leaving_id: int) -> None:
        if not accounts_store.has_active_admin(connection, besides=leaving_id):
            raise AccountError(tr("the workspace must keep at least one active administrator"))

    def unlock(self, username: str, actor: Actor = SYSTEM) -> bool:
        """Lift a lockout and reset the failure count; False if it was not locked."""
        require_admin(actor, tr("only an administrator may unlock accounts"), self.workspace)
        with self.engine.begin() as connection:
            row = self._user(connection, username, lock=True)
            was_locked = row.locked_until is not None and row.locked_until > self.clock()
            if not was_locked and not row.failed_logins and row.locked_until is None:
                return False
            accounts_store.clear_lockout(connection, row.id)
            self._audit(
                connection,
                AuditEntry(
                    "account_unlocked",
                    actor.user_id,
                    actor.username,
                    details={"user": row.username, "user_id": row.id, "by": "administrator"},
                ),
            )
        session_guard(self.workspace).forget(row.id)
        return was_locked

    # -- roles ------------------------------------------------------------------
    def roles_of(self, username: str) -> dict[str, frozenset[str]]:
        with self._read() as connection:
            return accounts_store.roles_of(connection, self._user(connection, username).id)

    def assign_role(self, username: str, app_id: str, role_key: str, actor: Actor = SYSTEM) -> bool:
        """Give a user a role an installed app defines; False if already held."""
        require_admin(actor, tr("only an administrator may assign roles"), self.workspace)
        with self.engine.begin() as connection:
            row = self._user(connection, username)
            problem = role_problem(self.workspace, connection, app_id, role_key)
            if problem:
                raise AccountError(problem)
            if role_key in accounts_store.roles_of(connection, row.id).get(app_id, ()):
                return False
            accounts_store.grant_role(connection, row.id, app_id, role_key)
            self._audit_role(connection, "role_assigned", actor, row, app_id, role_key)
            return True

    def remove_role(self, username: str, app_id: str, role_key: str, actor: Actor = SYSTEM) -> bool:
        """Take a role away; False if the user did not hold it."""
        require_admin(actor, tr("only an administrator may remove roles"), self.workspace)
        with self.engine.begin() as connection:
            row = self._user(connection, username)
            removed = accounts_store.revoke_role(connection, row.id, app_id, role_key)
            if removed:
                self._audit_role(connection, "role_removed", actor, row, app_id, role_key)
            return removed

    def _audit_role(
        self,
        connection: Connection,
        action: str,
        actor: Actor,
        row: accounts_store.StoredUser,
        app_id: str,
        role_key: str,
    ) -> None:
        """The audit row of a role given or taken away."""
        details = {"user": row.username, "user_id": row.id, "role": role_key}
        entry = AuditEntry(action, actor.user_id, actor.username, app_id=app_id, details=details)
        self._audit(connection, entry)


def _check_display_name(display_name: str | None) -> None:
    if display_name is not None and "\x00" in display_name:
        raise AccountError(tr("a display name must not contain an invisible NUL character"))
