"""Names a form, field, view or role key may not take."""

from __future__ import annotations

from resources.messages import tr

#: Columns every record table has (and a few kept for workflows and subtables).
SYSTEM_COLUMNS: frozenset[str] = frozenset(
    {
        "id",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "version",
        "deleted_at",
        "parent_id",
        "row_index",
        "flow_state",
        "flow_node",
        "owner_department",
        "import_id",
    }
)

#: Words reserved by SQL (standard, PostgreSQL or SQLite). Quoting would make them
#: work, but tables must stay easy to read with SQL and BI tools.
SQL_KEYWORDS: frozenset[str] = frozenset(
    (
        "abort", "action", "add", "all", "alter", "analyze", "and", "any", "array", "as", "asc",
        "attach", "authorization", "autoincrement", "before", "begin", "between", "both", "by",
        "cascade", "case", "cast", "check", "collate", "column", "commit", "conflict",
        "constraint", "create", "cross", "current", "current_date", "current_role", "current_time",
        "current_timestamp", "current_user", "database", "default", "deferrable", "deferred",
        "delete", "desc", "detach", "distinct", "do", "drop", "each", "else", "end", "escape",
        "except", "exclusive", "exists", "explain", "fail", "false", "fetch", "filter", "for",
        "foreign", "from", "full", "glob", "grant", "group", "having", "if", "ignore", "immediate",
        "in", "index", "indexed", "initially", "inner", "insert", "instead", "intersect", "into",
        "is", "isnull", "join", "key", "lateral", "leading", "left", "like", "limit", "localtime",
        "localtimestamp", "match", "natural", "no", "not", "nothing", "notnull", "null", "of",
        "offset", "on", "only", "or", "order", "outer", "over", "partition", "placing", "plan",
        "pragma", "primary", "query", "raise", "range", "recursive", "references", "regexp",
        "reindex", "release", "rename", "replace", "restrict", "returning", "revoke", "right",
        "rollback", "row", "rows", "savepoint", "select", "session_user", "set", "similar", "some",
        "symmetric", "table", "temp", "temporary", "then", "to", "trailing", "transaction",
        "trigger", "true", "union", "unique", "update", "user", "using", "vacuum", "values",
        "variadic", "verbose", "view", "virtual", "when", "where", "window", "with", "without",
    )
)  # fmt: skip

RESERVED_KEYS: frozenset[str] = SYSTEM_COLUMNS | SQL_KEYWORDS


def is_reserved(key: str) -> bool:
    """Whether ``key`` may not be used (a system column, an SQL word, ``fw_…``)."""
    return _reserved_kind(key) is not None


def reserved_problem(key: str) -> str | None:
    """The problem of a reserved key, with the advice to choose another, or ``None``."""
    kind = _reserved_kind(key)
    if kind == "system":
        return tr("'{key}' is a system column name; choose another key").format(key=key)
    if kind == "sql":
        return tr("'{key}' is a reserved word of SQL; choose another key").format(key=key)
    if kind == "formwright":
        return tr("keys starting with 'fw_' are reserved for Formwright; choose another key")
    return None


def _reserved_kind(key: str) -> str | None:
    if key in SYSTEM_COLUMNS:
        return "system"
    if key in SQL_KEYWORDS:
        return "sql"
    if key.startswith("fw_"):
        return "formwright"
    return None
