"""Subtable rows of many records in one query: what an export reads per page.

``RecordRepository.fetch`` reads the subtables of one record; a page of a thousand
records would take a thousand queries that way. :func:`read_child_rows` reads the
rows of one subtable for many parents at once (one query per ``IN_IDS`` parents),
in row order, grouped by parent id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.repository import IN_IDS
from runtime.store.schema import FormTables


def read_child_rows(
    connection: Connection, tables: FormTables, key: str, parent_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """The rows of subtable ``key`` of each parent that has any, by parent id.

    Each row is a dict of the child fields' canonical values, rows in their order
    (``row_index``); parents without rows are absent.
    """
    child = tables.children[key]
    keys = list(tables.child_fields[key])
    columns = [child.c[name] for name in keys]
    ids = list(dict.fromkeys(parent_ids))
    found: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(ids), IN_IDS):
        statement = (
            sa.select(child.c.parent_id, *columns)
            .where(child.c.parent_id.in_(ids[start : start + IN_IDS]))
            .order_by(child.c.parent_id, child.c.row_index)
        )
        for row in connection.execute(statement):
            found.setdefault(row[0], []).append(dict(zip(keys, row[1:], strict=True)))
    return found
