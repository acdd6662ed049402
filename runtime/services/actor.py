"""Who is acting: the user behind every service call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Actor:
    """The acting user as services see it (built from a login session).

    ``department_ids`` are the user's departments; ``primary_department`` is the
    one a new record belongs to (for department row scopes).
    """

    user_id: int | None
    username: str
    display_name: str = ""
    is_admin: bool = False
    primary_department: int | None = None
    department_ids: frozenset[int] = field(default_factory=frozenset)
    #: Role keys per app id.
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    #: ``department_ids`` and every department below them in the tree (see
    #: ``OrgDirectory.descendants``): the rows a ``department_tree`` scope reaches.
    #: Empty when unknown; the policy then falls back to ``department_ids``.
    department_tree_ids: frozenset[int] = field(default_factory=frozenset)

    def roles_in(self, app_id: str) -> frozenset[str]:
        return self.roles.get(app_id, frozenset())

    def new_record_columns(self, now: datetime) -> dict[str, Any]:
        """The system columns of a record this actor creates at ``now`` (UTC)."""
        return {
            "created_at": now,
            "created_by": self.user_id,
            "updated_at": now,
            "updated_by": self.user_id,
            "version": 1,
            "owner_department": self.primary_department,
        }


#: The actor of scripts and migrations run by the workspace owner.
SYSTEM = Actor(user_id=None, username="system", display_name="System", is_admin=True)
