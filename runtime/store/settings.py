"""Settings as stored (``fw_settings``): text values by (scope, key).

What a value means (JSON of a list view, a number of minutes, an account rule)
is the business of the service that owns its scope.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.schema import settings_table


def read_setting(connection: Connection, scope: str, key: str) -> str | None:
    """The stored text of one setting, or ``None`` when it was never set."""
    table = settings_table
    query = sa.select(table.c.value).where(table.c.scope == scope, table.c.key == key)
    return connection.execute(query).scalar()


def settings_in_scope(connection: Connection, scope: str) -> dict[str, str]:
    """Key → stored text of every setting of a scope."""
    table = settings_table
    query = sa.select(table.c.key, table.c.value).where(table.c.scope == scope)
    return {key: value for key, value in connection.execute(query)}


def write_setting(connection: Connection, scope: str, key: str, value: str) -> None:
    """Set one setting, replacing its stored text if it has one."""
    table = settings_table
    where = (table.c.scope == scope) & (table.c.key == key)
    updated = connection.execute(table.update().where(where).values(value=value)).rowcount
    if not updated:
        connection.execute(table.insert().values(scope=scope, key=key, value=value))
