"""The record repository: the only place that builds SQL for records.

Statements are SQLAlchemy Core objects with bound parameters. The caller (a
service) owns the transaction and passes the connection; the repository never
commits. Values come in and go out canonical (see ``widgets.base``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles

from runtime.spec.models import AppSpec
from runtime.store.driver_query import DriverQuery
from runtime.store.query import (
    AllOf,
    AnyOf,
    Condition,
    Cursor,
    Filter,
    RecordQuery,
    RowScope,
    Sort,
)
from runtime.store.schema import (
    AppTables,
    FormTables,
    departments_table,
    serials_table,
    users_table,
)
from widgets.base import FieldSpecBase
from widgets.registry import FieldTypeRegistry

SYSTEM_SORTABLE = ("id", "created_at", "updated_at", "created_by", "updated_by")
#: Rows from a cursor beyond which a skip counts the cursor's ties apart (``_long_skip``).
LONG_SKIP = 5_000
#: Values and ids per IN list of the batched checks (``values_in_use``,
#: ``existing_references``): well under SQLite's limit of bound parameters.
IN_VALUES = 2_000
IN_IDS = 500


class UnknownName(LookupError):
    """A form or field key that the app does not have."""


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


@dataclass(frozen=True)
class _Keyset:
    """A query's order and what "after a cursor" means in it (bound parameters)."""

    sort_column: sa.Column
    order: list[sa.ColumnElement]
    #: After the cursor's id: the whole order when sorting by id, else within the
    #: rows whose sort value is empty (they are ordered by id alone).
    after_id: sa.ColumnElement[bool]
    #: (sort value, id) after the cursor's; ``None`` when sorting by id.
    after_pair: sa.ColumnElement[bool] | None


@dataclass(frozen=True)
class _Segment:
    """One statement of a segment of the order: from its top, or after a cursor."""

    first: sa.Select
    after: sa.Select

    def of(self, start: Cursor | None) -> sa.Select:
        return self.first if start is None else self.after


@dataclass(frozen=True)
class _SkipPlan:
    """The statements that skip rows in the sort index (see ``_skip``).

    ``present`` holds the rows with a sort value (every row when sorting by id),
    ``present_left`` counts them, ``empty`` holds the rows without a sort value.
    For long skips, ``ties`` counts the rows after a cursor that share its sort
    value (at most ``_rows``) and gives the last one's id, ``beyond`` holds the
    rows past the cursor's value and ``beyond_left`` counts them. The skipping
    statements' OFFSET is the bound parameter ``_skip``.
    """

    present: _Segment
    present_left: _Segment | None = None
    empty: _Segment | None = None
    ties: sa.Select | None = None
    beyond: sa.Select | None = None
    beyond_left: sa.Select | None = None


@dataclass
class _PagePlan:
    """The statements that read pages of one query shape (see ``page``)."""

    tables: FormTables
    keys: list[str]
    by_id: bool
    first: sa.Select
    after: sa.Select
    empty_first: sa.Select | None = None
    empty_after: sa.Select | None = None


def _literal_sql(column: sa.Column, value: Any, dialect) -> str:
    """A system value (timestamp, id, version) as SQL text, rendered by SQLAlchemy."""
    literal = sa.literal(value, column.type) if value is not None else sa.null()
    return str(literal.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _encoder(column: sa.Column, dialect) -> Callable[[Any], Any] | None:
    """How one column's values become driver values in the bulk path.

    The column type's own bind processor, except SQLite dates and timestamps: there
    SQLAlchemy formats through a dict per value, while ``isoformat`` writes the same
    text (``tests/store/test_bulk_encoders.py`` holds them equal) several times faster.
    """
    if dialect.name == "sqlite" and type(column.type) in _SQLITE_ISO:
        return _SQLITE_ISO[type(column.type)](
            column.type.dialect_impl(dialect).bind_processor(dialect)
        )
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _iso_date(fallback):
    def encode(value: Any) -> Any:
        return value.isoformat() if value.__class__ is date else fallback(value)

    return encode


def _iso_datetime(fallback):
    def encode(value: Any) -> Any:
        if value.__class__ is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return fallback(value)

    return encode


_SQLITE_ISO = {sa.Date: _iso_date, sa.DateTime: _iso_datetime}


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class RecordRepository:
    """SQL for the records of one installed app."""

    def __init__(
        self, tables: AppTables | Callable[[], AppTables], registry: FieldTypeRegistry
    ) -> None:
        """``tables``, or a function building them on first use: a window can then
        paint before the app's table models exist (its first query builds them, on
        a worker thread)."""
        self._tables = tables if isinstance(tables, AppTables) else None
        self._build_tables = tables if self._tables is None else None
        self._tables_lock = threading.Lock()
        self.registry = registry
        self._plans: dict[tuple, _PagePlan] = {}

    @property
    def tables(self) -> AppTables:
        if self._tables is None:
            with self._tables_lock:
                if self._tables is None:
                    self._tables = self._build_tables()
        return self._tables

    @property
    def spec(self) -> AppSpec:
        return self.tables.spec

    def form_tables(self, form: str) -> FormTables:
        try:
            return self.tables.forms[form]
        except KeyError:
            raise UnknownName(f"the app has no form '{form}'") from None

    def field_spec(self, form: str, key: str) -> FieldSpecBase:
        spec = self.form_tables(form).columns.get(key)
        if spec is None:
            raise UnknownName(f"form '{form}' has no field '{key}'")
        return spec

    # -- writes -------------------------------------------------------------
    def insert(
        self, connection: Connection, form: str, values: dict[str, Any], system: dict[str, Any]
    ) -> int:
        """Insert a record and its subtable rows; returns the new id."""
        tables = self.form_tables(form)
        row = {key: values.get(key) for key in tables.columns} | system
        # Parameters, not .values(): the statement stays the same object, so SQLAlchemy's
        # compiled cache hits (building a literal-valued statement per save costs 4x).
        record_id = connection.execute(tables.table.insert(), row).inserted_primary_key[0]
        for key in tables.children:
            self._write_child_rows(connection, tables, key, record_id, values.get(key))
        return record_id

    def update(
        self,
        connection: Connection,
        form: str,
        record_id: int,
        changes: dict[str, Any],
        expected_version: int,
        system: dict[str, Any],
    ) -> bool:
        """Write changes if the stored version is still ``expected_version``.

        Returns False when someone saved first (nothing is written). The version
        check is in the UPDATE's WHERE, so it holds under concurrency on both engines.
        """
        tables = self.form_tables(form)
        row = {key: value for key, value in changes.items() if key in tables.columns}
        params = row | system | {"version": expected_version + 1}
        params |= {"_record_id": record_id, "_expected_version": expected_version}
        if connection.execute(self._versioned_update(tables.table), params).rowcount != 1:
            return False
        for key in tables.children:
            if key in changes:
                self._replace_child_rows(connection, tables, key, record_id, changes[key])
        return True

    @staticmethod
    def _versioned_update(table: sa.Table) -> sa.Update:
        """``UPDATE … WHERE id = :_record_id AND version = :_expected_version``; the
        SET clause comes from the parameter names, so one statement serves all saves."""
        return table.update().where(
            table.c.id == sa.bindparam("_record_id"),
            table.c.version == sa.bindparam("_expected_version"),
        )

    def set_deleted(
        self,
        connection: Connection,
        form: str,
        record_id: int,
        deleted_at: datetime | None,
        system: dict[str, Any],
    ) -> bool:
        """Move a record to the trash (a time) or restore it (``None``)."""
        table = self.form_tables(form).table
        currently = table.c.deleted_at.is_(None) if deleted_at else table.c.deleted_at.isnot(None)
        statement = (
            table.update()
            .where(table.c.id == record_id, currently)
            .values(deleted_at=deleted_at, version=table.c.version + 1, **system)
        )
        return connection.execute(statement).rowcount == 1

    def purge(self, connection: Connection, form: str, record_id: int) -> bool:
        """Delete a trashed record for good (child rows go with it)."""
        tables = self.form_tables(form)
        table = tables.table
        in_trash = sa.select(table.c.id).where(
            table.c.id == record_id, table.c.deleted_at.isnot(None)
        )
        for child in tables.children.values():
            connection.execute(child.delete().where(child.c.parent_id.in_(in_trash)))
        statement = table.delete().where(table.c.id == record_id, table.c.deleted_at.isnot(None))
        return connection.execute(statement).rowcount == 1

    def _write_child_rows(self, connection, tables, key, parent_id, rows) -> None:
        if not rows:
            return
        child = tables.children[key]
        keys = tables.child_fields[key]
        connection.execute(
            child.insert(),
            [
                {"parent_id": parent_id, "row_index": index} | {k: row.get(k) for k in keys}
                for index, row in enumerate(rows)
            ],
        )

    def _replace_child_rows(self, connection, tables, key, parent_id, rows) -> None:
        child = tables.children[key]
        connection.execute(child.delete().where(child.c.parent_id == parent_id))
        self._write_child_rows(connection, tables, key, parent_id, rows)

    def bulk_insert(
        self,
        connection: Connection,
        form: str,
        keys: Sequence[str],
        rows: Iterable[Sequence[Any]],
        system: dict[str, Any],
    ) -> int:
        """Insert many canonical rows at driver speed (no subtables); returns the count.

        Each row's values go through its column's driver encoder, then straight to the
        driver's ``executemany`` as tuples (the fast path measured in ENVIRONMENT.md).
        The system values are the same for every row, so they are written once into
        the statement as SQL literals — our own timestamps and ids, never user text —
        and each row sends only its field values.
        """
        table = self.form_tables(form).table
        dialect = connection.dialect
        constants = {
            name: sa.literal_column(_literal_sql(table.c[name], value, dialect))
            for name, value in system.items()
        }
        statement = (
            sa.insert(table)
            .values({key: sa.bindparam(key) for key in keys} | constants)
            .compile(dialect=dialect)
        )
        sql = str(statement)
        encoders = [(i, e) for i, key in enumerate(keys) if (e := _encoder(table.c[key], dialect))]
        if statement.positional:
            order = [list(keys).index(name) for name in statement.positiontup]
            in_order = order == list(range(len(keys)))
        else:
            order, in_order = [], False

        def arrange(row: Sequence[Any]) -> tuple | dict:
            """Driver parameters: a tuple in the statement's order, or a dict by name.

            A list row is encoded in place (callers hand over their rows)."""
            values = row if row.__class__ is list else list(row)
            for index, encode in encoders:
                values[index] = encode(values[index])
            if in_order:
                return tuple(values)
            if statement.positional:
                return tuple(values[i] for i in order)
            return dict(zip(keys, values, strict=True))

        return self._send_batches(connection, sql, map(arrange, rows))

    def insert_many(
        self,
        connection: Connection,
        form: str,
        records: Sequence[dict[str, Any]],
        system: dict[str, Any],
    ) -> list[int]:
        """Insert new records (canonical values, subtable rows included) at bulk
        speed; returns their ids, in order.

        SQLite: :meth:`bulk_insert` (the driver's ``executemany``); the transaction
        holds SQLite's write lock (``BEGIN IMMEDIATE``) and new rowids are max + 1, so
        the ids are the next consecutive numbers (checked). PostgreSQL: one
        ``INSERT … RETURNING id`` in parameter order.
        """
        tables = self.form_tables(form)
        keys = list(tables.columns)
        table = tables.table
        if connection.dialect.name == "sqlite":
            highest = sa.select(sa.func.max(table.c.id))
            before = connection.execute(highest).scalar() or 0
            lines = [[values.get(key) for key in keys] for values in records]
            count = self.bulk_insert(connection, form, keys, lines, system)
            after = connection.execute(highest).scalar() or 0
            if after - before != count:  # pragma: no cover - rowids were not consecutive
                raise RuntimeError(
                    f"{count} rows inserted into {table.name} got ids {before + 1}…{after}"
                )
            ids = list(range(before + 1, after + 1))
        else:
            params = [{key: values.get(key) for key in keys} | system for values in records]
            statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
            ids = [row[0] for row in connection.execute(statement, params)]
        for key, child in tables.children.items():
            fields = tables.child_fields[key]
            child_rows = [
                {"parent_id": ident, "row_index": position} | {k: row.get(k) for k in fields}
                for ident, values in zip(ids, records, strict=True)
                for position, row in enumerate(values.get(key) or [])
            ]
            if child_rows:
                connection.execute(child.insert(), child_rows)
        return ids

    @staticmethod
    def _send_batches(connection: Connection, sql: str, params: Iterable) -> int:
        """``executemany`` in batches of 10,000 rows; returns the count."""
        count = 0
        batch: list = []
        for row in params:
            batch.append(row)
            if len(batch) >= 10_000:
                connection.exec_driver_sql(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            connection.exec_driver_sql(sql, batch)
            count += len(batch)
        return count

    def next_serial(self, connection: Connection, form: str, key: str, period: str) -> int:
        """The next number of a serial field for a period, gap-free.

        The counter row is updated in the caller's transaction, which also inserts
        the record: a rollback returns the number, and concurrent savers queue on
        the row lock (PostgreSQL) or the write lock (SQLite).
        """
        where = (
            (serials_table.c.app_id == self.spec.id)
            & (serials_table.c.form == form)
            & (serials_table.c.field == key)
            & (serials_table.c.period == period)
        )
        bump = (
            serials_table.update()
            .where(where)
            .values(last_value=serials_table.c.last_value + 1)
            .returning(serials_table.c.last_value)
        )
        updated = connection.execute(bump).scalar()
        if updated is not None:
            return updated
        try:  # the first number of a period; another saver may create the counter first
            with connection.begin_nested():
                connection.execute(
                    serials_table.insert().values(
                        app_id=self.spec.id, form=form, field=key, period=period, last_value=1
                    )
                )
            return 1
        except IntegrityError:
            return connection.execute(bump).scalar_one()

    # -- reads --------------------------------------------------------------
    def fetch(
        self, connection: Connection, form: str, record_id: int, include_deleted: bool = False
    ) -> Record | None:
        tables = self.form_tables(form)
        table = tables.table
        query = sa.select(table).where(table.c.id == record_id)
        if not include_deleted:
            query = query.where(table.c.deleted_at.is_(None))
        row = connection.execute(query).mappings().first()
        if row is None:
            return None
        record = self._record(tables, row, tables.columns)
        for key in tables.children:
            record.values[key] = self._child_rows(connection, tables, key, record_id)
        return record

    def exists(self, connection: Connection, form: str, record_id: int) -> bool:
        table = self.form_tables(form).table
        query = sa.select(table.c.id).where(table.c.id == record_id, table.c.deleted_at.is_(None))
        return connection.execute(query).first() is not None

    def value_taken(
        self, connection: Connection, form: str, key: str, value: Any, except_id: int | None
    ) -> bool:
        """Whether a live record other than ``except_id`` holds ``value`` in ``key``."""
        table = self.form_tables(form).table
        query = sa.select(table.c.id).where(table.c[key] == value, table.c.deleted_at.is_(None))
        if except_id is not None:
            query = query.where(table.c.id != except_id)
        return connection.execute(query.limit(1)).first() is not None

    def values_in_use(
        self, connection: Connection, form: str, key: str, values: Iterable[Any]
    ) -> dict[Any, int]:
        """Which of ``values`` live records hold in field ``key``: value -> record id.

        Trashed records do not count (the unique index is over live records). For
        batched unique checks and upserts; the IN lists hold ``IN_VALUES`` values.
        """
        table = self.form_tables(form).table
        column = table.c[key]
        live = table.c.deleted_at.is_(None)
        found: dict[Any, int] = {}
        for chunk in _chunks(list(dict.fromkeys(values)), IN_VALUES):
            rows = connection.execute(sa.select(column, table.c.id).where(column.in_(chunk), live))
            found.update((value, ident) for value, ident in rows)
        return found

    def existing_references(
        self, connection: Connection, kind: Any, ids: Iterable[int]
    ) -> set[int]:
        """Which of ``ids`` a reference of ``kind`` (``FieldType.reference_kind``) may hold.

        Users and departments count whether active or not (an inactive one stays on
        the records that name it); records of a form count while live, not in the
        trash. A form the app does not have holds none.
        """
        if kind == "user":
            table, live = users_table, None
        elif kind == "department":
            table, live = departments_table, None
        else:
            try:
                table = self.form_tables(kind[1]).table
            except UnknownName:
                return set()
            live = table.c.deleted_at.is_(None)
        found: set[int] = set()
        for chunk in _chunks(list(dict.fromkeys(ids)), IN_IDS):
            statement = sa.select(table.c.id).where(table.c.id.in_(chunk))
            if live is not None:
                statement = statement.where(live)
            found.update(row[0] for row in connection.execute(statement))
        return found

    def _child_rows(self, connection, tables: FormTables, key: str, parent_id: int) -> list | None:
        child = tables.children[key]
        fields = tables.child_fields[key]
        query = sa.select(child).where(child.c.parent_id == parent_id).order_by(child.c.row_index)
        rows = [{k: row[k] for k in fields} for row in connection.execute(query).mappings()]
        return rows or None

    def _record(self, tables: FormTables, row, keys: Iterable[str]) -> Record:
        return Record(
            id=row["id"],
            version=row["version"],
            values={key: row[key] for key in keys},
            created_at=row["created_at"],
            created_by=row["created_by"],
            updated_at=row["updated_at"],
            updated_by=row["updated_by"],
            owner_department=row["owner_department"],
            deleted_at=row["deleted_at"],
        )

    def page(
        self,
        connection: Connection,
        form: str,
        query: RecordQuery,
        after: Cursor | None = None,
        limit: int = 100,
        scope: RowScope | None = None,
    ) -> Page:
        """One page of records in sort order, starting after a keyset cursor.

        Rows whose sort value is empty come last in either direction; the page
        is read as the non-empty part, then (if short) the empty part, so both
        halves use the (sort column, id) index. Statements are built once per
        query shape and reused with the cursor as bound parameters.
        """
        plan = self._page_plan(form, query, limit, scope)
        records: list[Record] = []
        if after is None or after.value is not None or plan.by_id:
            statement = plan.first if after is None else plan.after
            params = {} if after is None else {"_cursor_value": after.value, "_cursor_id": after.id}
            records += self._rows(connection, plan, statement, params)
        if len(records) < limit and not plan.by_id:
            params = {"_cursor_id": after.id} if after is not None and after.value is None else {}
            statement = plan.empty_after if params else plan.empty_first
            records += self._rows(connection, plan, statement, params)[: limit - len(records)]
        cursor = None
        if len(records) == limit:
            last = records[-1]
            cursor = Cursor(last.id if plan.by_id else self._raw_sort(last, query.sort), last.id)
        return Page(records, cursor)

    def _page_plan(self, form: str, query: RecordQuery, limit: int, scope) -> _PagePlan:
        key = ("page", form, query, limit, scope)
        return self._cached(key, lambda: self._build_plan(form, query, limit, scope))

    def _cached(self, key: tuple, build: Callable[[], Any]) -> Any:
        """A statement plan built once per query shape (the last 256 are kept)."""
        try:
            cached = self._plans.get(key)
        except TypeError:  # a filter with a list value: build without caching
            return build()
        if cached is None:
            cached = self._plans[key] = build()
            if len(self._plans) > 256:
                self._plans.pop(next(iter(self._plans)))
        return cached

    def _build_plan(self, form: str, query: RecordQuery, limit: int, scope) -> _PagePlan:
        tables = self.form_tables(form)
        table = tables.table
        keys = self._columns(tables, query)
        keyset = self._keyset(tables, query.sort)
        if query.sort.field in tables.columns and query.sort.field not in keys:
            keys.append(query.sort.field)  # the cursor needs the last row's sort value
        base = self._where(tables, query, scope)
        columns = [table.c[name] for name in (*SYSTEM_READ, *keys)]
        select = sa.select(*columns).order_by(*keyset.order).limit(limit)
        if keyset.after_pair is None:
            after = select.where(base & keyset.after_id)
            return _PagePlan(tables, keys, True, select.where(base), after)
        present = base & keyset.sort_column.isnot(None)
        empty = base & keyset.sort_column.is_(None)
        return _PagePlan(
            tables,
            keys,
            False,
            first=select.where(present),
            after=select.where(present & keyset.after_pair),
            empty_first=select.where(empty),
            empty_after=select.where(empty & keyset.after_id),
        )

    def _keyset(self, tables: FormTables, sort: Sort) -> _Keyset:
        table = tables.table
        sort_column = self._sort_column(tables, sort)
        desc = sort.desc
        order = [sort_column.desc(), table.c.id.desc()] if desc else [sort_column, table.c.id]
        cursor_id = sa.bindparam("_cursor_id", type_=table.c.id.type)
        after_id = table.c.id < cursor_id if desc else table.c.id > cursor_id
        if sort_column.key == "id":
            return _Keyset(sort_column, order[:1], after_id, None)
        pair = sa.tuple_(sort_column, table.c.id)
        cursor = sa.tuple_(sa.bindparam("_cursor_value", type_=sort_column.type), cursor_id)
        return _Keyset(sort_column, order, after_id, pair < cursor if desc else pair > cursor)

    def _rows(self, connection, plan: _PagePlan, statement, params) -> list[Record]:
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

    # -- positions: where a row of a list is, without reading records ----------
    def cursor_at(
        self,
        connection: Connection,
        form: str,
        query: RecordQuery,
        row: int,
        scope: RowScope | None = None,
        start: Cursor | None = None,
    ) -> Cursor | None:
        """The cursor just before row ``row`` (0-based), counted from just after
        ``start`` (``None``: from the top); a page read after it starts at that row.

        A list jumps to row 500,000 with this and then pages by key from there. It
        skips rows inside the live (sort column, id) index — never reading records —
        in the same two segments as ``page`` (values, then empty values), so each
        half is an index walk. ``start`` itself at row 0; ``None`` past the end.
        """
        plan = self._skip_plan(form, query, scope)
        return self._skip(connection, plan, start, row)

    def position_marks(
        self,
        connection: Connection,
        form: str,
        query: RecordQuery,
        every: int,
        scope: RowScope | None = None,
        stopped: Callable[[], bool] = lambda: False,
    ) -> list[Cursor]:
        """The cursors just before rows ``every``, 2·``every``, … to the end.

        Each mark is found from the one before (keyset, then OFFSET ``every`` - 1),
        so all of them cost one walk of the sort index. ``stopped`` is asked before
        each step: when it says so, the marks found so far are returned.
        """
        if every < 1:
            raise ValueError(f"marks need every >= 1 row, not {every}")
        walk = _Walk(self, connection, self._skip_plan(form, query, scope), every)
        try:
            marks: list[Cursor] = []
            while not stopped() and (mark := walk.next(marks[-1] if marks else None)):
                marks.append(mark)
            return marks
        finally:
            walk.close()

    def _skip(self, connection, plan: _SkipPlan, start: Cursor | None, rows: int):
        """The cursor ``rows`` rows after ``start``, segment by segment (see ``page``)."""
        if rows <= 0:
            return start
        if plan.empty is not None and start is not None and start.value is None:
            return self._skip_in(connection, plan.empty, start, rows)
        if plan.ties is not None and start is not None and rows > LONG_SKIP:
            return self._long_skip(connection, plan, start, rows)
        found = self._skip_in(connection, plan.present, start, rows)
        if found is not None or plan.empty is None:
            return found
        rows -= self._row(connection, plan.present_left.of(start), start, {})[0]
        return self._skip_in(connection, plan.empty, None, rows)

    def _long_skip(self, connection, plan: _SkipPlan, start: Cursor, rows: int):
        """``_skip`` from a cursor with a sort value, in plain ranges of the index.

        ``(value, id) > (?, ?)`` is not a range SQLite can bound exactly: it tests
        it on every row it skips, which makes a long skip 2-3x slower than from the
        top. So the rows tied with the cursor's value are counted first (at most
        ``rows``), then the skip goes on past that value: two or three statements
        instead of one, worth it only for long skips.
        """
        ties, last_id = self._row(connection, plan.ties, start, {"_rows": rows})
        if ties == rows:
            return Cursor(start.value, last_id)
        found = self._row(connection, plan.beyond, start, {"_skip": rows - ties - 1})
        if found is not None:
            return Cursor(found[0], found[1])
        rows -= ties + self._row(connection, plan.beyond_left, start, {})[0]
        return self._skip_in(connection, plan.empty, None, rows)

    def _skip_in(self, connection, segment: _Segment, start, rows: int) -> Cursor | None:
        """The cursor of the row ``rows`` after ``start`` within one segment."""
        found = self._row(connection, segment.of(start), start, {"_skip": rows - 1})
        # Sorting by id, the one column selected is both the cursor's value and id.
        return None if found is None else Cursor(found[0], found[-1])

    @staticmethod
    def _row(connection, statement: sa.Select, start: Cursor | None, params: dict):
        """The first row of a statement, with the cursor's parameters if any."""
        if start is not None:
            params |= {"_cursor_value": start.value, "_cursor_id": start.id}
        return connection.execute(statement, params).first()

    def _skip_plan(self, form: str, query: RecordQuery, scope) -> _SkipPlan:
        key = ("skip", form, replace(query, columns=None), scope)  # columns are not read
        return self._cached(key, lambda: self._build_skip_plan(form, query, scope))

    def _build_skip_plan(self, form: str, query: RecordQuery, scope) -> _SkipPlan:
        tables = self.form_tables(form)
        id_column = tables.table.c.id
        keyset = self._keyset(tables, query.sort)
        base = self._where(tables, query, scope)
        skip = sa.bindparam("_skip", type_=sa.Integer())
        if keyset.after_pair is None:
            one = sa.select(id_column).order_by(*keyset.order).offset(skip).limit(1)
            return _SkipPlan(_Segment(one.where(base), one.where(base & keyset.after_id)))
        sort_column, desc = keyset.sort_column, query.sort.desc
        one = sa.select(sort_column, id_column).order_by(*keyset.order).offset(skip).limit(1)
        count = sa.select(sa.func.count()).select_from(tables.table)
        present = base & sort_column.isnot(None)
        # A row with an empty value is never after a cursor with one: no IS NOT NULL
        # here, which SQLite would test on every row it skips.
        after = base & keyset.after_pair
        empty = base & sort_column.is_(None)
        value = sa.bindparam("_cursor_value", type_=sort_column.type)
        beyond = base & (sort_column < value if desc else sort_column > value)  # not empty
        return _SkipPlan(
            present=_Segment(one.where(present), one.where(after)),
            present_left=_Segment(count.where(present), count.where(after)),
            empty=_Segment(one.where(empty), one.where(empty & keyset.after_id)),
            ties=self._ties(id_column, base & (sort_column == value) & keyset.after_id, desc),
            beyond=one.where(beyond),
            beyond_left=count.where(beyond),
        )

    @staticmethod
    def _ties(id_column, where, desc: bool) -> sa.Select:
        """(how many, the last id) of at most ``_rows`` rows of ``where`` in id order."""
        order = id_column.desc() if desc else id_column
        limit = sa.bindparam("_rows", type_=sa.Integer())
        tied = sa.select(id_column).where(where).order_by(order).limit(limit).subquery()
        last = sa.func.min(tied.c.id) if desc else sa.func.max(tied.c.id)
        return sa.select(sa.func.count(), last)

    def _raw_sort(self, record: Record, sort: Sort) -> Any:
        if sort.field in record.values:
            return record.values[sort.field]
        return getattr(record, sort.field)

    def count(
        self,
        connection: Connection,
        form: str,
        query: RecordQuery,
        scope: RowScope | None = None,
    ) -> int:
        tables = self.form_tables(form)
        statement = sa.select(sa.func.count()).select_from(tables.table)
        return connection.execute(statement.where(self._where(tables, query, scope))).scalar_one()

    def _columns(self, tables: FormTables, query: RecordQuery) -> list[str]:
        if query.columns is None:
            return list(tables.columns)
        for key in query.columns:
            if key not in tables.columns:
                raise UnknownName(f"form '{tables.form.key}' has no field '{key}'")
        return list(query.columns)

    def _sort_column(self, tables: FormTables, sort: Sort):
        if sort.field in tables.columns or sort.field in SYSTEM_SORTABLE:
            return tables.table.c[sort.field]
        raise UnknownName(f"cannot sort by '{sort.field}'")

    # -- filters ------------------------------------------------------------
    def _where(self, tables: FormTables, query: RecordQuery, scope) -> sa.ColumnElement[bool]:
        table = tables.table
        parts = [table.c.deleted_at.isnot(None) if query.trash else table.c.deleted_at.is_(None)]
        if query.filter is not None:
            parts.append(self._filter(tables, query.filter))
        if query.search.strip():
            parts.append(self._search(tables, query.search.strip(), query.search_fields))
        if scope is not None:
            parts.append(scope_condition(table, scope))
        return sa.and_(*parts)

    def _search(
        self, tables: FormTables, text: str, among: tuple[str, ...] | None
    ) -> sa.ColumnElement[bool]:
        """Every word must appear in some searchable field (case-insensitive)."""
        searchable = [
            tables.table.c[key]
            for key, spec in tables.columns.items()
            if self.registry.of(spec).searchable and (among is None or key in among)
        ]
        if not searchable:
            return sa.false()
        words = text.split()[:10]
        return sa.and_(
            *[
                sa.or_(*[c.ilike(f"%{escape_like(word)}%", escape="\\") for c in searchable])
                for word in words
            ]
        )

    def _filter(self, tables: FormTables, node: Filter) -> sa.ColumnElement[bool]:
        if isinstance(node, AllOf):
            return sa.and_(*[self._filter(tables, part) for part in node.parts])
        if isinstance(node, AnyOf):
            return sa.or_(*[self._filter(tables, part) for part in node.parts])
        return self._condition(tables, node)

    def _condition(self, tables: FormTables, condition: Condition) -> sa.ColumnElement[bool]:
        spec = tables.columns.get(condition.field)
        if spec is None:
            raise UnknownName(f"form '{tables.form.key}' has no field '{condition.field}'")
        column = tables.table.c[condition.field]
        field_type = self.registry.of(spec)
        op = condition.op
        if op == "is_empty":
            return column.is_(None)
        if op == "not_empty":
            return column.isnot(None)
        if isinstance(column.type, sa.JSON):
            return self._json_condition(column, op, condition.value)
        if op in ("contains", "not_contains", "starts_with"):
            if not isinstance(column.type, sa.String):
                raise UnknownName(f"'{op}' applies to text, not to '{condition.field}'")
            text = str(condition.value or "")
            pattern = f"{escape_like(text)}%" if op == "starts_with" else f"%{escape_like(text)}%"
            match = column.ilike(pattern, escape="\\")
            return sa.or_(~match, column.is_(None)) if op == "not_contains" else match
        if op == "in":
            values = [field_type.coerce(spec, value) for value in condition.value or []]
            return column.in_(values)
        if op == "between":
            low, high = (field_type.coerce(spec, value) for value in condition.value)
            return column.between(low, high)
        value = field_type.coerce(spec, condition.value)
        return _COMPARISONS[op](column, value)

    def _json_condition(self, column, op: str, value: Any) -> sa.ColumnElement[bool]:
        """``contains`` on list values (multiselect, multiple people) per engine."""
        if op not in ("contains", "not_contains"):
            raise UnknownName(f"'{op}' does not apply to a list field")
        dialect_match = _JsonContains(column, value)
        return sa.or_(~dialect_match, column.is_(None)) if op == "not_contains" else dialect_match


class _Walk:
    """The steps of ``position_marks``: each skips ``every`` rows from the last mark.

    Within a segment a step is one statement, run as a :class:`DriverQuery` (a
    thousand of them through ``Connection.execute`` would hold the GIL long enough
    to slow the GUI's paints down). The first step, and a step that runs off the end
    of a segment (once or twice a walk), go through ``RecordRepository._skip``; the
    first also begins the connection's transaction, which the others then share.
    """

    def __init__(self, repository: RecordRepository, connection, plan: _SkipPlan, every: int):
        self.repository = repository
        self.connection = connection
        self.plan = plan
        self.every = every
        self.queries: dict[int, DriverQuery] = {}  # by id of the segment

    def next(self, mark: Cursor | None) -> Cursor | None:
        if mark is not None:
            in_empty = self.plan.empty is not None and mark.value is None
            found = self._within(self.plan.empty if in_empty else self.plan.present, mark)
            if found is not None:
                return found
        return self.repository._skip(self.connection, self.plan, mark, self.every)

    def _within(self, segment: _Segment, mark: Cursor) -> Cursor | None:
        params = {"_cursor_value": mark.value, "_cursor_id": mark.id, "_skip": self.every - 1}
        query = self.queries.get(id(segment))
        if query is None:
            query = self.queries[id(segment)] = DriverQuery(self.connection, segment.after, params)
        found = query.first(params)
        return None if found is None else Cursor(found[0], found[-1])

    def close(self) -> None:
        for query in self.queries.values():
            query.close()


def scope_condition(table: sa.Table, scope: RowScope) -> sa.ColumnElement[bool]:
    """The rows of a record table that a row scope reaches (bound parameters only)."""
    if scope.kind == "all":
        return sa.true()
    if scope.kind == "own" and scope.user_id is not None:
        return table.c.created_by == scope.user_id
    if scope.kind in ("department", "department_tree") and scope.department_ids:
        return table.c.owner_department.in_(sorted(scope.department_ids))
    return sa.false()


_COMPARISONS = {
    "eq": lambda column, value: column == value,
    "ne": lambda column, value: sa.or_(column != value, column.is_(None)),
    "lt": lambda column, value: column < value,
    "le": lambda column, value: column <= value,
    "gt": lambda column, value: column > value,
    "ge": lambda column, value: column >= value,
    "before": lambda column, value: column < value,
    "after": lambda column, value: column > value,
}

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


class _JsonContains(sa.sql.expression.ColumnElement):
    """``value`` is an element of the JSON array in ``column`` (both engines)."""

    inherit_cache = False
    type = sa.Boolean()

    def __init__(self, column, value) -> None:
        self.column = column
        self.value = value


@compiles(_JsonContains, "sqlite")
def _json_contains_sqlite(element, compiler, **kw):
    each = sa.func.json_each(element.column).table_valued("value")
    exists = sa.exists().where(each.c.value == sa.literal(element.value))
    return compiler.process(exists, **kw)


@compiles(_JsonContains, "postgresql")
def _json_contains_postgresql(element, compiler, **kw):
    from sqlalchemy.dialects.postgresql import JSONB

    contains = sa.cast(element.column, JSONB).contains(sa.literal([element.value], JSONB))
    return compiler.process(contains, **kw)
