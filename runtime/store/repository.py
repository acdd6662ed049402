"""The record repository: the only place that builds SQL for records.

Statements are SQLAlchemy Core objects with bound parameters. The caller (a
service) owns the transaction and passes the connection; the repository never
commits. Values come in and go out canonical (see ``widgets.base``).

:class:`RecordRepository` is the one entry point; it validates names, caches
statement plans per query shape (``_cached``) and runs the writes and simple
reads itself. The larger pieces of statement building live beside it, each
with its own concern:

- ``record_conditions``: which rows a query reaches (filters, search, scope,
  JSON containment) and the keyset order of a sort;
- ``record_pages``: :class:`Record`, :class:`Page` and reading a page by keyset;
- ``record_positions``: ``cursor_at`` and ``position_marks``' skips in the index;
- ``bulk_encoding``: ``bulk_insert``'s compiled INSERT and driver encoders.

Their public names are importable from here too.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from runtime.spec.models import AppSpec
from runtime.store.audit_seals import server_seal_sql
from runtime.store.bulk_encoding import BulkInsert, compile_bulk_insert, send_batches
from runtime.store.connection import inserted_id
from runtime.store.driver_write import DriverWrite
from runtime.store.names import NameDirectory
from runtime.store.query import Cursor, RecordQuery, RowScope
from runtime.store.record_conditions import (
    SYSTEM_SORTABLE,
    UnknownName,
    escape_like,
    keyset,
    scope_condition,
    where_clause,
)
from runtime.store.record_pages import (
    SYSTEM_READ,
    Page,
    PagePlan,
    Record,
    page_plan,
    read_page,
)
from runtime.store.record_positions import SkipPlan, skip_plan, skip_rows, walk_marks
from runtime.store.schema import (
    AppTables,
    FormTables,
    serials_table,
)
from runtime.store.value_questions import BRANCH_VALUES, Question, answer
from widgets.references import as_reference_kind
from widgets.registry import FieldTypeRegistry

#: Rows from a cursor beyond which a skip counts the cursor's ties apart (see
#: ``record_positions._long_skip``); read at each call, so tests can lower it.
LONG_SKIP = 5_000
#: Values and ids per IN list of the batched reads and writes (``values_in_use``,
#: ``owners``, ``trash_many``): well under SQLite's limit of bound parameters.
IN_VALUES = BRANCH_VALUES
IN_IDS = 500


@dataclass(frozen=True)
class Stored:
    """A record just written: its id, and its seal when the statement that wrote it
    returned one (None: seal it by reading it back, see runtime.store.audit_seals)."""

    id: int
    seal: str | None

    def seals(self) -> dict[int, str | None] | None:
        """The seals for the audit row (None: the writer reads them)."""
        return None if self.seal is None else {self.id: self.seal}


@functools.cache
def _serial_bump(dialect: str) -> sa.Insert:
    """``next_serials``' upsert for ``dialect``: a new counter starts at the count
    taken (``last_value`` bound at execution), a stored one adds it."""
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(serials_table)
    counter = serials_table.c.last_value
    return upsert.on_conflict_do_update(
        index_elements=list(serials_table.primary_key),
        set_={"last_value": counter + upsert.excluded.last_value},
    ).returning(counter)


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RecordRepository:
    """SQL for the records of one installed app."""

    def __init__(
        self, tables: AppTables | Callable[[], AppTables], registry: FieldTypeRegistry
    ) -> None:
        """``tables``, or a function building them on first use: a window can then
        paint before the app's table models exist (its first query builds them, on
        a worker thread)."""
        self._tables = tables if isinstance(tables, AppTables) else None
        self._build_tables = None if isinstance(tables, AppTables) else tables
        self._tables_lock = threading.Lock()
        self.registry = registry
        self._plans: dict[tuple, PagePlan | SkipPlan] = {}
        #: PostgreSQL: the sealed INSERT and UPDATEs of a save, compiled once
        #: (runtime.store.driver_write), by table and the columns an UPDATE sets.
        self._sealed_writes: dict[tuple, DriverWrite] = {}
        #: Where the names of each reference kind live (runtime.store.names).
        self.names = NameDirectory(self)

    @property
    def tables(self) -> AppTables:
        if self._tables is None:
            with self._tables_lock:
                if self._tables is None:
                    assert self._build_tables is not None  # given when the tables were not
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

    # -- writes -------------------------------------------------------------
    def insert(
        self, connection: Connection, form: str, values: dict[str, Any], system: dict[str, Any]
    ) -> Stored:
        """Insert a record and its subtable rows: its id, and its seal where the
        server computes it in the same statement (see :func:`server_seal_sql`)."""
        tables = self.form_tables(form)
        row = {key: values.get(key) for key in tables.columns} | system
        # Parameters, not .values(): the statement stays the same object, so SQLAlchemy's
        # compiled cache hits (building a literal-valued statement per save costs 4x).
        seal = server_seal_sql(connection.dialect, tables)
        if seal is not None:
            cache_key = (tables.table.name, None)
            insert = self._sealed_writes.get(cache_key)
            if insert is None:
                table = tables.table
                values = {name: sa.bindparam(name) for name in row}
                returning = (
                    table.insert().values(values).returning(table.c.id, sa.literal_column(seal))
                )
                insert = self._sealed_write(cache_key, returning, connection)
            record_id, sealed = insert.rows(connection, row)[0]
            return Stored(record_id, sealed)
        record_id = inserted_id(connection.execute(tables.table.insert(), row))
        for key in tables.children:
            self._write_child_rows(connection, tables, key, record_id, values.get(key))
        return Stored(record_id, None)

    def update(
        self,
        connection: Connection,
        form: str,
        record_id: int,
        changes: dict[str, Any],
        expected_version: int,
        system: dict[str, Any],
    ) -> Stored | None:
        """Write changes if the stored version is still ``expected_version``.

        Returns None when someone saved first (nothing is written). The version
        check is in the UPDATE's WHERE, so it holds under concurrency on both engines.
        Like :meth:`insert`, the record's new seal comes back when the server makes it.
        """
        tables = self.form_tables(form)
        row = {key: value for key, value in changes.items() if key in tables.columns}
        params = row | system | {"version": expected_version + 1}
        params |= {"_record_id": record_id, "_expected_version": expected_version}
        statement = self._versioned_update(tables.table)
        seal = server_seal_sql(connection.dialect, tables)
        if seal is not None:
            cache_key = (tables.table.name, frozenset(params))
            update = self._sealed_writes.get(cache_key)
            if update is None:
                sets: dict[str, Any] = {
                    name: sa.bindparam(name) for name in params if not name.startswith("_")
                }
                sealed: Any = statement.values(sets).returning(sa.literal_column(seal))
                update = self._sealed_write(cache_key, sealed, connection)
            found = update.rows(connection, params)
            return Stored(record_id, found[0][0]) if found else None
        if connection.execute(statement, params).rowcount != 1:
            return None
        for key in tables.children:
            if key in changes:
                self._replace_child_rows(connection, tables, key, record_id, changes[key])
        return Stored(record_id, None)

    def _sealed_write(self, key: tuple, statement, connection: Connection) -> DriverWrite:
        """Compile and keep a sealed write (a form's saves set a few column sets;
        the cache starts again past 500 of them)."""
        if len(self._sealed_writes) >= 500:
            self._sealed_writes.clear()
        compiled = self._sealed_writes[key] = DriverWrite(statement, connection.dialect)
        return compiled

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

    def trash_many(
        self,
        connection: Connection,
        form: str,
        record_ids: Sequence[int],
        deleted_at: datetime,
        system: dict[str, Any],
    ) -> list[int]:
        """Move the live records among ``record_ids`` to the trash; the ids moved
        (a record already in the trash or purged is left as it is)."""
        table = self.form_tables(form).table
        moved: list[int] = []
        for chunk in _chunks(list(record_ids), IN_IDS):
            statement = (
                table.update()
                .where(table.c.id.in_(chunk), table.c.deleted_at.is_(None))
                .values(deleted_at=deleted_at, version=table.c.version + 1, **system)
                .returning(table.c.id)
            )
            moved.extend(row[0] for row in connection.execute(statement))
        return sorted(moved)

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
        sent: Callable[[list], None] | None = None,
    ) -> int:
        """Insert many canonical rows at driver speed (no subtables); returns the count.

        Each row's values go through its column's driver encoder, then straight to the
        driver's ``executemany`` as tuples (the fast path measured in ENVIRONMENT.md).
        The system values are the same for every row, so they are written once into
        the statement as SQL literals — our own timestamps and ids, never user text —
        and each row sends only its field values. ``sent`` sees every batch of driver
        parameters once sent (an :class:`~runtime.store.audit_seals.InsertSealer`).
        """
        statement = self.prepare_bulk_insert(connection, form, keys, system)
        return self.send_bulk_insert(connection, statement, map(statement.arrange, rows), sent)

    def prepare_bulk_insert(
        self, connection: Connection, form: str, keys: Sequence[str], system: dict[str, Any]
    ) -> BulkInsert:
        """The compiled INSERT of :meth:`bulk_insert`, for a caller that encodes the
        cells itself (see :attr:`BulkInsert.cell_encoders`)."""
        table = self.form_tables(form).table
        return compile_bulk_insert(table, keys, system, connection.dialect)

    def send_bulk_insert(
        self,
        connection: Connection,
        statement: BulkInsert,
        params: Iterable[tuple | dict],
        sent: Callable[[list], None] | None = None,
    ) -> int:
        """Run a prepared bulk INSERT over rows of driver parameters; returns the count."""
        return send_batches(connection, statement.sql, params, sent)

    def insert_many(
        self,
        connection: Connection,
        form: str,
        records: Sequence[dict[str, Any]],
        system: dict[str, Any],
        sent: Callable[[list], None] | None = None,
    ) -> list[int]:
        """Insert new records (canonical values, subtable rows included) at bulk
        speed; returns their ids, in order. ``sent``: see :meth:`bulk_insert`.

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
            count = self.bulk_insert(connection, form, keys, lines, system, sent)
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

    def next_serial(self, connection: Connection, form: str, key: str, period: str) -> int:
        """The next number of a serial field for a period, gap-free, in one statement.

        ``INSERT … ON CONFLICT (app_id, form, field, period) DO UPDATE SET
        last_value = last_value + 1 RETURNING last_value``: the first number of a
        period creates the counter row, later ones bump it (the four columns are
        the table's primary key, in every workspace since the first). The counter
        row is written in the caller's transaction, which also inserts the record:
        a rollback returns the number, and concurrent savers queue on the row lock
        (PostgreSQL) or the write lock (SQLite) until it commits.
        """
        return self.next_serials(connection, form, key, period, 1)

    def next_serials(
        self, connection: Connection, form: str, key: str, period: str, count: int
    ) -> int:
        """Take the next ``count`` numbers at once, as :meth:`next_serial` takes one;
        returns the last of them (the first is ``last - count + 1``)."""
        params = {"app_id": self.spec.id, "form": form, "field": key, "period": period}
        bump = _serial_bump(connection.dialect.name)
        return connection.execute(bump, params | {"last_value": count}).scalar_one()

    def return_serials(
        self, connection: Connection, form: str, key: str, period: str, count: int
    ) -> None:
        """Give back the last ``count`` numbers this transaction took and did not use.

        Gap-free only because the transaction holds the counter's lock from its
        first number on: nobody took a number after them.
        """
        counter = serials_table.c
        where = sa.and_(
            counter.app_id == self.spec.id,
            counter.form == form,
            counter.field == key,
            counter.period == period,
        )
        statement = serials_table.update().where(where)
        connection.execute(statement.values(last_value=counter.last_value - count))

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

    def owners(
        self,
        connection: Connection,
        form: str,
        record_ids: Sequence[int],
        include_deleted: bool = False,
    ) -> dict[int, tuple[int | None, int | None]]:
        """``created_by`` and ``owner_department`` of each of these records that
        exists (live, or also in the trash with ``include_deleted``, as :meth:`fetch`):
        what a row scope is decided on, for many records in one query per chunk."""
        table = self.form_tables(form).table
        columns = (table.c.id, table.c.created_by, table.c.owner_department)
        found: dict[int, tuple[int | None, int | None]] = {}
        for chunk in _chunks(list(record_ids), IN_IDS):
            query = sa.select(*columns).where(table.c.id.in_(chunk))
            if not include_deleted:
                query = query.where(table.c.deleted_at.is_(None))
            rows = connection.execute(query)
            found.update({row.id: (row.created_by, row.owner_department) for row in rows})
        return found

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
        question = self._in_use_question(form, key, list(values))
        return answer(connection, [question], self._cached)[0]

    def _in_use_question(self, form: str, key: str, values: Sequence[Any]) -> Question:
        table = self.form_tables(form).table
        column = table.c[key]
        live = table.c.deleted_at.is_(None)

        def live_among(chunk: Any) -> sa.ColumnElement[bool]:
            return sa.and_(column.in_(chunk), live)

        return Question(("holds", table.name, key), values, live_among, table.c.id, column)

    def references_and_values_in_use(
        self,
        connection: Connection,
        form: str,
        references: Sequence[tuple[Any, Sequence[int]]],
        unique: Sequence[tuple[str, Sequence[Any]]],
    ) -> tuple[list[set[int]], list[dict[Any, int]]]:
        """:meth:`existing_references` of each (kind, ids) of ``references`` and
        :meth:`values_in_use` of each (key, values) of ``unique`` (fields of
        ``form``), asked in one statement: a save's checks cost one round trip
        (a bulk batch's, one per ``value_questions.STATEMENT_VALUES`` values)."""
        asked = [self.names.existing_question(as_reference_kind(k), ids) for k, ids in references]
        questions = [question for question in asked if question is not None]
        questions += [self._in_use_question(form, key, values) for key, values in unique]
        answers = iter(answer(connection, questions, self._cached))
        existing = [set() if question is None else set(next(answers)) for question in asked]
        return existing, list(answers)

    def unique_field(self, form: str, index: str | None) -> str | None:
        """The field of ``form`` whose unique index a refusal named
        (``ValueInUse.index``), or None when it named none of them."""
        table = self.form_tables(form).table
        for item in table.indexes:
            columns = list(item.columns)
            if item.unique and len(columns) == 1:
                key = columns[0].name
                if index in (item.name, f"{table.name}.{key}"):
                    return key
        return None

    def holds_lists(self, form: str, key: str) -> bool:
        """Whether field ``key`` is stored as JSON (a list of values, not one
        comparable value: its unique index alone decides)."""
        return isinstance(self.form_tables(form).table.c[key].type, sa.JSON)

    def existing_references(
        self, connection: Connection, kind: Any, ids: Iterable[int]
    ) -> set[int]:
        """Which of ``ids`` a reference of ``kind`` (``FieldType.reference_kind``, or
        its plain spelling) may hold: see :meth:`NameTable.existing_question`.

        Users and departments count whether active or not (an inactive one stays on
        the records that name them); records of a form count while live, not in the
        trash. A form the app does not have holds none.
        """
        question = self.names.existing_question(as_reference_kind(kind), list(ids))
        if question is None:
            return set()
        return set(answer(connection, [question], self._cached)[0])

    def value_rows(
        self, connection: Connection, form: str, keys: Sequence[str], scope: RowScope | None
    ) -> Iterable[tuple]:
        """The values of fields ``keys`` of every live record within ``scope``, one
        tuple per record, streamed (an import's check for rows already in the form)."""
        tables = self.form_tables(form)
        table = tables.table
        columns = [table.c[key] for key in keys]
        where = where_clause(tables, RecordQuery(), scope, self.registry)
        result = connection.execution_options(yield_per=2000).execute(
            sa.select(*columns).where(where)
        )
        for row in result:
            yield tuple(row)

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
        return read_page(connection, plan, query.sort, after, limit)

    def _page_plan(self, form: str, query: RecordQuery, limit: int, scope) -> PagePlan:
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

    def _build_plan(self, form: str, query: RecordQuery, limit: int, scope) -> PagePlan:
        tables = self.form_tables(form)
        keys = self._columns(tables, query)
        order = keyset(tables, query.sort)
        if query.sort.field in tables.columns and query.sort.field not in keys:
            keys.append(query.sort.field)  # the cursor needs the last row's sort value
        base = where_clause(tables, query, scope, self.registry)
        return page_plan(tables, keys, order, base, limit)

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
        return skip_rows(connection, plan, start, row, LONG_SKIP)

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
        plan = self._skip_plan(form, query, scope)
        return walk_marks(connection, plan, every, LONG_SKIP, stopped)

    def _skip_plan(self, form: str, query: RecordQuery, scope) -> SkipPlan:
        key = ("skip", form, replace(query, columns=None), scope)  # columns are not read
        return self._cached(key, lambda: self._build_skip_plan(form, query, scope))

    def _build_skip_plan(self, form: str, query: RecordQuery, scope) -> SkipPlan:
        tables = self.form_tables(form)
        order = keyset(tables, query.sort)
        base = where_clause(tables, query, scope, self.registry)
        return skip_plan(tables.table, order, base, query.sort.desc)

    def count(
        self,
        connection: Connection,
        form: str,
        query: RecordQuery,
        scope: RowScope | None = None,
    ) -> int:
        tables = self.form_tables(form)
        statement = sa.select(sa.func.count()).select_from(tables.table)
        where = where_clause(tables, query, scope, self.registry)
        return connection.execute(statement.where(where)).scalar_one()

    def _columns(self, tables: FormTables, query: RecordQuery) -> list[str]:
        if query.columns is None:
            return list(tables.columns)
        for key in query.columns:
            if key not in tables.columns:
                raise UnknownName(f"form '{tables.form.key}' has no field '{key}'")
        return list(query.columns)


__all__ = [
    "IN_IDS",
    "IN_VALUES",
    "LONG_SKIP",
    "SYSTEM_READ",
    "SYSTEM_SORTABLE",
    "Page",
    "Record",
    "RecordRepository",
    "UnknownName",
    "escape_like",
    "scope_condition",
]
