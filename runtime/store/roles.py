"""PostgreSQL: a runtime role that may write records but only add to the audit log.

The tables belong to the role that created them (the *owner*: it installs and
upgrades apps). Workstations connect as a separate *runtime* role, granted here:
read and write on the tables of records, users and settings; on ``fw_audit`` only
SELECT and INSERT (no UPDATE, DELETE or TRUNCATE, and only the owner may ALTER or
DROP it), so nobody connecting as the runtime role can change or remove audit
rows; ``fw_meta``, ``fw_apps`` and ``fw_app_history`` are read-only for it (apps
change only by an upgrade run as the owner). Tables the owner creates later (an
app installed or upgraded) get the same grants by default privileges.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Connection

from resources.messages import tr
from runtime.store.engine import WorkspaceError
from runtime.store.schema import app_history_table, apps_table, audit_table, meta_table

#: Tables the runtime role reads but never writes.
READ_ONLY_TABLES = (meta_table.name, apps_table.name, app_history_table.name)
_ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")


def grant_runtime(connection: Connection, role: str) -> list[str]:
    """Grant ``role`` what the runtime needs (run as the tables' owner); returns
    the statements run. The role must exist (``CREATE ROLE … LOGIN PASSWORD …``)."""
    if connection.dialect.name != "postgresql":
        raise WorkspaceError(tr("separate database roles are a PostgreSQL feature"))
    if not _ROLE_NAME.fullmatch(role):
        raise WorkspaceError(tr("'{role}' is not a role name").format(role=role))
    exists = connection.exec_driver_sql(
        "SELECT 1 FROM pg_roles WHERE rolname = %(role)s", {"role": role}
    ).scalar()
    if not exists:
        text = tr("the role '{role}' does not exist; create it first (CREATE ROLE … LOGIN)")
        raise WorkspaceError(text.format(role=role))
    quote = connection.dialect.identifier_preparer.quote
    who, schema, database = _quoted_names(connection, role)
    statements = [
        f"GRANT CONNECT ON DATABASE {database} TO {who}",
        f"GRANT USAGE ON SCHEMA {schema} TO {who}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {quote(audit_table.name)} "
        f"FROM {who}",
        *(
            f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {quote(name)} FROM {who}"
            for name in READ_ONLY_TABLES
        ),
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {who}",
    ]
    for statement in statements:
        connection.exec_driver_sql(statement)
    return statements


def revoke_runtime(connection: Connection, role: str) -> None:
    """Undo :func:`grant_runtime` (before the role is dropped)."""
    if not _ROLE_NAME.fullmatch(role):
        raise WorkspaceError(tr("'{role}' is not a role name").format(role=role))
    who, schema, database = _quoted_names(connection, role)
    for statement in (
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE USAGE, SELECT ON SEQUENCES FROM {who}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {who}",
        f"REVOKE USAGE ON SCHEMA {schema} FROM {who}",
        f"REVOKE CONNECT ON DATABASE {database} FROM {who}",
    ):
        connection.exec_driver_sql(statement)


def _quoted_names(connection: Connection, role: str) -> tuple[str, str, str]:
    """The role, the current schema and the current database, quoted for SQL."""
    quote = connection.dialect.identifier_preparer.quote
    schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
    database = connection.exec_driver_sql("SELECT current_database()").scalar_one()
    return quote(role), quote(schema), quote(database)
