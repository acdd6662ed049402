"""User accounts: passwords, lockout, roles and login sessions (Qt-free).

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

import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import ARGON2_VERSION
from sqlalchemy.engine import Connection

from runtime.services.actor import SYSTEM, Actor
from runtime.store.audit import AuditEntry, append, utc_now
from runtime.store.schema import (
    settings_table,
    user_departments_table,
    user_roles_table,
    users_table,
)
from runtime.store.workspace import Workspace

#: argon2id cost: 2 passes over 46 MiB, one lane (OWASP's second recommended
#: configuration; about 50-100 ms on a workstation).
TIME_COST = 2
MEMORY_COST_KIB = 47_104
PARALLELISM = 1
MAX_PASSWORD_LENGTH = 1024
MAX_USERNAME_LENGTH = 64
#: The role every app has without declaring it: everything in that app.
BUILTIN_APP_ROLES = frozenset({"admin"})

SETTINGS_SCOPE = "accounts"
WRONG_CREDENTIALS = "wrong user name or password"


def default_hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=TIME_COST,
        memory_cost=MEMORY_COST_KIB,
        parallelism=PARALLELISM,
        type=Type.ID,
    )


# -- errors -------------------------------------------------------------------
class AccountError(Exception):
    """An account operation that cannot be done; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PasswordPolicyError(AccountError):
    """A new password that does not meet the policy; ``problems`` lists each rule."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class LoginFailed(AccountError):
    """Wrong user name or password (deliberately not saying which)."""


class AccountLocked(LoginFailed):
    """Too many failed logins; ``until`` is naive UTC like every stored time."""

    def __init__(self, username: str, until: datetime) -> None:
        self.username = username
        self.until = until
        local = until.replace(tzinfo=UTC).astimezone()
        super().__init__(
            f"the account '{username}' is locked after too many failed logins until "
            f"{local:%Y-%m-%d %H:%M}; try again then or ask an administrator to unlock it"
        )


class AccountDisabled(LoginFailed):
    def __init__(self, username: str) -> None:
        super().__init__(f"the account '{username}' is disabled; ask an administrator")


# -- settings -------------------------------------------------------------------
@dataclass(frozen=True)
class AccountSettings:
    password_min_length: int = 8
    lockout_threshold: int = 5
    lockout_minutes: int = 15


#: Allowed range of each setting.
SETTING_LIMITS: dict[str, tuple[int, int]] = {
    "password_min_length": (6, 128),
    "lockout_threshold": (1, 100),
    "lockout_minutes": (1, 7 * 24 * 60),
}


def read_settings(connection: Connection) -> AccountSettings:
    rows = connection.execute(
        sa.select(settings_table.c.key, settings_table.c.value).where(
            settings_table.c.scope == SETTINGS_SCOPE
        )
    )
    values: dict[str, int] = {}
    for key, value in rows:
        if key in SETTING_LIMITS:
            low, high = SETTING_LIMITS[key]
            try:
                values[key] = min(max(int(value), low), high)
            except ValueError:
                continue  # a damaged value: keep the default
    return AccountSettings(**values)


# -- users ----------------------------------------------------------------------
def username_key(username: str) -> str:
    """The form of a user name that must be unique: trimmed and case-folded."""
    return username.strip().casefold()


def username_problem(username: str) -> str | None:
    """Why a user name cannot be used, or ``None``."""
    name = username.strip()
    if not name:
        return "the user name is empty"
    if len(name) > MAX_USERNAME_LENGTH or len(username_key(name)) > MAX_USERNAME_LENGTH:
        return f"the user name is longer than {MAX_USERNAME_LENGTH} characters"
    if any(char.isspace() or not char.isprintable() for char in name):
        return "the user name must not contain spaces or control characters"
    if any(char in name for char in ",，、;；:："):
        return "the user name must not contain , 、 ; or :"
    return None


def find_user(connection: Connection, username: str, *, lock: bool = False):
    """The ``fw_users`` row of a user name (any case), or ``None``.

    Rows written without ``username_key`` (by older code or raw inserts) are
    found by their exact name.
    """
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
        return f"the app '{app_id}' is not installed in this workspace"
    if role_key in BUILTIN_APP_ROLES or spec.role(role_key) is not None:
        return None
    known = ", ".join(role.key for role in spec.roles) or "none"
    return f"the app '{app_id}' defines no role '{role_key}' (its roles: {known})"


def require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise AccountError(f"only an administrator may {what}")


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


class AccountService:
    """Users of one workspace. Administrative methods take the acting user."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        clock: Callable[[], datetime] = utc_now,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.workspace = workspace
        self.engine = workspace.engine
        self.clock = clock
        self.hasher = hasher or default_hasher()
        self._dummy_hash: str | None = None

    # -- plumbing -------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            connection.execution_options(read_only=True)
            yield connection

    def _audit(self, connection: Connection, entry: AuditEntry) -> None:
        append(connection, entry, at=self.clock())

    def _user(self, connection: Connection, username: str, *, lock: bool = False):
        row = find_user(connection, username, lock=lock)
        if row is None:
            raise AccountError(f"there is no user named '{username.strip()}'")
        return row

    # -- settings -------------------------------------------------------------
    def settings(self) -> AccountSettings:
        with self._read() as connection:
            return read_settings(connection)

    def update_settings(self, actor: Actor = SYSTEM, **values: int) -> AccountSettings:
        """Change account settings (``password_min_length=10`` …); audited."""
        require_admin(actor, "change account settings")
        known = {item.name for item in fields(AccountSettings)}
        for key, value in values.items():
            if key not in known:
                raise AccountError(f"there is no account setting '{key}'")
            low, high = SETTING_LIMITS[key]
            if not isinstance(value, int) or not low <= value <= high:
                raise AccountError(f"{key} must be a whole number from {low} to {high}")
        with self.engine.begin() as connection:
            for key, value in values.items():
                where = (settings_table.c.scope == SETTINGS_SCOPE) & (settings_table.c.key == key)
                updated = connection.execute(
                    settings_table.update().where(where).values(value=str(value))
                ).rowcount
                if not updated:
                    connection.execute(
                        settings_table.insert().values(
                            scope=SETTINGS_SCOPE, key=key, value=str(value)
                        )
                    )
            self._audit(
                connection,
                AuditEntry("settings_changed", actor.user_id, actor.username, details=values),
            )
            return read_settings(connection)

    # -- passwords ------------------------------------------------------------
    def password_problems(
        self, password: str, username: str, settings: AccountSettings | None = None
    ) -> list[str]:
        """Every rule of the password policy the password breaks (empty: fine)."""
        settings = settings or self.settings()
        problems = []
        if len(password) < settings.password_min_length:
            problems.append(
                f"the password must be at least {settings.password_min_length} characters long"
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            problems.append(f"the password must be at most {MAX_PASSWORD_LENGTH} characters long")
        if password and username_key(password) == username_key(username):
            problems.append("the password must not be the user name")
        if password and len(set(password)) == 1:
            problems.append("the password must not be one character repeated")
        return problems

    def check_password(
        self, password: str, username: str, settings: AccountSettings | None = None
    ) -> None:
        problems = self.password_problems(password, username, settings)
        if problems:
            raise PasswordPolicyError(problems)

    def _hash(self, password: str, username: str, connection: Connection) -> str:
        self.check_password(password, username, read_settings(connection))
        return self.hasher.hash(password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(24))
        return self._dummy_hash

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the stored parameters are weaker than (or differ in kind from)
        the current ones; a stronger hash from a newer workstation is kept."""
        if not self.hasher.check_needs_rehash(password_hash):
            return False
        try:
            stored = extract_parameters(password_hash)
        except InvalidHashError:
            return True
        current = self.hasher
        return (
            stored.type is not Type.ID
            or stored.time_cost < current.time_cost
            or stored.memory_cost < current.memory_cost
            or stored.parallelism < current.parallelism
            or stored.version < ARGON2_VERSION
            or stored.hash_len < current.hash_len
            or stored.salt_len < current.salt_len
        )

    # -- users ------------------------------------------------------------------
    def has_admin(self) -> bool:
        """True once an active administrator exists (the first run is over)."""
        with self._read() as connection:
            return _has_admin(connection)

    def get_user(self, username: str) -> UserInfo:
        with self._read() as connection:
            return UserInfo.from_row(self._user(connection, username))

    def list_users(self) -> list[UserInfo]:
        with self._read() as connection:
            rows = connection.execute(sa.select(users_table).order_by(users_table.c.username_key))
            return [UserInfo.from_row(row) for row in rows]

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
        name = username.strip()
        now = self.clock()
        with self.engine.begin() as connection:
            if _has_admin(connection):
                require_admin(actor, "create users")
            elif not is_admin:
                raise AccountError(
                    "create the administrator first: formwright user add NAME --admin"
                )
            if is_admin and password is None:
                raise AccountError("an administrator account needs a password")
            if find_user(connection, name) is not None:
                raise AccountError(f"a user named '{name}' already exists")
            password_hash = None if password is None else self._hash(password, name, connection)
            user_id = insert_user(
                connection,
                name,
                display_name or name,
                now,
                password_hash=password_hash,
                is_admin=is_admin,
            )
            department_ids = self._department_ids(connection, departments)
            if department_ids:
                set_memberships(connection, user_id, department_ids, department_ids[0])
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
            return UserInfo.from_row(self._user(connection, name))

    def _department_ids(self, connection: Connection, codes: Sequence[str]) -> list[int]:
        from runtime.services.org import OrgDirectory

        directory = OrgDirectory.load(connection)
        ids = []
        for code in codes:
            department = directory.by_code(code)
            if department is None:
                raise AccountError(f"there is no department with the code '{code}'")
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
        require_admin(actor, "change users")
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
                connection.execute(
                    users_table.update().where(users_table.c.id == row.id).values(**values)
                )
                self._audit(
                    connection,
                    AuditEntry(
                        "user_changed",
                        actor.user_id,
                        actor.username,
                        details={"user": row.username, **values},
                    ),
                )
            return UserInfo.from_row(self._user(connection, username))

    def set_password(self, username: str, password: str, actor: Actor = SYSTEM) -> None:
        """An administrator sets (resets) a password; this also lifts a lockout."""
        require_admin(actor, "set other users' passwords")
        with self.engine.begin() as connection:
            row = self._user(connection, username, lock=True)
            new_hash = self._hash(password, row.username, connection)
            self._store_password(connection, row, new_hash)
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
            row = find_user(connection, username)
        stored = row.password_hash if row is not None else None
        if not self._verify(stored or self._dummy(), current_password) or stored is None:
            raise LoginFailed("the current password is wrong")
        if not row.active:
            raise AccountDisabled(row.username)
        if row.locked_until is not None and row.locked_until > self.clock():
            raise AccountLocked(row.username, row.locked_until)
        if new_password == current_password:
            raise PasswordPolicyError(["the new password must differ from the current one"])
        with self.engine.begin() as connection:
            row = self._user(connection, username, lock=True)
            self._store_password(
                connection, row, self._hash(new_password, row.username, connection)
            )
            self._audit(
                connection,
                AuditEntry("password_changed", row.id, row.username),
            )

    def _store_password(self, connection: Connection, row, new_hash: str) -> None:
        connection.execute(
            users_table.update()
            .where(users_table.c.id == row.id)
            .values(
                password_hash=new_hash,
                password_changed_at=self.clock(),
                failed_logins=0,
                locked_until=None,
            )
        )

    def disable_user(self, username: str, actor: Actor = SYSTEM) -> None:
        """The user can no longer log in; records keep their name."""
        self._set_active(username, False, actor)

    def enable_user(self, username: str, actor: Actor = SYSTEM) -> None:
        self._set_active(username, True, actor)

    def _set_active(self, username: str, active: bool, actor: Actor) -> None:
        require_admin(actor, "disable or enable users")
        with self.engine.begin() as connection:
            row = self._user(connection, username, lock=True)
            if row.active == active:
                return
            if not active:
                if row.id == actor.user_id:
                    raise AccountError("you cannot disable your own account")
                if row.is_admin:
                    self._keep_an_admin(connection, row.id)
            connection.execute(
                users_table.update().where(users_table.c.id == row.id).values(active=active)
            )
            self._audit(
                connection,
                AuditEntry(
                    "user_enabled" if active else "user_disabled",
                    actor.user_id,
                    actor.username,
                    details={"user": row.username, "user_id": row.id},
                ),
            )

    def _keep_an_admin(self, connection: Connection, leaving_id: int) -> None:
        others = connection.execute(
            sa.select(sa.func.count())
            .select_from(users_table)
            .where(
                users_table.c.is_admin.is_(True),
                users_table.c.active.is_(True),
                users_table.c.id != leaving_id,
            )
        ).scalar_one()
        if not others:
            raise AccountError("the workspace must keep at least one active administrator")

    def unlock(self, username: str, actor: Actor = SYSTEM) -> bool:
        """Lift a lockout and reset the failure count; False if it was not locked."""
        require_admin(actor, "unlock accounts")
        with self.engine.begin() as connection:
            row = self._user(connection, username, lock=True)
            was_locked = row.locked_until is not None and row.locked_until > self.clock()
            if not was_locked and not row.failed_logins and row.locked_until is None:
                return False
            connection.execute(
                users_table.update()
                .where(users_table.c.id == row.id)
                .values(failed_logins=0, locked_until=None)
            )
            self._audit(
                connection,
                AuditEntry(
                    "account_unlocked",
                    actor.user_id,
                    actor.username,
                    details={"user": row.username, "user_id": row.id, "by": "administrator"},
                ),
            )
            return was_locked

    # -- roles ------------------------------------------------------------------
    def roles_of(self, username: str) -> dict[str, frozenset[str]]:
        with self._read() as connection:
            return user_roles(connection, self._user(connection, username).id)

    def assign_role(self, username: str, app_id: str, role_key: str, actor: Actor = SYSTEM) -> bool:
        """Give a user a role an installed app defines; False if already held."""
        require_admin(actor, "assign roles")
        with self.engine.begin() as connection:
            row = self._user(connection, username)
            problem = role_problem(self.workspace, connection, app_id, role_key)
            if problem:
                raise AccountError(problem)
            if role_key in user_roles(connection, row.id).get(app_id, ()):
                return False
            connection.execute(
                user_roles_table.insert().values(user_id=row.id, app_id=app_id, role_key=role_key)
            )
            self._audit(
                connection,
                AuditEntry(
                    "role_assigned",
                    actor.user_id,
                    actor.username,
                    app_id=app_id,
                    details={"user": row.username, "user_id": row.id, "role": role_key},
                ),
            )
            return True

    def remove_role(self, username: str, app_id: str, role_key: str, actor: Actor = SYSTEM) -> bool:
        """Take a role away; False if the user did not hold it."""
        require_admin(actor, "remove roles")
        with self.engine.begin() as connection:
            row = self._user(connection, username)
            removed = connection.execute(
                user_roles_table.delete().where(
                    user_roles_table.c.user_id == row.id,
                    user_roles_table.c.app_id == app_id,
                    user_roles_table.c.role_key == role_key,
                )
            ).rowcount
            if removed:
                self._audit(
                    connection,
                    AuditEntry(
                        "role_removed",
                        actor.user_id,
                        actor.username,
                        app_id=app_id,
                        details={"user": row.username, "user_id": row.id, "role": role_key},
                    ),
                )
            return bool(removed)

    # -- login ------------------------------------------------------------------
    def login(self, username: str, password: str) -> Session:
        """Check a password and open a session, or raise :class:`LoginFailed`
        (:class:`AccountLocked`, :class:`AccountDisabled` are kinds of it)."""
        attempted = username.strip()[:MAX_USERNAME_LENGTH]
        dummy = self._dummy()  # made before any lookup, so no first-unknown-name delay
        with self._read() as connection:
            row = find_user(connection, attempted) if attempted else None
        stored = row.password_hash if row is not None else None
        # An unknown name or a user without a password does the same work.
        verified = self._verify(stored or dummy, password) and stored is not None
        new_hash = self.hasher.hash(password) if verified and self.needs_rehash(stored) else None

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
        row = find_user(connection, attempted, lock=True) if attempted else None
        if row is not None and row.password_hash != read_hash:
            # Changed between our read and this transaction (a reset, a rehash).
            verified = row.password_hash is not None and self._verify(row.password_hash, password)
            new_hash = None
        if row is None or row.password_hash is None:
            reason = "unknown_user" if row is None else "no_password"
            self._failure(connection, row, attempted, {"reason": reason})
            return _Attempt(error=LoginFailed(WRONG_CREDENTIALS))

        failures = row.failed_logins or 0
        if row.locked_until is not None:
            if row.locked_until > now:
                self._failure(connection, row, attempted, {"reason": "locked"})
                return _Attempt(error=AccountLocked(row.username, row.locked_until))
            failures = 0  # the lock has expired: a fresh count
            self._update(connection, row.id, failed_logins=0, locked_until=None)
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
            error = AccountDisabled(row.username) if verified else LoginFailed(WRONG_CREDENTIALS)
            return _Attempt(error=error)

        if not verified:
            failures += 1
            settings = read_settings(connection)
            details: dict[str, Any] = {"reason": "wrong_password", "failures": failures}
            if failures >= settings.lockout_threshold:
                until = now + timedelta(minutes=settings.lockout_minutes)
                self._update(connection, row.id, failed_logins=failures, locked_until=until)
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
                return _Attempt(error=AccountLocked(row.username, until))
            self._update(connection, row.id, failed_logins=failures)
            self._failure(connection, row, attempted, details)
            return _Attempt(error=LoginFailed(WRONG_CREDENTIALS))

        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
        if new_hash is not None:
            values["password_hash"] = new_hash
        self._update(connection, row.id, **values)
        self._audit(
            connection,
            AuditEntry("login", row.id, row.username, details={"rehashed": new_hash is not None}),
        )
        return _Attempt(user_id=row.id)

    def _update(self, connection: Connection, user_id: int, **values: Any) -> None:
        connection.execute(users_table.update().where(users_table.c.id == user_id).values(values))

    def _failure(self, connection: Connection, row, attempted: str, details: dict) -> None:
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
        from runtime.services.org import OrgDirectory, memberships

        with self._read() as connection:
            row = connection.execute(sa.select(users_table).where(users_table.c.id == user_id))
            row = row.first()
            if row is None:
                raise AccountError(f"there is no user #{user_id}")
            department_ids, primary = memberships(connection, user_id)
            tree = OrgDirectory.load(connection).descendants(department_ids)
            roles = user_roles(connection, user_id)
        return Session(
            user=UserInfo.from_row(row),
            department_ids=frozenset(department_ids),
            primary_department=primary,
            department_tree_ids=frozenset(tree),
            roles=roles,
            started_at=self.clock(),
        )


def _has_admin(connection: Connection) -> bool:
    return (
        connection.execute(
            sa.select(users_table.c.id)
            .where(users_table.c.is_admin.is_(True), users_table.c.active.is_(True))
            .limit(1)
        ).first()
        is not None
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


__all__ = [
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
    "find_user",
    "set_memberships",
    "username_key",
]
