"""Settings kept in the workspace (``fw_settings``): per user and workspace-wide."""

from __future__ import annotations

import json
from typing import Any

from resources.messages import tr
from runtime.store.settings import read_setting, write_setting
from runtime.store.workspace import Workspace

MAX_SETTING_BYTES = 256 * 1024
RUNTIME_SCOPE = "runtime"
IDLE_KEY = "idle_minutes"
DEFAULT_IDLE_MINUTES = 10
MAX_IDLE_MINUTES = 24 * 60


class WorkspaceSettings:
    """JSON values by (scope, key), shared by every workstation of the workspace.

    Per-user settings (saved list views) use the scope ``user:<id>``, so a user
    finds them again on any workstation.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def get(self, scope: str, key: str, default: Any = None) -> Any:
        with self.workspace.reader() as connection:
            text = read_setting(connection, scope, key)
        if text is None:
            return default
        try:
            return json.loads(text)
        except ValueError:
            return default  # a damaged value reads as unset rather than failing a screen

    def set(self, scope: str, key: str, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=False)
        if len(text.encode()) > MAX_SETTING_BYTES:
            raise ValueError(tr("this setting is too large to save"))
        with self.workspace.engine.begin() as connection:
            write_setting(connection, scope, key, text)

    # -- auto-lock ----------------------------------------------------------
    def idle_minutes(self) -> float:
        """Minutes without input before the runtime locks (0: never; fractions for tests)."""
        value = self.get(RUNTIME_SCOPE, IDLE_KEY, DEFAULT_IDLE_MINUTES)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return DEFAULT_IDLE_MINUTES  # a damaged value reads as the default
        return min(max(float(value), 0.0), MAX_IDLE_MINUTES)

    def set_idle_minutes(self, minutes: float) -> None:
        self.set(RUNTIME_SCOPE, IDLE_KEY, minutes)

    # -- the list page's ViewSettingsStore -----------------------------------
    def load(self, user_id: int | None, scope: str) -> dict[str, Any]:
        value = self.get(_user_scope(user_id), scope, {})
        return value if isinstance(value, dict) else {}

    def save(self, user_id: int | None, scope: str, data: dict[str, Any]) -> None:
        self.set(_user_scope(user_id), scope, data)


def _user_scope(user_id: int | None) -> str:
    return f"user:{user_id if user_id is not None else 'system'}"
