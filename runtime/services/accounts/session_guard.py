"""Open sessions end when their account is disabled or locked.

A session is an :class:`~runtime.services.actor.Actor` built at login; nothing
in it changes when an administrator disables the account or too many failed
logins lock it. So every service call asks :func:`require_session` first: it
reads the user's ``active`` and ``locked_until`` (one primary-key row), at most
once per ``SESSION_CHECK_SECONDS`` per user and workspace, and raises
:class:`SessionEnded` when the account may no longer be used. Disabling,
locking and unlocking in this process forget the cached answer at once; other
processes (another workstation) notice within ``SESSION_CHECK_SECONDS``.

Listeners (the runtime's window controller) are told about every refusal, from
whichever thread made the call, so the screens can return to the login dialog
with the message.

Actors without a user (``SYSTEM``: scripts, migrations) and actors naming a user
id the workspace does not have (built by code, never by a login) are not checked.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime

from resources.messages import tr
from runtime.services.actor import Actor
from runtime.services.errors import SessionEnded, server_required
from runtime.store.accounts import account_state
from runtime.store.audit import utc_now
from runtime.store.workspace import Workspace

#: How long one answer about an account is trusted (seconds).
SESSION_CHECK_SECONDS = 3.0


class SessionGuard:
    """The session check of one workspace (see :func:`session_guard`)."""

    def __init__(
        self,
        workspace: Workspace,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._workspace = weakref.ref(workspace)
        self.clock = clock
        self.now = now
        self.ttl = SESSION_CHECK_SECONDS
        #: user id -> (checked at, refusal message or None)
        self._checked: dict[int, tuple[float, str | None]] = {}
        self._lock = threading.Lock()
        self.listeners: list[Callable[[SessionEnded, Actor], None]] = []

    def require(self, actor: Actor) -> None:
        """Raise :class:`SessionEnded` if ``actor``'s account is disabled or locked."""
        user_id = actor.user_id
        if user_id is None:
            return
        moment = self.clock()
        cached = self._checked.get(user_id)
        if cached is None or moment - cached[0] >= self.ttl:
            cached = (moment, self._refusal(user_id))
            with self._lock:
                self._checked[user_id] = cached
        if cached[1] is not None:
            error = SessionEnded(cached[1])
            for listener in list(self.listeners):
                listener(error, actor)
            raise error

    def _refusal(self, user_id: int) -> str | None:
        workspace = self._workspace()
        if workspace is None:
            return None
        with server_required(), workspace.reader() as connection:
            state = account_state(connection, user_id)
        if state is None:
            return None
        active, locked_until = state
        if not active:
            return tr("your account has been disabled; your session has ended")
        if locked_until is not None and locked_until > self.now():
            return tr("your account has been locked; your session has ended")
        return None

    def forget(self, user_id: int | None = None) -> None:
        """Check again at the next call (after disabling, locking or unlocking)."""
        with self._lock:
            if user_id is None:
                self._checked.clear()
            else:
                self._checked.pop(user_id, None)


_GUARDS: weakref.WeakKeyDictionary[Workspace, SessionGuard] = weakref.WeakKeyDictionary()
_GUARDS_LOCK = threading.Lock()


def session_guard(workspace: Workspace) -> SessionGuard:
    """The one guard of a workspace (made on first use)."""
    guard = _GUARDS.get(workspace)
    if guard is None:
        with _GUARDS_LOCK:
            guard = _GUARDS.get(workspace)
            if guard is None:
                guard = _GUARDS[workspace] = SessionGuard(workspace)
    return guard


def require_session(workspace: Workspace, actor: Actor) -> None:
    """Refuse the call of a session whose account was disabled or locked."""
    if actor.user_id is not None:
        session_guard(workspace).require(actor)
