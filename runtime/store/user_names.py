"""How a user is named on screen, read from the users table.

A small query of its own so that services that only need a name (the record
service's "saved by …" in a conflict) keep their SQL here, in the store.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.schema import users_table


def user_display_name(connection: Connection, user_id: int) -> str | None:
    """The user's display name, else their user name; None if there is no such user."""
    row = connection.execute(
        sa.select(users_table.c.display_name, users_table.c.username).where(
            users_table.c.id == user_id
        )
    ).first()
    if row is None:
        return None
    return row.display_name or row.username
