"""Tables: the fixed system tables, and record tables derived from an AppSpec.

Every form is a table named ``<app>__<form>`` with one column per field (named by
its key, typed by its field type) plus the system columns; every subtable is a
child table ``<app>__<form>__<subtable>``. Names longer than PostgreSQL's 63
characters are shortened with a hash suffix, identically on both engines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from runtime.spec.models import AppSpec, FormSpec
from widgets.base import FieldSpecBase
from widgets.registry import FieldTypeRegistry, default_registry

#: Version of the system tables' layout. A database with a higher number was
#: written by a newer Formwright and is refused.
#: 3 added the audit log's signing (``key_id``), record seals (``seals``), the
#: workspace id in ``fw_meta`` (see runtime.store.audit), and the owner, heartbeat and
#: options of an import (``fw_imports``, see runtime.store.imports).
#: 4 split the audit log into chains (``fw_audit.chain``, ``fw_audit_chains``), so
#: writers of a shared PostgreSQL no longer queue on one lock (runtime.store.audit).
STORE_SCHEMA_VERSION = 4
MAX_IDENTIFIER = 63

# Integer primary keys: 64-bit on PostgreSQL, SQLite's rowid alias on SQLite.
IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

system_metadata = sa.MetaData()

meta_table = sa.Table(
    "fw_meta",
    system_metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

apps_table = sa.Table(
    "fw_apps",
    system_metadata,
    sa.Column("app_id", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("installed_at", sa.DateTime, nullable=False),
    sa.Column("installed_by", sa.Integer),
)

app_history_table = sa.Table(
    "fw_app_history",
    system_metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("app_id", sa.String(40), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("installed_at", sa.DateTime, nullable=False),
    sa.Column("installed_by", sa.Integer),
    sa.Column("plan_json", sa.Text),
)

departments_table = sa.Table(
    "fw_departments",
    system_metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("code", sa.String(64), unique=True),
    sa.Column("parent_id", IdType, sa.ForeignKey("fw_departments.id"), index=True),
    sa.Column("head_user_id", IdType),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    #: Level in the tree: hospital, division, department or ward (optional).
    sa.Column("kind", sa.String(20)),
)

users_table = sa.Table(
    "fw_users",
    system_metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    #: ``username.strip().casefold()``: user names are unique regardless of case.
    sa.Column("username_key", sa.String(64), unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.Text),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_login_at", sa.DateTime),
    sa.Column("password_changed_at", sa.DateTime),
)

user_departments_table = sa.Table(
    "fw_user_departments",
    system_metadata,
    sa.Column("user_id", IdType, sa.ForeignKey("fw_users.id"), primary_key=True),
    sa.Column("department_id", IdType, sa.ForeignKey("fw_departments.id"), primary_key=True),
    sa.Column("is_primary", sa.Boolean, nullable=False, default=False),
)

user_roles_table = sa.Table(
    "fw_user_roles",
    system_metadata,
    sa.Column("user_id", IdType, sa.ForeignKey("fw_users.id"), primary_key=True),
    sa.Column("app_id", sa.String(40), primary_key=True),
    sa.Column("role_key", sa.String(40), primary_key=True),
)

audit_table = sa.Table(
    "fw_audit",
    system_metadata,
    sa.Column("id", IdType, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("user_id", IdType),
    sa.Column("username", sa.String(64)),
    sa.Column("workstation", sa.String(200)),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("app_id", sa.String(40)),
    sa.Column("form", sa.String(40)),
    sa.Column("record_id", IdType),
    sa.Column("details", sa.Text),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # Schema 3: the id of the key that signed the row (NULL: an unsigned row written
    # before signing began), and the seals of the records the row wrote (JSON runs
    # ``[[first id, "seals…"], [id, null]]``, see runtime.store.audit_seals.Seals).
    sa.Column("key_id", sa.String(16)),
    sa.Column("seals", sa.Text),
    sa.Index("ix_fw_audit_record", "app_id", "form", "record_id"),
    # The audit viewer's filters and their choices (schema 2): without them, opening
    # the viewer on a log of a million rows scanned it three times (~1 s).
    sa.Index("ix_fw_audit_at", "at"),
    sa.Index("ix_fw_audit_username", "username"),
    sa.Index("ix_fw_audit_action", "action"),
    # Schema 4: the chain the row belongs to (NULL: chain 0, every row written before).
    sa.Column("chain", sa.SmallInteger),
    sa.Index("ix_fw_audit_chain", "chain", "id"),
)

#: Schema 4: the head of every chain of the audit log (PostgreSQL; see
#: runtime.store.audit). A writer locks one row for the rest of its transaction
#: (``FOR UPDATE SKIP LOCKED``), so concurrent writers take different chains.
audit_chains_table = sa.Table(
    "fw_audit_chains",
    system_metadata,
    sa.Column("chain", sa.SmallInteger, primary_key=True, autoincrement=False),
    #: The id, hash and key id of the chain's newest row (NULL: no row yet).
    sa.Column("last_id", IdType),
    sa.Column("hash", sa.String(64)),
    sa.Column("key_id", sa.String(16)),
)

attachments_table = sa.Table(
    "fw_attachments",
    system_metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mime", sa.String(100), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

serials_table = sa.Table(
    "fw_serials",
    system_metadata,
    sa.Column("app_id", sa.String(40), primary_key=True),
    sa.Column("form", sa.String(40), primary_key=True),
    sa.Column("field", sa.String(40), primary_key=True),
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("last_value", sa.BigInteger, nullable=False),
)

settings_table = sa.Table(
    "fw_settings",
    system_metadata,
    sa.Column("scope", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

imports_table = sa.Table(
    "fw_imports",
    system_metadata,
    sa.Column("import_id", sa.String(36), primary_key=True),
    sa.Column("app_id", sa.String(40), nullable=False),
    sa.Column("form", sa.String(40), nullable=False),
    sa.Column("source_sha256", sa.String(64), nullable=False),
    sa.Column("rows_done", sa.Integer, nullable=False, default=0),
    sa.Column("rows_total", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    # Schema 3: who runs an import and whether that process still lives, so an
    # import killed mid-way is told apart from one running on another workstation,
    # and what resume and undo need. Nullable: older rows have none of them.
    sa.Column("file_name", sa.String(255)),
    sa.Column("source_path", sa.Text),
    #: mode, upsert_by and the column mapping it was started with (JSON).
    sa.Column("options_json", sa.Text),
    sa.Column("started_by", IdType),
    sa.Column("started_by_name", sa.String(64)),
    sa.Column("host", sa.String(200)),
    sa.Column("pid", sa.Integer),
    #: Updated with every batch; an owner silent for long is gone.
    sa.Column("heartbeat_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
    #: Rows of the file whose created records an undo has moved to the trash.
    sa.Column("rows_undone", sa.Integer),
    sa.Index("ix_fw_imports_form", "app_id", "form", "state"),
)


def table_name(*parts: str) -> str:
    """``app__form[__subtable]``, shortened with a stable hash past 63 characters."""
    name = "__".join(parts)
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    return f"{name[: MAX_IDENTIFIER - 11]}_{digest}"


SYSTEM_COLUMN_NAMES = frozenset(
    {
        "id",
        "created_at",
        "created_by",
        "owner_department",
        "updated_at",
        "updated_by",
        "version",
        "deleted_at",
    }
)


def system_columns() -> list[sa.Column]:
    """The columns every record table has, in this order."""
    return [
        sa.Column("id", IdType, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", IdType),
        sa.Column("owner_department", IdType),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", IdType),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("deleted_at", sa.DateTime),
    ]


def child_columns(parent: sa.Table) -> list[sa.Column]:
    return [
        sa.Column("id", IdType, primary_key=True, autoincrement=True),
        sa.Column(
            "parent_id",
            IdType,
            sa.ForeignKey(f"{parent.name}.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("row_index", sa.Integer, nullable=False),
    ]


@dataclass
class FormTables:
    """The table of a form, its subtables' child tables and the value fields."""

    form: FormSpec
    table: sa.Table
    children: dict[str, sa.Table] = field(default_factory=dict)
    #: Value fields stored in ``table``, in form order (layout and subtables excluded).
    columns: dict[str, FieldSpecBase] = field(default_factory=dict)
    #: Subtable key -> its child fields stored in ``children[key]``.
    child_fields: dict[str, dict[str, FieldSpecBase]] = field(default_factory=dict)


@dataclass
class AppTables:
    """All tables of one installed app (and the retired columns kept with data)."""

    spec: AppSpec
    metadata: sa.MetaData
    forms: dict[str, FormTables]


def build_app_tables(
    spec: AppSpec,
    registry: FieldTypeRegistry = default_registry,
    retired: dict[str, dict[str, sa.types.TypeEngine]] | None = None,
    dialect: str | None = None,
) -> AppTables:
    """SQLAlchemy tables for every form of an app.

    ``retired`` maps form key → columns of removed fields that still hold data;
    they stay in the table (never dropped) but are not part of the form.
    ``dialect`` ("sqlite" or "postgresql") is the database the tables are for;
    ``None`` gives tables usable on both. Naming it keeps SQLAlchemy from importing
    the other dialect to check its index options (~20 ms at start-up).
    """
    metadata = sa.MetaData()
    live_options = _live_options(dialect)
    forms = {}
    for form in spec.forms:
        forms[form.key] = _form_tables(
            spec.id, form, metadata, registry, (retired or {}), live_options
        )
    _add_view_indexes(spec, forms, live_options)
    return AppTables(spec, metadata, forms)


def _live_options(dialect: str | None) -> tuple[str, ...]:
    """The index options that make an index partial on each dialect in use."""
    dialects = ("sqlite", "postgresql") if dialect is None else (dialect,)
    return tuple(f"{name}_where" for name in dialects)


def _form_tables(app_id, form, metadata, registry, retired, live_options) -> FormTables:
    columns: list[sa.Column] = system_columns()
    stored: dict[str, FieldSpecBase] = {}
    subtables: list[FieldSpecBase] = []
    for spec in form.fields:
        field_type = registry.of(spec)
        if field_type.children(spec):
            subtables.append(spec)
            continue
        column_type = _column_type(field_type, spec) if field_type.has_value else None
        if column_type is not None:
            columns.append(sa.Column(spec.key, column_type))
            stored[spec.key] = spec
    for key, column_type in retired.get(form.key, {}).items():
        if key not in stored:
            columns.append(sa.Column(key, column_type))
    name = table_name(app_id, form.key)
    table = sa.Table(name, metadata, *columns)
    _add_field_indexes(table, stored, registry, live_options)
    # by-id lists, counts and jumps (fw_ keeps the name apart from field keys)
    _live_index(index_name(table, "fw_live"), table, live_options, table.c.id)
    tables = FormTables(form, table, columns=stored)
    for spec in subtables:
        child_table, child_fields = _child_table(table, app_id, form, spec, metadata, registry)
        tables.children[spec.key] = child_table
        tables.child_fields[spec.key] = child_fields
    return tables


def _child_table(parent, app_id, form, subtable, metadata, registry):
    columns = child_columns(parent)
    fields: dict[str, FieldSpecBase] = {}
    for child in registry.of(subtable).children(subtable):
        column_type = _column_type(registry.of(child), child)
        if column_type is not None:
            columns.append(sa.Column(child.key, column_type))
            fields[child.key] = child
    table = sa.Table(table_name(app_id, form.key, subtable.key), metadata, *columns)
    return table, fields


def _column_type(field_type, spec: FieldSpecBase) -> sa.types.TypeEngine | None:
    """The field type's column type; an empty JSON value is stored as SQL NULL.

    SQLAlchemy's JSON type writes ``None`` as the JSON text ``null`` by default,
    which ``IS NULL`` (the "is empty" filter) would not find.
    """
    column_type = field_type.sql_type(spec)
    if isinstance(column_type, sa.JSON):
        column_type.none_as_null = True
    return column_type


def index_name(table: sa.Table, *columns: str) -> str:
    return table_name("ix", table.name, *columns)


def _add_field_indexes(
    table: sa.Table, stored: dict, registry: FieldTypeRegistry, live_options: tuple[str, ...]
) -> None:
    """Indexes for references (lookups, users) and unique fields.

    Unique fields get a partial unique index over live records, so two
    workstations saving the same value at once cannot both succeed, and a record
    in the trash does not block its value.
    """
    for key, spec in stored.items():
        field_type = registry.of(spec)
        if spec.unique or field_type.always_unique:
            options = _live_where(table, live_options)
            sa.Index(index_name(table, key), table.c[key], unique=True, **options)
        elif field_type.reference_kind(spec) is not None and not _is_json(table.c[key]):
            # A list of ids (several users) is JSON: no btree index, lists filter by
            # element instead (see record_conditions._json_condition).
            sa.Index(index_name(table, key), table.c[key], table.c.id)


def _live_index(
    name: str, table: sa.Table, live_options: tuple[str, ...], *columns: sa.Column
) -> sa.Index:
    """An index over live records only (``deleted_at IS NULL``).

    Lists, counts and jumps all filter on live records, so they read the index
    alone instead of checking each row's ``deleted_at`` in the table; the trash is
    small and needs no index.
    """
    return sa.Index(name, *columns, **_live_where(table, live_options))


def _live_where(table: sa.Table, live_options: tuple[str, ...]) -> dict[str, Any]:
    """The index keywords (``sqlite_where=``...) that make an index partial over live
    records; typed as ``Any`` values, the way ``sa.Index`` takes dialect keywords."""
    return dict.fromkeys(live_options, table.c.deleted_at.is_(None))


def _is_json(column: sa.Column) -> bool:
    return isinstance(column.type, sa.JSON)


def _add_view_indexes(
    spec: AppSpec, forms: dict[str, FormTables], live_options: tuple[str, ...]
) -> None:
    """Composite (sort column, id) indexes for every view's first sort key:
    a keyset page then reads 100 index entries instead of sorting the table."""
    for view in spec.views:
        tables = forms.get(view.form)
        if tables is None or not view.sort:
            continue
        key = view.sort[0].field
        if key not in tables.columns or _is_json(tables.table.c[key]):
            continue
        name = index_name(tables.table, key)
        if not any(index.name == name for index in tables.table.indexes):
            table = tables.table
            _live_index(name, table, live_options, table.c[key], table.c.id)
