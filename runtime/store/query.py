"""The query model of record lists: filters, search, sort and keyset cursors.

Plain data, no SQL: the repository translates it with SQLAlchemy Core and bound
parameters, so no user string (label, key, option, filter value) becomes SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Operator = Literal[
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "between",
    "in",
    "contains",
    "not_contains",
    "starts_with",
    "is_empty",
    "not_empty",
    "before",
    "after",
]

OPERATOR_LABELS: dict[str, str] = {
    "eq": "is",
    "ne": "is not",
    "lt": "less than",
    "le": "at most",
    "gt": "greater than",
    "ge": "at least",
    "between": "between",
    "in": "is one of",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "is_empty": "is empty",
    "not_empty": "is not empty",
    "before": "before",
    "after": "after",
}

#: Operators a field offers in the filter builder, by how expressions see it.
OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    "text": ("contains", "not_contains", "eq", "ne", "starts_with", "in", "is_empty", "not_empty"),
    "number": ("eq", "ne", "lt", "le", "gt", "ge", "between", "is_empty", "not_empty"),
    "date": ("eq", "before", "after", "between", "is_empty", "not_empty"),
    "datetime": ("before", "after", "between", "is_empty", "not_empty"),
    "time": ("before", "after", "between", "is_empty", "not_empty"),
    "boolean": ("eq", "is_empty", "not_empty"),
    "list": ("contains", "not_contains", "is_empty", "not_empty"),
    "any": ("eq", "ne", "in", "is_empty", "not_empty"),
}


@dataclass(frozen=True)
class Condition:
    """``field operator value``; ``value`` is a pair for ``between``, a list for ``in``."""

    field: str
    op: Operator
    value: Any = None


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Filter, ...]


Filter = Condition | AllOf | AnyOf


@dataclass(frozen=True)
class Sort:
    field: str = "id"
    desc: bool = False


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its last row's sort value and id."""

    value: Any
    id: int


@dataclass(frozen=True)
class RecordQuery:
    filter: Filter | None = None
    search: str = ""
    sort: Sort = field(default_factory=Sort)
    trash: bool = False  # True lists deleted records only
    #: Only these columns are read (None: all of the form's).
    columns: tuple[str, ...] | None = None
    #: The search box looks only into these fields (None: every searchable one).
    search_fields: tuple[str, ...] | None = None


def all_of(*parts: Filter | None) -> Filter | None:
    """Combine filters with AND, skipping ``None``."""
    present = tuple(part for part in parts if part is not None)
    if not present:
        return None
    return present[0] if len(present) == 1 else AllOf(present)


@dataclass(frozen=True)
class RowScope:
    """Which rows an actor may reach, as the permission policy decided.

    ``own``: rows the user created; ``department``/``department_tree``: rows
    owned by one of ``department_ids`` (for a tree, already expanded to the
    descendants); ``all``: every row; ``none``: no row. The repository turns it into SQL, so
    counts and pages agree with what the user may see.
    """

    kind: Literal["own", "department", "department_tree", "all", "none"]
    user_id: int | None = None
    department_ids: frozenset[int] = frozenset()
