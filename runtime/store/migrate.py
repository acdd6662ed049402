"""Migrations that keep every value: a plan from the installed spec to a new one.

Rules (DESIGN.md section 4): adding a field adds a column; a label change
changes nothing; removing a field or form keeps its column/table and data; a type
change renames the old column to ``<key>__v<version>`` (kept), adds the new one
and converts every value it can, listing every value it cannot. Adding back a
removed field (or form, or subtable column) reuses its kept column when the type
is the same, and otherwise treats it as a type change from the type it had. A
plan runs in one transaction after an automatic backup, and one workstation at a
time.

The work is split by concern:

- ``migrate_plan``: :func:`plan_upgrade`, the comparison of two specs into a
  :class:`MigrationPlan` of :class:`Step` objects and its blockers;
- ``migrate_apply``: the DDL and data moves of each step, and the conversion of
  retyped values (listing each :class:`Unconverted` one);
- this module: :func:`apply_upgrade`, the transaction around them (the lock, the
  check that nobody upgraded meanwhile, the recorded version), and the public
  names of all three.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from resources.messages import tr
from runtime.spec.models import AppSpec
from runtime.store.audit import AuditEntry, append, utc_now
from runtime.store.audit_seals import seal_forms
from runtime.store.engine import WorkspaceError
from runtime.store.migrate_apply import _Applier, retired_columns_in
from runtime.store.migrate_plan import MigrationPlan, Step, Unconverted, plan_upgrade
from runtime.store.schema import app_history_table, apps_table, build_app_tables

if TYPE_CHECKING:
    from runtime.store.workspace import Workspace

#: Advisory lock key so only one workstation migrates at a time (PostgreSQL).
MIGRATION_LOCK_KEY = 0x4D696772  # "Migr"


def apply_upgrade(
    workspace: Workspace, new: AppSpec, user_id: int | None = None, dry_run: bool = False
) -> MigrationPlan:
    """Install or upgrade an app in one transaction; with ``dry_run`` roll back.

    A dry run still converts values (inside the rolled-back transaction) so the
    plan lists every value that would not convert. A package that changes
    nothing (same version, same spec) writes nothing.
    """
    plan = plan_upgrade(workspace, new)
    if plan.blockers:
        return plan
    if plan.is_install:
        if not dry_run:
            workspace.install(new, user_id)
        return plan
    if not plan.changes_anything:
        return plan
    old = workspace.installed_spec(new.id)
    assert old is not None  # not an install: the plan found it installed
    if not dry_run:
        workspace.check_integrity()  # the file again, right before it is rewritten
    connection = workspace.engine.connect()
    transaction = connection.begin()
    try:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        current = workspace.installed_spec(new.id, connection)
        if current is not None and current.version != old.version:
            raise WorkspaceError(tr("another workstation upgraded this app just now; try again"))
        _Applier(workspace, connection, old, new, plan).run()
        if plan.blockers:  # found by converting values: nothing is changed
            transaction.rollback()
        else:
            _record_version(connection, new, plan, user_id)
            if dry_run:
                transaction.rollback()
            else:
                # The upgrade rewrote the rows: their last audited state is now this.
                tables = build_app_tables(new, workspace.registry, dialect=connection.dialect.name)
                seal_forms(connection, new.id, tables.forms, "upgrade", user_id)
                transaction.commit()
    except BaseException:
        transaction.rollback()
        raise
    finally:
        connection.close()
    workspace.forget_tables(new.id)
    return plan


def _record_version(connection: Connection, new: AppSpec, plan: MigrationPlan, user_id) -> None:
    """Store the new spec as the installed version, in the history and the audit log."""
    now = utc_now()
    spec_json = json.dumps(new.to_json_dict(), ensure_ascii=False)
    connection.execute(
        apps_table.update()
        .where(apps_table.c.app_id == new.id)
        .values(version=new.version, spec_json=spec_json, installed_at=now, installed_by=user_id)
    )
    plan_json = json.dumps([step.description for step in plan.steps], ensure_ascii=False)
    connection.execute(
        app_history_table.insert().values(
            app_id=new.id,
            version=new.version,
            spec_json=spec_json,
            installed_at=now,
            installed_by=user_id,
            plan_json=plan_json,
        )
    )
    details = {
        "from": plan.from_version,
        "to": plan.to_version,
        "unconverted": len(plan.unconverted),
    }
    append(connection, AuditEntry("upgrade_app", user_id=user_id, app_id=new.id, details=details))


__all__ = [
    "MIGRATION_LOCK_KEY",
    "MigrationPlan",
    "Step",
    "Unconverted",
    "apply_upgrade",
    "plan_upgrade",
    "retired_columns_in",
]
