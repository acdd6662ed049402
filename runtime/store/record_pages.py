"""Pages of records by keyset: what a list reads, a screenful at a time.

A page is read after a cursor (the last row's sort value and id), never with a
growing OFFSET, so row 900,000 costs what row 0 does. Rows whose sort value is
empty come last in either direction: a page is read as the part with values,
then (if short) the part without, so both halves use the (sort column, id) index.

This module holds the :class:`Record` and :class:`Page` that reads return, the
statements of one query shape (a :class:`PagePlan`, built once and cached by the
repository) and the per-row code that turns result rows into records. The
repository decides which rows and which order (``record_conditions``); this
module only reads them. ``runtime.store.repository`` re-exports the public names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from runtime.store.query import Cursor, Sort
from runtime.store.record_conditions import Keyset
from runtime.store.schema import FormTables

#: The system columns a page reads, in this order, before the field columns.
SYSTEM_READ = (
    "id",
    "version",
    "created_at",
    "created_by",
    "owner_department",
    "updated_at",
    "updated_by",
    "deleted_at",
)


@dataclass
class Record:
    """One record as read from the database (canonical values by field key)."""

    id: int
    version: int
    values: dict[str, Any]
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    owner_department: int | None = None
    deleted_at: datetime | None = None


@dataclass
class Page:
    records: list[Record]
    next_cursor: Cursor | None
    system: dict[str, Any] = field(default_factory=dict)


@dataclass
class PagePlan:
    """The statements that read pages of one query shape (see ``read_page``)."""

    tables: FormTables
    keys: list[str]
    by_id: bool
    first: sa.Select
    after: sa.Select
    #: The rows without a sort value; ``None`` when sorting by id.
    empty_first: sa.Select | None = None
    empty_after: sa.Select | None = None


def page_plan(
    tables: FormTables, keys: list[str], order: Keyset, base: sa.ColumnElement[bool], limit: int
) -> PagePlan:
    """The page statements of the rows ``base`` reaches, reading the fields ``keys``."""
    table = tables.table
    columns = [table.c[name] for name in (*SYSTEM_READ, *keys)]
    select = sa.select(*columns).order_by(*order.order).limit(limit)
    if order.after_pair is None:
        after = select.where(base & order.after_id)
        return PagePlan(tables, keys, True, select.where(base), after)
    present = base & order.sort_column.isnot(None)
    empty = base & order.sort_column.is_(None)
    return PagePlan(
        tables,
        keys,
        False,
        first=select.where(present),
        after=select.where(present & order.after_pair),
        empty_first=select.where(empty),
        empty_after=select.where(empty & order.after_id),
    )


def read_page(connection, plan: PagePlan, sort: Sort, after: Cursor | None, limit: int) -> Page:
    """The page after ``after`` (``None``: the first), with the next page's cursor."""
    records: list[Record] = []
    if after is None or after.value is not None or plan.by_id:
        statement = plan.first if after is None else plan.after
        params = {} if after is None else {"_cursor_value": after.value, "_cursor_id": after.id}
        records += _rows(connection, plan, statement, params)
    if len(records) < limit and plan.empty_first is not None and plan.empty_after is not None:
        # Sorted by a value (not by id): then the rows without one.
        params = {"_cursor_id": after.id} if after is not None and after.value is None else {}
        statement = plan.empty_after if params else plan.empty_first
        records += _rows(connection, plan, statement, params)[: limit - len(records)]
    cursor = None
    if len(records) == limit:
        last = records[-1]
        cursor = Cursor(last.id if plan.by_id else _raw_sort(last, sort), last.id)
    return Page(records, cursor)


def _rows(connection, plan: PagePlan, statement, params) -> list[Record]:
    width = len(SYSTEM_READ)
    keys = plan.keys
    return [
        Record(
            id=row[0],
            version=row[1],
            values=dict(zip(keys, row[width:], strict=True)),
            created_at=row[2],
            created_by=row[3],
            owner_department=row[4],
            updated_at=row[5],
            updated_by=row[6],
            deleted_at=row[7],
        )
        for row in connection.execute(statement, params).all()
    ]


def _raw_sort(record: Record, sort: Sort) -> Any:
    if sort.field in record.values:
        return record.values[sort.field]
    return getattr(record, sort.field)
