"""Whether a user's account may go on working: what every service call's session
check reads (``runtime.services.accounts.session_guard``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.schema import users_table


def account_state(connection: Connection, user_id: int) -> tuple[bool, datetime | None] | None:
    """(active, locked_until) of a user, None if there is no such user (one
    primary-key row)."""
    table = users_table
    row = connection.execute(
        sa.select(table.c.active, table.c.locked_until).where(table.c.id == user_id)
    ).first()
    return None if row is None else (bool(row.active), row.locked_until)
