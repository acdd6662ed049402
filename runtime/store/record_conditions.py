"""The conditions of record statements: which rows a query reaches, and its order.

``where_clause`` turns a :class:`RecordQuery` (trash or live, filter tree, search
words) and a :class:`RowScope` into one SQLAlchemy condition; ``keyset`` gives the
ORDER BY of a sort and what "after a cursor" means in it. Both are pure statement
building — no connection, no execution — so they live apart from the repository,
which runs them (``runtime.store.repository`` re-exports the public names).

Values in conditions are bound parameters; a filter value is coerced by its field
type first. ``contains`` on a list field (multiselect, several people) compiles per
engine: ``json_each`` on SQLite, JSONB ``@>`` on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from runtime.store.query import AllOf, AnyOf, Condition, Filter, RecordQuery, RowScope, Sort
from runtime.store.schema import FormTables
from widgets.registry import FieldTypeRegistry

#: The system columns a list may sort by, besides the form's fields.
SYSTEM_SORTABLE = ("id", "created_at", "updated_at", "created_by", "updated_by")


class UnknownName(LookupError):
    """A form or field key that the app does not have."""


# -- order ----------------------------------------------------------------------
@dataclass(frozen=True)
class Keyset:
    """A query's order and what "after a cursor" means in it (bound parameters)."""

    sort_column: sa.Column
    order: list[sa.ColumnElement]
    #: After the cursor's id: the whole order when sorting by id, else within the
    #: rows whose sort value is empty (they are ordered by id alone).
    after_id: sa.ColumnElement[bool]
    #: (sort value, id) after the cursor's; ``None`` when sorting by id.
    after_pair: sa.ColumnElement[bool] | None


def sort_column(tables: FormTables, sort: Sort) -> sa.Column:
    """The column a sort orders by: a field of the form or a sortable system column."""
    if sort.field in tables.columns or sort.field in SYSTEM_SORTABLE:
        return tables.table.c[sort.field]
    raise UnknownName(f"cannot sort by '{sort.field}'")


def keyset(tables: FormTables, sort: Sort) -> Keyset:
    """The order of ``sort`` (ties by id) with the cursor as ``_cursor_value``/``_cursor_id``."""
    table = tables.table
    column = sort_column(tables, sort)
    desc = sort.desc
    order: list[sa.ColumnElement] = (
        [column.desc(), table.c.id.desc()] if desc else [column, table.c.id]
    )
    cursor_id = sa.bindparam("_cursor_id", type_=table.c.id.type)
    after_id = table.c.id < cursor_id if desc else table.c.id > cursor_id
    if column.key == "id":
        return Keyset(column, order[:1], after_id, None)
    pair = sa.tuple_(column, table.c.id)
    cursor = sa.tuple_(sa.bindparam("_cursor_value", type_=column.type), cursor_id)
    return Keyset(column, order, after_id, pair < cursor if desc else pair > cursor)


# -- which rows -----------------------------------------------------------------
def where_clause(
    tables: FormTables, query: RecordQuery, scope: RowScope | None, registry: FieldTypeRegistry
) -> sa.ColumnElement[bool]:
    """The rows of a form that ``query`` reaches within ``scope``."""
    table = tables.table
    parts: list[sa.ColumnElement[bool]] = [
        table.c.deleted_at.isnot(None) if query.trash else table.c.deleted_at.is_(None)
    ]
    if query.filter is not None:
        parts.append(_filter(tables, query.filter, registry))
    if query.search.strip():
        parts.append(_search(tables, query.search.strip(), query.search_fields, registry))
    if scope is not None:
        parts.append(scope_condition(table, scope))
    return sa.and_(*parts)


def scope_condition(table: sa.Table, scope: RowScope) -> sa.ColumnElement[bool]:
    """The rows of a record table that a row scope reaches (bound parameters only)."""
    if scope.kind == "all":
        return sa.true()
    if scope.kind == "own" and scope.user_id is not None:
        return table.c.created_by == scope.user_id
    if scope.kind in ("department", "department_tree") and scope.department_ids:
        return table.c.owner_department.in_(sorted(scope.department_ids))
    return sa.false()


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search(
    tables: FormTables, text: str, among: tuple[str, ...] | None, registry: FieldTypeRegistry
) -> sa.ColumnElement[bool]:
    """Every word must appear in some searchable field (case-insensitive)."""
    searchable = [
        tables.table.c[key]
        for key, spec in tables.columns.items()
        if registry.of(spec).searchable and (among is None or key in among)
    ]
    if not searchable:
        return sa.false()
    words = text.split()[:10]
    if any("\x00" in word for word in words):
        return sa.false()  # no stored text holds a NUL (and PostgreSQL cannot compare one)
    return sa.and_(
        *[
            sa.or_(*[c.ilike(f"%{escape_like(word)}%", escape="\\") for c in searchable])
            for word in words
        ]
    )


def _filter(
    tables: FormTables, node: Filter, registry: FieldTypeRegistry
) -> sa.ColumnElement[bool]:
    if isinstance(node, AllOf):
        return sa.and_(*[_filter(tables, part, registry) for part in node.parts])
    if isinstance(node, AnyOf):
        return sa.or_(*[_filter(tables, part, registry) for part in node.parts])
    return _condition(tables, node, registry)


def _condition(
    tables: FormTables, condition: Condition, registry: FieldTypeRegistry
) -> sa.ColumnElement[bool]:
    spec = tables.columns.get(condition.field)
    if spec is None:
        raise UnknownName(f"form '{tables.form.key}' has no field '{condition.field}'")
    column = tables.table.c[condition.field]
    field_type = registry.of(spec)
    op = condition.op
    if op == "is_empty":
        return column.is_(None)
    if op == "not_empty":
        return column.isnot(None)
    if isinstance(column.type, sa.JSON):
        return _json_condition(column, op, condition.value)
    if op in ("contains", "not_contains", "starts_with"):
        if not isinstance(column.type, sa.String):
            raise UnknownName(f"'{op}' applies to text, not to '{condition.field}'")
        text = str(condition.value or "")
        if "\x00" in text:  # no stored text holds a NUL (and PostgreSQL cannot compare one)
            return sa.true() if op == "not_contains" else sa.false()
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


# -- list fields (JSON arrays) --------------------------------------------------
def _json_condition(column, op: str, value: Any) -> sa.ColumnElement[bool]:
    """``contains`` on list values (multiselect, multiple people) per engine."""
    if op not in ("contains", "not_contains"):
        raise UnknownName(f"'{op}' does not apply to a list field")
    dialect_match = _JsonContains(column, value)
    return sa.or_(~dialect_match, column.is_(None)) if op == "not_contains" else dialect_match


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
