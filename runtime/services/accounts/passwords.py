"""Passwords and the account policy: argon2id hashing, the password rules and the
lockout settings, with the plumbing every part of the account service shares.

Passwords are hashed with argon2id; the parameters live in each hash and a login
re-hashes a password whose parameters are weaker than the current ones.

Passwords among the 10,000 most common ones (``resources/common_passwords.txt.gz``,
from zxcvbn's frequency list, MIT) and the user name, forwards or backwards, are
refused whatever their length.

Settings (table ``fw_settings``, scope ``accounts``): ``password_min_length``
(8), ``lockout_threshold`` (5), ``lockout_minutes`` (15).
"""

from __future__ import annotations

import gzip
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import ARGON2_VERSION

from resources.messages import tr
from runtime.services.accounts.errors import AccountError, PasswordPolicyError
from runtime.services.accounts.rows import require_admin, username_key
from runtime.services.actor import SYSTEM, Actor
from runtime.store.accounts import StoredUser, find_user_by_name
from runtime.store.audit import AuditEntry, append
from runtime.store.connection import Connection
from runtime.store.settings import settings_in_scope, write_setting
from runtime.store.workspace import Workspace

#: argon2id cost: 2 passes over 46 MiB, one lane (OWASP's second recommended
#: configuration; about 50-100 ms on a workstation).
TIME_COST = 2
MEMORY_COST_KIB = 47_104
PARALLELISM = 1
MAX_PASSWORD_LENGTH = 1024

SETTINGS_SCOPE = "accounts"
COMMON_PASSWORDS = "common_passwords.txt.gz"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, lower-case (read once, about 1 MB in memory)."""
    data = resources.files("resources").joinpath(COMMON_PASSWORDS).read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").splitlines())


def default_hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=TIME_COST,
        memory_cost=MEMORY_COST_KIB,
        parallelism=PARALLELISM,
        type=Type.ID,
    )


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
    """The account settings, each within its limits (a damaged value: the default)."""
    values: dict[str, int] = {}
    for key, value in settings_in_scope(connection, SETTINGS_SCOPE).items():
        if key in SETTING_LIMITS:
            low, high = SETTING_LIMITS[key]
            try:
                values[key] = min(max(int(value), low), high)
            except ValueError:
                continue  # a damaged value: keep the default
    return AccountSettings(**values)


class AccountBase:
    """The workspace, clock and password hasher the parts of
    :class:`~runtime.services.accounts.service.AccountService` share, with the password
    rules and the account settings."""

    def __init__(
        self, workspace: Workspace, clock: Callable[[], datetime], hasher: PasswordHasher
    ) -> None:
        self.workspace = workspace
        self.engine = workspace.engine
        self.clock = clock
        self.hasher = hasher
        self._dummy_hash: str | None = None

    # -- plumbing -------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            connection.execution_options(read_only=True)
            yield connection

    def _audit(self, connection: Connection, entry: AuditEntry) -> None:
        append(connection, entry, at=self.clock())

    def _user(self, connection: Connection, username: str, *, lock: bool = False) -> StoredUser:
        user = find_user_by_name(connection, username, lock=lock)
        if user is None:
            raise AccountError(tr("there is no user named '{user}'").format(user=username.strip()))
        return user

    # -- settings -------------------------------------------------------------
    def settings(self) -> AccountSettings:
        with self._read() as connection:
            return read_settings(connection)

    def update_settings(self, actor: Actor = SYSTEM, **values: int) -> AccountSettings:
        """Change account settings (``password_min_length=10`` …); audited."""
        require_admin(
            actor, tr("only an administrator may change account settings"), self.workspace
        )
        known = {item.name for item in fields(AccountSettings)}
        for key, value in values.items():
            if key not in known:
                raise AccountError(tr("there is no account setting '{key}'").format(key=key))
            low, high = SETTING_LIMITS[key]
            if not isinstance(value, int) or not low <= value <= high:
                raise AccountError(
                    tr("{key} must be a whole number from {low} to {high}").format(
                        key=key, low=low, high=high
                    )
                )
        with self.engine.begin() as connection:
            for key, value in values.items():
                write_setting(connection, SETTINGS_SCOPE, key, str(value))
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
                tr("the password must be at least {minimum} characters long").format(
                    minimum=settings.password_min_length
                )
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            problems.append(
                tr("the password must be at most {maximum} characters long").format(
                    maximum=MAX_PASSWORD_LENGTH
                )
            )
        folded, name = username_key(password), username_key(username)
        if password and folded in (name, name[::-1]):
            problems.append(tr("the password must not be the user name"))
        elif folded in common_passwords():
            problems.append(
                tr("the password is among the most common passwords; choose another one")
            )
        if password and len(set(password)) == 1:
            problems.append(tr("the password must not be one character repeated"))
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
