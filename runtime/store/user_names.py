"""Names of users and departments, read from their tables (the SQL of the name resolver).

``runtime.services.names.NameResolver`` is the one place that turns ids of users,
departments and linked records into names and back; the queries it needs about
users and departments live here, those about records in the repository
(``RecordRepository.display_values``/``ids_with_values``). Look-ups are batched:
one query per chunk of ids or names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.record_conditions import escape_like
from runtime.store.schema import departments_table, users_table

CHUNK = 500  # ids or names per IN (...) list


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def user_display_name(connection: Connection, user_id: int) -> str | None:
    """The user's display name, else their user name; None if there is no such user."""
    return user_names(connection, [user_id]).get(user_id)


def user_names(connection: Connection, ids: Iterable[int]) -> dict[int, str]:
    """Display name (else user name) of each of these users that exists."""
    table = users_table
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(set(ids))):
        rows = connection.execute(
            sa.select(table.c.id, table.c.display_name, table.c.username).where(
                table.c.id.in_(chunk)
            )
        )
        found.update((row.id, row.display_name or row.username) for row in rows)
    return found


def usernames(connection: Connection, ids: Iterable[int]) -> dict[int, str]:
    """User name (the login name, not the display name) of each of these users that exists."""
    identity, name = users_table.c.id, users_table.c.username
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(set(ids))):
        found.update(connection.execute(sa.select(identity, name).where(identity.in_(chunk))).all())
    return found


def department_names(connection: Connection, ids: Iterable[int]) -> dict[int, str]:
    table = departments_table
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(set(ids))):
        rows = connection.execute(sa.select(table.c.id, table.c.name).where(table.c.id.in_(chunk)))
        found.update((row.id, row.name) for row in rows)
    return found


def users_named(connection: Connection, names: Sequence[str]) -> dict[str, set[int]]:
    """Name -> ids of the users whose display name or user name it is."""
    return _named(connection, users_table.c.display_name, users_table.c.username, names)


def departments_named(connection: Connection, names: Sequence[str]) -> dict[str, set[int]]:
    """Name -> ids of the departments whose name or code it is."""
    return _named(connection, departments_table.c.name, departments_table.c.code, names)


def _named(
    connection: Connection, first: sa.Column, second: sa.Column, names: Sequence[str]
) -> dict[str, set[int]]:
    """Name -> ids of the rows whose ``first`` or ``second`` column holds it."""
    identity = first.table.c.id
    matches: dict[str, set[int]] = {}
    for chunk in _chunks(list(names)):
        wanted = set(chunk)
        query = sa.select(identity, first, second).where(first.in_(chunk) | second.in_(chunk))
        for ident, *texts in connection.execute(query):
            for text in set(texts):
                if text in wanted:
                    matches.setdefault(text, set()).add(ident)
    return matches


def _like(column, text: str):
    return column.ilike(f"%{escape_like(text)}%", escape="\\")


def search_users(connection: Connection, text: str, limit: int) -> list[tuple[int, str]]:
    """Active users whose display name or user name contains ``text``."""
    table = users_table
    match = _like(table.c.display_name, text) | _like(table.c.username, text)
    query = sa.select(table.c.id, table.c.display_name, table.c.username).where(
        table.c.active, match
    )
    rows = connection.execute(query.order_by(table.c.display_name).limit(limit))
    return [(row.id, row.display_name or row.username) for row in rows]


def search_departments(connection: Connection, text: str, limit: int) -> list[tuple[int, str]]:
    table = departments_table
    query = sa.select(table.c.id, table.c.name).where(table.c.active, _like(table.c.name, text))
    rows = connection.execute(query.order_by(table.c.name).limit(limit))
    return [(row.id, row.name) for row in rows]


def account_state(connection: Connection, user_id: int) -> tuple[bool, datetime | None] | None:
    """(active, locked_until) of a user, None if there is no such user: what the
    session check of every service call reads (one primary-key row)."""
    table = users_table
    row = connection.execute(
        sa.select(table.c.active, table.c.locked_until).where(table.c.id == user_id)
    ).first()
    return None if row is None else (bool(row.active), row.locked_until)
