"""User accounts: passwords, lockout, roles and login sessions (Qt-free).

:class:`AccountService` is put together from its parts: :mod:`.passwords`
(hashing, policy, settings), :mod:`.sessions` (login and lockout),
:mod:`.admin` (users and roles), :mod:`.rows` (the rules the organisation
service shares) and :mod:`.errors`; their names are importable from here. The
rows live in :mod:`runtime.store.accounts`.

* Passwords are hashed with argon2id; the parameters live in each hash and a
  login re-hashes a password whose parameters are weaker than the current ones.
  No default password exists: the first account of an empty workspace is the
  administrator, created with a password its creator chooses.
* Failed logins are counted in ``fw_users`` (all workstations share them). After
  ``lockout_threshold`` consecutive failures the account locks for
  ``lockout_minutes`` or until an administrator unlocks it. Every login, failure,
  lock and unlock is one audit row.
* An unknown user name costs the same work as a known one (a dummy hash is
  verified) and gets the same message, so names cannot be probed.
* :meth:`AccountService.login` returns a :class:`Session`; ``session.actor()``
  is the :class:`~runtime.services.actor.Actor` the record services take.

Settings (table ``fw_settings``, scope ``accounts``): ``password_min_length``
(8), ``lockout_threshold`` (5), ``lockout_minutes`` (15).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from argon2 import PasswordHasher

from runtime.services.accounts.admin import UserAdministration
from runtime.services.accounts.errors import (
    AccountDisabled,
    AccountError,
    AccountLocked,
    LoginFailed,
    PasswordPolicyError,
)
from runtime.services.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    MEMORY_COST_KIB,
    PARALLELISM,
    SETTING_LIMITS,
    SETTINGS_SCOPE,
    TIME_COST,
    AccountSettings,
    default_hasher,
    read_settings,
)
from runtime.services.accounts.rows import (
    BUILTIN_APP_ROLES,
    MAX_USERNAME_LENGTH,
    UserInfo,
    require_admin,
    role_problem,
    username_key,
    username_problem,
)
from runtime.services.accounts.sessions import WRONG_CREDENTIALS, Logins, Session
from runtime.store.accounts import insert_user, set_memberships
from runtime.store.accounts import roles_of as user_roles
from runtime.store.audit import utc_now
from runtime.store.workspace import Workspace


class AccountService(Logins, UserAdministration):
    """Users of one workspace. Administrative methods take the acting user."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        clock: Callable[[], datetime] = utc_now,
        hasher: PasswordHasher | None = None,
    ) -> None:
        super().__init__(workspace, clock, hasher or default_hasher())


__all__ = [
    "BUILTIN_APP_ROLES",
    "MAX_PASSWORD_LENGTH",
    "MAX_USERNAME_LENGTH",
    "MEMORY_COST_KIB",
    "PARALLELISM",
    "SETTINGS_SCOPE",
    "SETTING_LIMITS",
    "TIME_COST",
    "WRONG_CREDENTIALS",
    "AccountDisabled",
    "AccountError",
    "AccountLocked",
    "AccountService",
    "AccountSettings",
    "LoginFailed",
    "PasswordPolicyError",
    "Session",
    "UserInfo",
    "default_hasher",
    "insert_user",
    "read_settings",
    "require_admin",
    "role_problem",
    "set_memberships",
    "user_roles",
    "username_key",
    "username_problem",
]
