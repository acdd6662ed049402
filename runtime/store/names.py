"""The SQL of names: ids of users, departments and records ↔ the names they show.

The one name resolver (``runtime.services.names.NameResolver``) decides what a
reader may see; the queries live here. The names of a reference kind
(``widgets.references``) live in one :class:`NameTable`, found by the kind's
class in one mapping, :data:`NAME_TABLES`:

* users and departments: :class:`OrgNames` over their table (no row scope: every
  user sees them);
* the records of a form: :class:`RecordNames` over the form's table, named by one
  field and limited to the rows of a :class:`RowScope`.

Look-ups are batched (one query per chunk of ids or names); whether referenced
ids exist is a :class:`~runtime.store.value_questions.Question`, which a write
asks together with its other questions. :class:`NameChanges` tells name caches
when a committed transaction updated or deleted rows of a table that names come
from, whichever code wrote them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from runtime.store.query import Condition, RecordQuery, RowScope
from runtime.store.record_conditions import UnknownName, escape_like, scope_condition
from runtime.store.schema import departments_table, users_table
from runtime.store.value_questions import Question
from widgets.base import FieldValueError
from widgets.references import DepartmentRef, RecordRef, ReferenceKind, UserRef

if TYPE_CHECKING:
    from runtime.store.repository import RecordRepository

CHUNK = 500  # ids per IN (...) list
IN_VALUES = 2_000  # names or values per IN (...) list


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class NameTable(Protocol):
    """Where the names of one reference kind live, and the queries over them."""

    @property
    def table(self) -> sa.Table:
        """The table a write to which may rename (see :class:`NameChanges`)."""

    @property
    def form(self) -> str | None:
        """The form whose read permissions govern these names; None: names for everyone."""

    @property
    def display_key(self) -> str | None:
        """The field the names are read from (records); None: no name, ``#id`` only."""

    def existing_question(self, ids: Sequence[int]) -> Question:
        """Which of ``ids`` a reference may hold (they exist; records: not trashed),
        as a question a write asks with its others (``value_questions.answer``)."""

    def names(
        self, connection: Connection, ids: Iterable[int], scope: RowScope | None
    ) -> dict[int, str]:
        """The name of each of ``ids`` within ``scope`` that has one."""

    def ids_named(
        self, connection: Connection, names: Sequence[str], scope: RowScope | None
    ) -> dict[str, set[int]]:
        """Name -> the ids within ``scope`` that it names."""

    def search(
        self, connection: Connection, text: str, limit: int, scope: RowScope | None
    ) -> list[tuple[int, str]]:
        """Up to ``limit`` (id, name) whose name contains ``text`` (pickers)."""

    def unnamed(self) -> NameTable:
        """The same rows without their names (a reader who may not see them)."""


# -- users and departments ------------------------------------------------------


@dataclass(frozen=True)
class OrgNames:
    """Names of the rows of an organisation table: the first non-empty ``shown``
    column; a name given finds the rows whose ``found_by`` columns hold it; a
    search looks into the ``searched`` columns of active rows."""

    table: sa.Table
    shown: tuple[str, ...]
    found_by: tuple[str, ...]
    searched: tuple[str, ...]
    form: str | None = None
    display_key: str | None = None

    def _name(self, row: Any) -> str:
        return next((text for text in row[1:] if text), "")

    def _shown_columns(self) -> list[sa.Column]:
        return [self.table.c.id, *(self.table.c[key] for key in self.shown)]

    def existing_question(self, ids: Sequence[int]) -> Question:
        """Active or not: an inactive user stays on the records that name them."""
        identity = self.table.c.id
        return Question(("exists", self.table.name), ids, identity.in_, identity)

    def names(self, connection: Connection, ids: Iterable[int], scope=None) -> dict[int, str]:
        found: dict[int, str] = {}
        for chunk in _chunks(sorted(set(ids))):
            query = sa.select(*self._shown_columns()).where(self.table.c.id.in_(chunk))
            found.update((row[0], self._name(row)) for row in connection.execute(query))
        return found

    def ids_named(
        self, connection: Connection, names: Sequence[str], scope=None
    ) -> dict[str, set[int]]:
        columns = [self.table.c[key] for key in self.found_by]
        matches: dict[str, set[int]] = {}
        for chunk in _chunks(list(names)):
            wanted = set(chunk)
            where = sa.or_(*(column.in_(chunk) for column in columns))
            for ident, *texts in connection.execute(
                sa.select(self.table.c.id, *columns).where(where)
            ):
                for text in set(texts):
                    if text in wanted:
                        matches.setdefault(text, set()).add(ident)
        return matches

    def search(
        self, connection: Connection, text: str, limit: int, scope=None
    ) -> list[tuple[int, str]]:
        match = sa.or_(*(_contains(self.table.c[key], text) for key in self.searched))
        query = sa.select(*self._shown_columns()).where(self.table.c.active, match)
        query = query.order_by(self.table.c[self.shown[0]]).limit(limit)
        return [(row[0], self._name(row)) for row in connection.execute(query)]

    def unnamed(self) -> NameTable:
        return self  # everyone may see these names


def _contains(column: sa.Column, text: str) -> sa.ColumnElement[bool]:
    return column.ilike(f"%{escape_like(text)}%", escape="\\")


#: A user is named by their display name, else their user name.
USERS = OrgNames(
    users_table,
    shown=("display_name", "username"),
    found_by=("display_name", "username"),
    searched=("display_name", "username"),
)
#: A department is named by its name and found by its name or code.
DEPARTMENTS = OrgNames(
    departments_table, shown=("name",), found_by=("name", "code"), searched=("name",)
)


def user_display_name(connection: Connection, user_id: int) -> str | None:
    """The user's display name, else their user name; None if there is no such user."""
    return USERS.names(connection, [user_id]).get(user_id)


# -- records of a form ------------------------------------------------------------


@dataclass(frozen=True)
class RecordNames:
    """The records of one form, named by the value of ``display_key`` as its type
    displays it (None: they have no name the reader may see, only ``#id``)."""

    repository: RecordRepository
    form: str
    display_key: str | None

    @property
    def table(self) -> sa.Table:
        return self.repository.form_tables(self.form).table

    def _typed(self) -> tuple[Any, Any]:
        assert self.display_key is not None  # callers return early without one
        spec = self.repository.form_tables(self.form).columns[self.display_key]
        return spec, self.repository.registry.of(spec)

    def existing_question(self, ids: Sequence[int]) -> Question:
        """Live records only: a trashed record cannot be linked again."""
        table = self.table
        live = table.c.deleted_at.is_(None)

        def live_among(chunk: Any) -> sa.ColumnElement[bool]:
            return sa.and_(table.c.id.in_(chunk), live)

        return Question(("exists", table.name), ids, live_among, table.c.id)

    def names(
        self, connection: Connection, ids: Iterable[int], scope: RowScope | None
    ) -> dict[int, str]:
        """Live records or in the trash (a link to a trashed record still shows its
        name); a record whose display value is empty has no name."""
        if self.display_key is None:
            return {}
        spec, field_type = self._typed()
        table = self.table
        column = table.c[self.display_key]
        reach = _reach(table, scope)
        found: dict[int, str] = {}
        for chunk in _chunks(sorted(set(ids))):
            query = sa.select(table.c.id, column).where(
                table.c.id.in_(chunk), reach, column.isnot(None)
            )
            found.update(
                (row[0], field_type.display(spec, row[1])) for row in connection.execute(query)
            )
        return found

    def ids_named(
        self, connection: Connection, names: Sequence[str], scope: RowScope | None
    ) -> dict[str, set[int]]:
        """Each name is read as a value of the display field (``"12"`` of a number
        field is 12), then matched among live records."""
        if self.display_key is None:
            return {}
        by_value = self._values_of(names)
        if not by_value:
            return {}
        table = self.table
        column = table.c[self.display_key]
        live_within = sa.and_(table.c.deleted_at.is_(None), _reach(table, scope))
        matches: dict[str, set[int]] = {}
        for chunk in _chunks(list(by_value), IN_VALUES):
            query = sa.select(table.c.id, column).where(column.in_(chunk), live_within)
            for ident, value in connection.execute(query):
                for name in by_value.get(value, []):
                    matches.setdefault(name, set()).add(ident)
        return matches

    def _values_of(self, names: Sequence[str]) -> dict[Any, list[str]]:
        """Display-field value -> the names that read as it (names that do not read
        as one value of the field match nothing)."""
        spec, field_type = self._typed()
        by_value: dict[Any, list[str]] = {}
        for name in names:
            try:
                value = field_type.parse(spec, name)
            except FieldValueError:
                continue
            if value is not None and not isinstance(value, (list, dict)):
                by_value.setdefault(value, []).append(name)
        return by_value

    def search(
        self, connection: Connection, text: str, limit: int, scope: RowScope | None
    ) -> list[tuple[int, str]]:
        """Records whose name contains ``text``, in id order. Without a display
        field only an empty search finds records (by id): a search would tell
        what the hidden names contain."""
        if self.display_key is None:
            if text:
                return []
            page = self.repository.page(
                connection, self.form, RecordQuery(columns=()), None, limit, scope
            )
            return [(record.id, f"#{record.id}") for record in page.records]
        key = self.display_key
        spec, field_type = self._typed()
        condition = Condition(key, "contains", text) if text else None
        query = RecordQuery(filter=condition, columns=(key,))
        page = self.repository.page(connection, self.form, query, None, limit, scope)
        found = []
        for record in page.records:
            value = record.values.get(key)
            name = field_type.display(spec, value) if value is not None else ""
            found.append((record.id, name or f"#{record.id}"))
        return found

    def unnamed(self) -> NameTable:
        return replace(self, display_key=None)


def _reach(table: sa.Table, scope: RowScope | None) -> sa.ColumnElement[bool]:
    return sa.true() if scope is None else scope_condition(table, scope)


# -- the one mapping: kind -> where its names live ----------------------------------

#: How to find the :class:`NameTable` of a kind, by the kind's class. A new kind
#: (a role, a department's head) adds its entry here and nowhere else.
NAME_TABLES: dict[type[ReferenceKind], Callable[[Any, NameDirectory], NameTable | None]] = {
    UserRef: lambda kind, directory: USERS,
    DepartmentRef: lambda kind, directory: DEPARTMENTS,
    RecordRef: lambda kind, directory: directory.records(kind),
}


class NameDirectory:
    """The name tables of one installed app's reference kinds."""

    def __init__(self, repository: RecordRepository) -> None:
        self.repository = repository
        self._display_keys: dict[str, str] | None = None

    def table(self, kind: ReferenceKind) -> NameTable | None:
        """Where ``kind``'s names live; None for a form the app does not have."""
        find = NAME_TABLES.get(type(kind))
        return None if find is None else find(kind, self)

    def existing_question(self, kind: ReferenceKind, ids: Sequence[int]) -> Question | None:
        """The question of which of ``ids`` a reference of ``kind`` may hold; None
        for a form the app does not have (it holds none)."""
        table = self.table(kind)
        return None if table is None else table.existing_question(ids)

    def records(self, kind: RecordRef) -> RecordNames | None:
        try:
            columns = self.repository.form_tables(kind.form).columns
        except UnknownName:
            return None
        key = kind.display_field or self.display_field(kind.form)
        return RecordNames(self.repository, kind.form, key if key in columns else None)

    def display_field(self, form: str) -> str | None:
        """The field the app's lookups show for records of ``form`` (the first
        lookup to it in form order, subtable columns included): what names a
        record kind that does not say."""
        if self._display_keys is None:
            registry = self.repository.registry
            keys: dict[str, str] = {}
            for form_spec in self.repository.spec.forms:
                stack = list(reversed(form_spec.fields))
                while stack:
                    spec = stack.pop()
                    field_type = registry.of(spec)
                    stack.extend(reversed(field_type.children(spec)))
                    for reference in field_type.references(spec):
                        if reference.kind == "field":
                            target, key = reference.target
                            keys.setdefault(target, key)
            self._display_keys = keys
        return self._display_keys.get(form)


# -- telling caches that names changed --------------------------------------------


class NameChanges:
    """Which tables committed transactions of one engine updated or deleted rows
    of, told to the caches watching (by table name, after the commit).

    It listens to the engine's statements, not to the services that write, so no
    write path can forget it: a record saved, imported or purged, a user renamed
    by the admin screen or the staff import, a department edited. Updates made
    outside this process are not seen.
    """

    PENDING = "formwright_name_tables"  # Connection.info key: tables of the open transaction

    def __init__(self, engine: Engine) -> None:
        self._watchers: weakref.WeakSet = weakref.WeakSet()
        self._lock = threading.Lock()
        sa.event.listen(engine, "after_execute", self._executed)
        sa.event.listen(engine, "commit", self._committed)
        sa.event.listen(engine, "rollback", self._rolled_back)

    def watch(self, watcher: Any) -> None:
        """Call ``watcher.names_changed(table_names)`` after each such commit (held
        weakly: a cache that is gone stops being told)."""
        with self._lock:
            self._watchers.add(watcher)

    def _executed(self, connection, statement, *_args) -> None:
        table = statement.table if isinstance(statement, (sa.Update, sa.Delete)) else None
        if isinstance(table, sa.TableClause):  # (always, for an update or delete: no joins)
            connection.info.setdefault(self.PENDING, set()).add(table.name)

    def _committed(self, connection) -> None:
        changed = connection.info.pop(self.PENDING, None)
        if changed:
            with self._lock:
                watchers = list(self._watchers)
            for watcher in watchers:
                watcher.names_changed(frozenset(changed))

    def _rolled_back(self, connection) -> None:
        connection.info.pop(self.PENDING, None)


_changes: weakref.WeakKeyDictionary[Engine, NameChanges] = weakref.WeakKeyDictionary()
_changes_lock = threading.Lock()


def name_changes(engine: Engine) -> NameChanges:
    """The :class:`NameChanges` of ``engine`` (listening from the first call on)."""
    with _changes_lock:
        changes = _changes.get(engine)
        if changes is None:
            changes = _changes[engine] = NameChanges(engine)
        return changes


def usernames(connection: Connection, ids: Iterable[int]) -> dict[int, str]:
    """User name (the login name, not the display name) of each of these users that exists."""
    identity, name = users_table.c.id, users_table.c.username
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(set(ids))):
        found.update(connection.execute(sa.select(identity, name).where(identity.in_(chunk))).all())
    return found
