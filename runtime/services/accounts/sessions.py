"""Logging in: the lockout, one audit row per attempt, and the session a login opens.

* Failed logins are counted in ``fw_users`` (all workstations share them). After
  ``lockout_threshold`` consecutive failures the account locks for
  ``lockout_minutes`` or until an administrator unlocks it.
* An unknown user name costs the same work as a known one (a dummy hash is
  verified) and gets the same message, so names cannot be probed.
* ``session.actor()`` is the :class:`~runtime.services.actor.Actor` the record
  services take.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from resources.messages import tr
from runtime.services.accounts.errors import (
    AccountDisabled,
    AccountError,
    AccountLocked,
    LoginFailed,
)
from runtime.services.accounts.passwords import AccountBase, read_settings
from runtime.services.accounts.rows import MAX_USERNAME_LENGTH, UserInfo
from runtime.services.accounts.session_guard import session_guard
from runtime.services.actor import Actor
from runtime.services.org.directory import OrgDirectory
from runtime.store import accounts as accounts_store
from runtime.store.accounts import StoredUser
from runtime.store.audit import AuditEntry
from runtime.store.connection import Connection

WRONG_CREDENTIALS = "wrong user name or password"


def _wrong_credentials() -> LoginFailed:
    """The one failure that does not say whether the name or the password was wrong."""
    return LoginFailed(tr("wrong user name or password"))


@dataclass(frozen=True)
class Session:
    """A logged-in user: who, in which departments, holding which roles."""

    user: UserInfo
    #: The user's departments; ``primary_department`` is one of them (or ``None``).
    department_ids: frozenset[int]
    primary_department: int | None
    #: ``department_ids`` plus every department below them.
    department_tree_ids: frozenset[int]
    #: Role keys per app id.
    roles: Mapping[str, frozenset[str]]
    started_at: datetime

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def display_name(self) -> str:
        return self.user.display_name

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin

    def roles_in(self, app_id: str) -> frozenset[str]:
        return self.roles.get(app_id, frozenset())

    def actor(self) -> Actor:
        """The acting user the record services take."""
        return Actor(
            user_id=self.user.id,
            username=self.user.username,
            display_name=self.user.display_name,
            is_admin=self.user.is_admin,
            primary_department=self.primary_department,
            department_ids=self.department_ids,
            roles=dict(self.roles),
            department_tree_ids=self.department_tree_ids,
        )


@dataclass
class _Attempt:
    """What a login attempt decided inside its transaction."""

    user_id: int | None = None
    error: AccountError | None = None


class Logins(AccountBase):
    """Logging in and sessions: a part of :class:`~runtime.services.accounts.service.AccountService`."""

    def login(self, username: str, password: str) -> Session:
        """Check a password and open a session, or raise :class:`LoginFailed`
        (:class:`AccountLocked`, :class:`AccountDisabled` are kinds of it)."""
        attempted = username.strip()[:MAX_USERNAME_LENGTH].replace("\x00", "\ufffd")  # audited
        dummy = self._dummy()  # made before any lookup, so no first-unknown-name delay
        with self._read() as connection:
            row = accounts_store.find_user_by_name(connection, attempted) if attempted else None
        stored = row.password_hash if row is not None else None
        # An unknown name or a user without a password does the same work.
        verified = self._verify(stored or dummy, password) and stored is not None
        new_hash = (
            self.hasher.hash(password)
            if verified and stored is not None and self.needs_rehash(stored)
            else None
        )

        with self.engine.begin() as connection:
            attempt = self._record_attempt(
                connection, attempted, stored, verified, password, new_hash
            )
        if attempt.error is not None:
            raise attempt.error
        assert attempt.user_id is not None
        return self.session_for(attempt.user_id)

    def _record_attempt(
        self,
        connection: Connection,
        attempted: str,
        read_hash: str | None,
        verified: bool,
        password: str,
        new_hash: str | None,
    ) -> _Attempt:
        now = self.clock()
        row = (
            accounts_store.find_user_by_name(connection, attempted, lock=True)
            if attempted
            else None
        )
        if row is not None and row.password_hash != read_hash:
            # Changed between our read and this transaction (a reset, a rehash).
            verified = row.password_hash is not None and self._verify(row.password_hash, password)
            new_hash = None
        if row is None or row.password_hash is None:
            reason = "unknown_user" if row is None else "no_password"
            self._failure(connection, row, attempted, {"reason": reason})
            return _Attempt(error=_wrong_credentials())

        failures = row.failed_logins or 0
        if row.locked_until is not None:
            if row.locked_until > now:
                self._failure(connection, row, attempted, {"reason": "locked"})
                return _Attempt(error=AccountLocked(row.username, row.locked_until))
            failures = 0  # the lock has expired: a fresh count
            accounts_store.clear_lockout(connection, row.id)
            self._audit(
                connection,
                AuditEntry(
                    "account_unlocked",
                    row.id,
                    row.username,
                    details={"user": row.username, "by": "expiry"},
                ),
            )
        if not row.active:
            self._failure(connection, row, attempted, {"reason": "disabled"})
            # Only someone who knows the password learns that the account is disabled.
            error = AccountDisabled(row.username) if verified else _wrong_credentials()
            return _Attempt(error=error)

        if not verified:
            failures += 1
            settings = read_settings(connection)
            details: dict[str, Any] = {"reason": "wrong_password", "failures": failures}
            if failures >= settings.lockout_threshold:
                until = now + timedelta(minutes=settings.lockout_minutes)
                accounts_store.record_failed_login(connection, row.id, failures, until)
                self._failure(connection, row, attempted, details)
                self._audit(
                    connection,
                    AuditEntry(
                        "account_locked",
                        row.id,
                        row.username,
                        details={"user": row.username, "failures": failures, "until": until},
                    ),
                )
                session_guard(self.workspace).forget(row.id)  # its open sessions end
                return _Attempt(error=AccountLocked(row.username, until))
            accounts_store.record_failed_login(connection, row.id, failures, None)
            self._failure(connection, row, attempted, details)
            return _Attempt(error=_wrong_credentials())

        accounts_store.record_login(connection, row.id, now, new_hash)
        self._audit(
            connection,
            AuditEntry("login", row.id, row.username, details={"rehashed": new_hash is not None}),
        )
        return _Attempt(user_id=row.id)

    def _failure(
        self, connection: Connection, row: StoredUser | None, attempted: str, details: dict
    ) -> None:
        self._audit(
            connection,
            AuditEntry(
                "login_failed",
                row.id if row is not None else None,
                row.username if row is not None else attempted,
                details={"attempted": attempted, **details},
            ),
        )

    def session_for(self, user_id: int) -> Session:
        """The session of a user as the database says now (after a role change …)."""
        with self._read() as connection:
            user = accounts_store.find_user_by_id(connection, user_id)
            if user is None:
                raise AccountError(tr("there is no user #{id}").format(id=user_id))
            department_ids, primary = accounts_store.memberships(connection, user_id)
            tree = OrgDirectory.load(connection).descendants(department_ids)
            roles = accounts_store.roles_of(connection, user_id)
        return Session(
            user=UserInfo.of(user),
            department_ids=frozenset(department_ids),
            primary_department=primary,
            department_tree_ids=frozenset(tree),
            roles=roles,
            started_at=self.clock(),
        )
