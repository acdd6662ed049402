"""Errors of the account and organisation services: each has a plain-language ``message``."""

from __future__ import annotations

from datetime import UTC, datetime

from resources.messages import tr


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
            tr(
                "the account '{user}' is locked after too many failed logins until {time}; "
                "try again then or ask an administrator to unlock it"
            ).format(user=username, time=f"{local:%Y-%m-%d %H:%M}")
        )


class AccountDisabled(LoginFailed):
    def __init__(self, username: str) -> None:
        super().__init__(
            tr("the account '{user}' is disabled; ask an administrator").format(user=username)
        )
