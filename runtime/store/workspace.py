"""A workspace: one database holding system tables and any number of apps."""

from __future__ import annotations

import json
import sqlite3

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError, SQLAlchemyError

from resources.messages import tr
from runtime.spec.load import parse_app_spec
from runtime.spec.models import AppSpec
from runtime.store.audit import AuditEntry, append, ensure_workspace_id, utc_now
from runtime.store.audit_chains import prepare_chains
from runtime.store.db_errors import database_problem
from runtime.store.engine import WorkspaceError, create_engine, describe_url
from runtime.store.integrity import IntegrityWatch, damaged_error
from runtime.store.schema import (
    STORE_SCHEMA_VERSION,
    AppTables,
    app_history_table,
    apps_table,
    build_app_tables,
    meta_table,
    system_metadata,
)
from widgets.registry import FieldTypeRegistry, default_registry

_SCHEMA_VERSION_QUERY = sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")


def _damaged(error: sqlite3.DatabaseError) -> bool:
    text = str(error)
    return "malformed" in text or "not a database" in text


def _add_missing_columns(connection: Connection) -> None:
    """Columns a later schema version added to an existing system table (schema 3:
    the owner and heartbeat of an import). ``create_all`` leaves a table that exists
    alone, so each missing column is added with ``ALTER TABLE … ADD COLUMN``; such
    columns are nullable, so old rows simply have none."""
    inspector = sa.inspect(connection)
    existing_tables = set(inspector.get_table_names())
    for table in system_metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            assert column.nullable and column.server_default is None, column
            spec = sa.schema.CreateColumn(column).compile(dialect=connection.dialect)
            name = connection.dialect.identifier_preparer.quote(table.name)
            connection.exec_driver_sql(f"ALTER TABLE {name} ADD COLUMN {spec}")


def _create_missing_indexes(connection: Connection) -> None:
    """Indexes a later schema version added to an existing system table
    (``create_all`` makes a missing table with its indexes, but leaves the indexes
    of a table that exists alone)."""
    for table in system_metadata.sorted_tables:
        for index in table.indexes:
            index.create(connection, checkfirst=True)


class Workspace:
    """The database of a department: system tables plus the tables of its apps."""

    def __init__(self, engine: Engine, registry: FieldTypeRegistry = default_registry) -> None:
        self.engine = engine
        self.registry = registry
        self._tables: dict[tuple[str, int], AppTables] = {}
        #: The SQLite file's check (see runtime.store.integrity): a damaged file
        #: opens for reading, but every write is refused.
        self.integrity = IntegrityWatch(engine)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "begin", self._refuse_writes_if_damaged, insert=True)

    @classmethod
    def open(cls, url: str | None = None, registry: FieldTypeRegistry = default_registry):
        """Connect, create the system tables on first use, refuse newer databases."""
        engine = create_engine(url)
        workspace = cls(engine, registry)
        try:
            workspace.integrity.start()
            workspace.ensure_system_tables()
        except WorkspaceError:
            engine.dispose()
            raise
        except DatabaseError as error:
            engine.dispose()
            if isinstance(error.orig, sqlite3.DatabaseError) and _damaged(error.orig):
                raise damaged_error(engine, str(error.orig)) from None
            if not isinstance(error, OperationalError):
                raise
            text = tr("cannot open the database {database}: {error}")
            raise WorkspaceError(
                text.format(database=describe_url(str(engine.url)), error=database_problem(error))
            ) from None
        return workspace

    def _refuse_writes_if_damaged(self, connection) -> None:
        if not connection.get_execution_options().get("read_only", False):
            self.integrity.refuse_if_damaged()

    def check_integrity(self) -> None:
        """Check the file again now (before a backup, an upgrade or an import);
        DamagedDatabase, one line naming the last backup, when it is damaged."""
        problem = self.integrity.recheck()
        if problem:
            raise damaged_error(self.engine, problem)

    def damage(self) -> str:
        """The problem of a damaged SQLite file ("" when it is sound)."""
        return self.integrity.problem()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()

    def reader(self) -> Connection:
        """A connection for reading only: on SQLite it does not take the write lock
        (see runtime.store.engine), so it never waits for another workstation's save."""
        return self.engine.connect().execution_options(read_only=True)

    def snapshot_reader(self) -> Connection:
        """A :meth:`reader` whose queries all see one snapshot of the database, for a
        walk of many queries (the position marks of a list, the audit chain check):
        SQLite's read transaction already does; PostgreSQL's default READ COMMITTED
        takes a new snapshot per query, so it reads REPEATABLE READ here."""
        connection = self.reader()
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        return connection

    def ensure_system_tables(self) -> None:
        """Create missing system tables and record the schema version.

        A workspace already at this schema version is left alone after one query
        (the system tables of a version never change: a test pins them), so opening
        it does not check every table.
        """
        if self._stored_schema_version() == STORE_SCHEMA_VERSION:
            return
        with self.engine.begin() as connection:
            system_metadata.create_all(connection)
            _add_missing_columns(connection)
            _create_missing_indexes(connection)
            ensure_workspace_id(connection)
            prepare_chains(connection)
            stored = connection.execute(_SCHEMA_VERSION_QUERY).scalar()
            if stored is not None and int(stored) > STORE_SCHEMA_VERSION:
                text = tr(
                    "this database was written by a newer Formwright (schema {stored}; this "
                    "version understands up to {supported}). Please update Formwright."
                )
                raise WorkspaceError(text.format(stored=stored, supported=STORE_SCHEMA_VERSION))
            if stored is None:
                connection.execute(
                    meta_table.insert().values(
                        key="schema_version", value=str(STORE_SCHEMA_VERSION)
                    )
                )
            elif int(stored) < STORE_SCHEMA_VERSION:
                connection.execute(
                    meta_table.update()
                    .where(meta_table.c.key == "schema_version")
                    .values(value=str(STORE_SCHEMA_VERSION))
                )
                if int(stored) < 3:
                    self._seal_existing_records(connection)

    def _seal_existing_records(self, connection: Connection) -> None:
        """Schema 3 (signed audit log): the records of an older workspace get their
        first seals, so a later change behind Formwright's back is noticed."""
        from runtime.store.audit_seals import seal_forms

        app_ids = connection.execute(sa.select(apps_table.c.app_id)).scalars().all()
        for app_id in app_ids:
            spec = self.installed_spec(app_id, connection)
            assert spec is not None  # its row was just listed, in this transaction
            tables = build_app_tables(spec, self.registry, dialect=self.dialect)
            seal_forms(connection, app_id, tables.forms, "signing began")

    def _stored_schema_version(self) -> int | None:
        """The schema version written in the workspace; None for a new database.

        Connection failures propagate (Workspace.open reports them); only a missing
        or unreadable version row means "set the workspace up".
        """
        with self.reader() as connection:
            try:
                stored = connection.execute(_SCHEMA_VERSION_QUERY).scalar()
            except (OperationalError, ProgrammingError):
                return None
        try:
            return None if stored is None else int(stored)
        except ValueError:
            return None

    # -- apps ---------------------------------------------------------------
    def installed_spec(self, app_id: str, connection: Connection | None = None) -> AppSpec | None:
        query = sa.select(apps_table.c.spec_json).where(apps_table.c.app_id == app_id)
        if connection is None:
            with self.reader() as own:
                text = own.execute(query).scalar()
        else:
            text = connection.execute(query).scalar()
        return None if text is None else parse_app_spec(json.loads(text), self.registry)

    def installed_apps(self) -> list[tuple[str, int]]:
        with self.reader() as connection:
            rows = connection.execute(
                sa.select(apps_table.c.app_id, apps_table.c.version).order_by(apps_table.c.app_id)
            )
            return [(row.app_id, row.version) for row in rows]

    def tables(self, spec: AppSpec) -> AppTables:
        """The SQLAlchemy tables of an installed app spec (cached per version)."""
        key = (spec.id, spec.version)
        if key not in self._tables:
            retired = self._retired_columns(spec)
            self._tables[key] = build_app_tables(spec, self.registry, retired, self.dialect)
        return self._tables[key]

    def forget_tables(self, app_id: str) -> None:
        """Drop cached table models of an app (after an upgrade)."""
        for key in [key for key in self._tables if key[0] == app_id]:
            del self._tables[key]

    def _retired_columns(self, spec: AppSpec) -> dict:
        """Columns of removed fields, kept with their data (see migrations)."""
        from runtime.store.migrate import retired_columns_in

        with self.reader() as connection:
            return retired_columns_in(connection, spec)

    def install(self, spec: AppSpec, user_id: int | None = None) -> None:
        """Create the tables of an app the workspace does not have yet."""
        if self.installed_spec(spec.id) is not None:
            text = tr("the app '{app}' is already installed; upgrade it instead")
            raise WorkspaceError(text.format(app=spec.id))
        tables = build_app_tables(spec, self.registry, dialect=self.dialect)
        spec_json = json.dumps(spec.to_json_dict(), ensure_ascii=False)
        try:
            with self.engine.begin() as connection:
                tables.metadata.create_all(connection)
                now = utc_now()
                row = {
                    "app_id": spec.id,
                    "version": spec.version,
                    "spec_json": spec_json,
                    "installed_at": now,
                    "installed_by": user_id,
                }
                connection.execute(apps_table.insert().values(**row))
                connection.execute(app_history_table.insert().values(**row))
                append(
                    connection,
                    AuditEntry(
                        "install_app",
                        user_id=user_id,
                        app_id=spec.id,
                        details={"version": spec.version},
                    ),
                )
        except SQLAlchemyError as error:
            text = tr("could not install the app '{app}': {error}")
            raise WorkspaceError(text.format(app=spec.id, error=database_problem(error))) from None
        self._tables.pop((spec.id, spec.version), None)
