"""PostgreSQL: the runtime connects as a role for which the audit log is insert-only.

Roles are cluster-wide: each test creates its own uniquely named role and drops
it afterwards.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from runtime.cli import main
from runtime.services.records.service import RecordService
from runtime.store.audit import AuditEntry, append
from runtime.store.roles import revoke_runtime
from runtime.store.schema import audit_table, meta_table
from runtime.store.workspace import Workspace
from tests.store.conftest import add_department, load_sample

pytestmark = pytest.mark.postgres


@pytest.fixture
def runtime_role(postgres_url):
    """A workspace with the repair app (set up by the owner), and a LOGIN role granted
    with ``formwright db grant-runtime``; yields the role's URL."""
    owner = Workspace.open(postgres_url)
    spec = load_sample("equipment_repair")
    owner.install(spec)
    add_department(owner, "ICU", "icu")
    role = f"fw_runtime_{uuid.uuid4().hex[:10]}"
    with owner.engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
    try:
        assert main(["db", "grant-runtime", "--db", postgres_url, "--role", role]) == 0
        yield sa.engine.make_url(postgres_url).set(username=role).render_as_string(False)
    finally:
        with owner.engine.begin() as connection:
            revoke_runtime(connection, role)
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')
        owner.dispose()


def test_the_runtime_role_saves_records_but_cannot_change_the_audit_log(runtime_role):
    workspace = Workspace.open(runtime_role)
    try:
        spec = workspace.installed_spec("equipment_repair")
        service = RecordService(workspace, spec)
        device = service.create("device", {"asset_no": "EQ-0001", "name": "泵", "owner_dept": 1})
        service.update("device", device.id, {"name": "输液泵"}, 1)
        service.delete("device", device.id)
        with workspace.engine.begin() as connection:
            append(connection, AuditEntry("login", 1, "nurse"))
        for statement in (
            audit_table.update().values(username="mallory"),
            audit_table.delete().where(audit_table.c.id == 1),
            sa.text("TRUNCATE fw_audit"),
            sa.text("ALTER TABLE fw_audit DISABLE TRIGGER ALL"),
            sa.text("DROP TABLE fw_audit"),
            meta_table.update().values(value="x"),
        ):
            with (
                pytest.raises(sa.exc.ProgrammingError) as refused,
                workspace.engine.begin() as connection,
            ):
                connection.execute(statement)
            assert "permission denied" in str(refused.value.orig) or "must be owner" in str(
                refused.value.orig
            )
        with workspace.reader() as connection:
            actions = [
                row.action
                for row in connection.execute(sa.select(audit_table).order_by(audit_table.c.id))
            ]
        assert actions == ["install_app", "create", "update", "delete", "login"]
        from runtime.api import WorkspaceHandle

        assert WorkspaceHandle(workspace).verify_audit().ok
    finally:
        workspace.dispose()


def test_the_runtime_role_can_change_records_but_the_audit_tells(runtime_role, postgres_url):
    """A record changed with the runtime role's credentials (psql) is named by verify."""
    workspace = Workspace.open(runtime_role)
    try:
        spec = workspace.installed_spec("equipment_repair")
        service = RecordService(workspace, spec)
        device = service.create("device", {"asset_no": "EQ-0001", "name": "泵", "owner_dept": 1})
        with workspace.engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE equipment_repair__device SET name = 'x' WHERE id = %(id)s",
                {"id": device.id},
            )
        from runtime.api import WorkspaceHandle

        report = WorkspaceHandle(workspace).verify_audit()
        assert [(d.form, d.record_id, d.how) for d in report.drifted] == [
            ("device", device.id, "changed")
        ]
    finally:
        workspace.dispose()


def test_grant_runtime_refuses_a_missing_role_and_bad_names(postgres_url, capsys):
    code = main(["db", "grant-runtime", "--db", postgres_url, "--role", "fw_nobody_xyz"])
    assert code == 1 and "does not exist" in capsys.readouterr().err
    code = main(["db", "grant-runtime", "--db", postgres_url, "--role", 'x"; DROP TABLE fw_audit'])
    assert code == 1 and "is not a role name" in capsys.readouterr().err
