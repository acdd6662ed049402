"""Departments as stored (``fw_departments``): the rows the department tree is
built from, and their changes.

The organisation service keeps the rules (codes, names, cycles, who may change
what, audit rows) and builds its in-memory tree from :func:`load_departments`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.connection import inserted_id
from runtime.store.schema import departments_table

#: The columns :func:`update_department` changes.
EDITABLE_COLUMNS = frozenset({"name", "parent_id", "head_user_id", "kind"})


@dataclass(frozen=True)
class Department:
    """One department: a node of the tree (``kind``: hospital, division, department, ward)."""

    id: int
    code: str | None
    name: str
    parent_id: int | None
    head_user_id: int | None
    kind: str | None = None
    active: bool = True


def load_departments(connection: Connection) -> list[Department]:
    """Every department (active or not)."""
    rows = connection.execute(sa.select(departments_table))
    return [
        Department(
            id=row.id,
            code=row.code,
            name=row.name,
            parent_id=row.parent_id,
            head_user_id=row.head_user_id,
            kind=row.kind,
            active=bool(row.active),
        )
        for row in rows
    ]


def insert_department(
    connection: Connection,
    *,
    name: str,
    code: str | None = None,
    parent_id: int | None = None,
    head_user_id: int | None = None,
    kind: str | None = None,
) -> int:
    """Add an active department (the caller validated and audits); returns its id."""
    return inserted_id(
        connection.execute(
            departments_table.insert().values(
                code=code,
                name=name,
                parent_id=parent_id,
                head_user_id=head_user_id,
                kind=kind,
                active=True,
            )
        )
    )


def update_department(connection: Connection, department_id: int, **changes: Any) -> None:
    """Change a department's ``name``, ``parent_id``, ``head_user_id`` or ``kind``."""
    unknown = set(changes) - EDITABLE_COLUMNS
    if unknown:
        raise ValueError(f"departments have no editable column {sorted(unknown)}")
    if changes:
        connection.execute(
            departments_table.update()
            .where(departments_table.c.id == department_id)
            .values(**changes)
        )
