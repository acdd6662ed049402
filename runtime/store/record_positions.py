"""Positions in a record list without reading records: skips in the sort index.

A list jumps to row 500,000 by asking for the cursor just before it
(``RecordRepository.cursor_at``), and indexes itself with a cursor every N rows
(``RecordRepository.position_marks``). Both skip rows inside the live (sort
column, id) index with ``OFFSET`` — never reading records — in the same two
segments as a page read: the rows with a sort value, then the rows without one.

This module holds those statements (a :class:`SkipPlan`, built once per query
shape and cached by the repository) and the code that runs them. It is separate
from the repository because the skipping has its own subtleties (segments, long
skips past a cursor's ties, the marks' walk on the driver's cursor) that a reader
of the plain reads and writes does not need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from runtime.store.driver_query import DriverQuery
from runtime.store.query import Cursor
from runtime.store.record_conditions import Keyset


@dataclass(frozen=True)
class Segment:
    """One statement of a segment of the order: from its top, or after a cursor."""

    first: sa.Select
    after: sa.Select

    def of(self, start: Cursor | None) -> sa.Select:
        return self.first if start is None else self.after


@dataclass(frozen=True)
class ValueSkips:
    """The statements of an order by a sort value, besides ``SkipPlan.present``.

    ``present_left`` counts the rows with a sort value, ``empty`` holds the rows
    without one. For long skips, ``ties`` counts the rows after a cursor that share
    its sort value (at most ``_rows``) and gives the last one's id, ``beyond`` holds
    the rows past the cursor's value and ``beyond_left`` counts them.
    """

    present_left: Segment
    empty: Segment
    ties: sa.Select
    beyond: sa.Select
    beyond_left: sa.Select


@dataclass(frozen=True)
class SkipPlan:
    """The statements that skip rows in the sort index (see ``skip_rows``).

    ``present`` holds the rows with a sort value (every row when sorting by id);
    ``by_value`` the other statements of an order by a sort value (``None`` when
    sorting by id). The skipping statements' OFFSET is the bound parameter ``_skip``.
    """

    present: Segment
    by_value: ValueSkips | None = None

    def segment_of(self, cursor: Cursor) -> Segment:
        """The segment holding ``cursor``'s row: the empty values' for an empty value."""
        if self.by_value is not None and cursor.value is None:
            return self.by_value.empty
        return self.present


def skip_plan(
    table: sa.Table, keyset: Keyset, base: sa.ColumnElement[bool], desc: bool
) -> SkipPlan:
    """The skip statements of the rows ``base`` reaches, in ``keyset``'s order."""
    id_column = table.c.id
    skip = sa.bindparam("_skip", type_=sa.Integer())
    if keyset.after_pair is None:
        one = sa.select(id_column).order_by(*keyset.order).offset(skip).limit(1)
        return SkipPlan(Segment(one.where(base), one.where(base & keyset.after_id)))
    sort_column = keyset.sort_column
    one = sa.select(sort_column, id_column).order_by(*keyset.order).offset(skip).limit(1)
    count = sa.select(sa.func.count()).select_from(table)
    present = base & sort_column.isnot(None)
    # A row with an empty value is never after a cursor with one: no IS NOT NULL
    # here, which SQLite would test on every row it skips.
    after = base & keyset.after_pair
    empty = base & sort_column.is_(None)
    value = sa.bindparam("_cursor_value", type_=sort_column.type)
    beyond = base & (sort_column < value if desc else sort_column > value)  # not empty
    by_value = ValueSkips(
        present_left=Segment(count.where(present), count.where(after)),
        empty=Segment(one.where(empty), one.where(empty & keyset.after_id)),
        ties=_ties(id_column, base & (sort_column == value) & keyset.after_id, desc),
        beyond=one.where(beyond),
        beyond_left=count.where(beyond),
    )
    return SkipPlan(Segment(one.where(present), one.where(after)), by_value)


def _ties(id_column, where, desc: bool) -> sa.Select:
    """(how many, the last id) of at most ``_rows`` rows of ``where`` in id order."""
    order = id_column.desc() if desc else id_column
    limit = sa.bindparam("_rows", type_=sa.Integer())
    tied = sa.select(id_column).where(where).order_by(order).limit(limit).subquery()
    last = sa.func.min(tied.c.id) if desc else sa.func.max(tied.c.id)
    return sa.select(sa.func.count(), last)


# -- skipping -------------------------------------------------------------------
def skip_rows(connection, plan: SkipPlan, start: Cursor | None, rows: int, long_skip: int):
    """The cursor ``rows`` rows after ``start``, segment by segment (as
    ``RecordRepository.page`` reads).

    From a cursor with a sort value, a skip of more than ``long_skip`` rows counts
    the cursor's ties apart (``_long_skip``).
    """
    if rows <= 0:
        return start
    by_value = plan.by_value
    if by_value is not None and start is not None and start.value is None:
        return _skip_in(connection, by_value.empty, start, rows)
    if by_value is not None and start is not None and rows > long_skip:
        return _long_skip(connection, by_value, start, rows)
    found = _skip_in(connection, plan.present, start, rows)
    if found is not None or by_value is None:
        return found
    rows -= _first_row(connection, by_value.present_left.of(start), start, {})[0]
    return _skip_in(connection, by_value.empty, None, rows)


def _long_skip(connection, skips: ValueSkips, start: Cursor, rows: int):
    """``skip_rows`` from a cursor with a sort value, in plain ranges of the index.

    ``(value, id) > (?, ?)`` is not a range SQLite can bound exactly: it tests
    it on every row it skips, which makes a long skip 2-3x slower than from the
    top. So the rows tied with the cursor's value are counted first (at most
    ``rows``), then the skip goes on past that value: two or three statements
    instead of one, worth it only for long skips.
    """
    ties, last_id = _first_row(connection, skips.ties, start, {"_rows": rows})
    if ties == rows:
        return Cursor(start.value, last_id)
    found = _first_row(connection, skips.beyond, start, {"_skip": rows - ties - 1})
    if found is not None:
        return Cursor(found[0], found[1])
    rows -= ties + _first_row(connection, skips.beyond_left, start, {})[0]
    return _skip_in(connection, skips.empty, None, rows)


def _skip_in(connection, segment: Segment, start, rows: int) -> Cursor | None:
    """The cursor of the row ``rows`` after ``start`` within one segment."""
    found = _first_row(connection, segment.of(start), start, {"_skip": rows - 1})
    # Sorting by id, the one column selected is both the cursor's value and id.
    return None if found is None else Cursor(found[0], found[-1])


def _first_row(connection, statement: sa.Select, start: Cursor | None, params: dict):
    """The first row of a statement, with the cursor's parameters if any."""
    if start is not None:
        params |= {"_cursor_value": start.value, "_cursor_id": start.id}
    return connection.execute(statement, params).first()


# -- marks ----------------------------------------------------------------------
def walk_marks(
    connection, plan: SkipPlan, every: int, long_skip: int, stopped: Callable[[], bool]
) -> list[Cursor]:
    """The cursors just before rows ``every``, 2·``every``, … (see ``position_marks``)."""
    walk = _Walk(connection, plan, every, long_skip)
    try:
        marks: list[Cursor] = []
        while not stopped() and (mark := walk.next(marks[-1] if marks else None)):
            marks.append(mark)
        return marks
    finally:
        walk.close()


class _Walk:
    """The steps of ``walk_marks``: each skips ``every`` rows from the last mark.

    Within a segment a step is one statement, run as a :class:`DriverQuery` (a
    thousand of them through ``Connection.execute`` would hold the GIL long enough
    to slow the GUI's paints down). The first step, and a step that runs off the end
    of a segment (once or twice a walk), go through ``skip_rows``; the first also
    begins the connection's transaction, which the others then share.
    """

    def __init__(self, connection, plan: SkipPlan, every: int, long_skip: int):
        self.connection = connection
        self.plan = plan
        self.every = every
        self.long_skip = long_skip
        self.queries: dict[int, DriverQuery] = {}  # by id of the segment

    def next(self, mark: Cursor | None) -> Cursor | None:
        if mark is not None:
            found = self._within(self.plan.segment_of(mark), mark)
            if found is not None:
                return found
        return skip_rows(self.connection, self.plan, mark, self.every, self.long_skip)

    def _within(self, segment: Segment, mark: Cursor) -> Cursor | None:
        params = {"_cursor_value": mark.value, "_cursor_id": mark.id, "_skip": self.every - 1}
        query = self.queries.get(id(segment))
        if query is None:
            query = self.queries[id(segment)] = DriverQuery(self.connection, segment.after, params)
        found = query.first(params)
        return None if found is None else Cursor(found[0], found[-1])

    def close(self) -> None:
        for query in self.queries.values():
            query.close()
