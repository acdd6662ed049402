"""Installing or upgrading an app in a workspace: the one orchestration every caller runs.

The Python API (``WorkspaceHandle.upgrade``, and through it ``formwright upgrade``)
and the runtime's upgrade dialog both run :func:`upgrade_steps`, so they follow
one backup rule (:func:`takes_backup`):

1. An install (the app is not in the workspace yet), a dry run, and a plan that
   changes nothing or cannot run (blockers) take no backup: no table is rewritten.
2. Every other upgrade writes a backup into :func:`backup_folder` *before* the
   migration touches a table. The backup checks the database first (SQLite's
   quick_check) and refuses a damaged file; a backup that fails stops the upgrade
   with nothing changed.
3. Where no backup can be made here (a database in memory, PostgreSQL without
   pg_dump) the upgrade still runs: it is one transaction, so a failure rolls
   everything back. Scripts may pass ``take_backup=False`` to skip rule 2.

The plan's own types (:class:`MigrationPlan`, :class:`Unconverted`) are
re-exported here for the screens that show a plan.
"""

from __future__ import annotations

from pathlib import Path

from runtime.services.actor import SYSTEM, Actor
from runtime.services.progress import Progress, Steps, run_steps
from runtime.spec.models import AppSpec
from runtime.store.backup import automatic_backup_folder, backup_before_upgrade
from runtime.store.migrate import MigrationPlan, Unconverted, apply_upgrade, plan_upgrade
from runtime.store.workspace import Workspace

#: The names of the steps (``Progress.message``); screens show them in the user's words.
BACKING_UP = "backing up"
INSTALLING = "installing"
UPGRADING = "upgrading"

__all__ = [
    "BACKING_UP",
    "INSTALLING",
    "UPGRADING",
    "MigrationPlan",
    "Unconverted",
    "backup_folder",
    "is_current",
    "plan",
    "preview",
    "takes_backup",
    "upgrade",
    "upgrade_steps",
]


def plan(workspace: Workspace, spec: AppSpec) -> MigrationPlan:
    """What installing or upgrading to ``spec`` would change (reads only)."""
    return plan_upgrade(workspace, spec)


def preview(workspace: Workspace, spec: AppSpec, actor: Actor = SYSTEM) -> MigrationPlan:
    """The plan to confirm. For an upgrade that can run, a dry run: it also lists
    the values that would not convert and the blockers only converting finds."""
    planned = plan_upgrade(workspace, spec)
    if planned.is_install or planned.blockers:
        return planned
    return apply_upgrade(workspace, spec, actor.user_id, dry_run=True)


def is_current(planned: MigrationPlan) -> bool:
    """The workspace already has this version of the app: nothing to install or upgrade."""
    return not planned.is_install and planned.from_version == planned.to_version


def takes_backup(planned: MigrationPlan, dry_run: bool = False) -> bool:
    """Whether running ``planned`` writes a backup first (rule 1 and 2 above)."""
    return (
        not dry_run and not planned.is_install and planned.changes_anything and not planned.blockers
    )


def backup_folder(workspace: Workspace, planned: MigrationPlan) -> Path | None:
    """Where running ``planned`` writes its backup; ``None`` when it writes none
    (it needs none, or none can be made here)."""
    if not takes_backup(planned):
        return None
    return automatic_backup_folder(workspace.engine)


def upgrade_steps(
    workspace: Workspace,
    spec: AppSpec,
    actor: Actor = SYSTEM,
    *,
    dry_run: bool = False,
    take_backup: bool = True,
) -> Steps[MigrationPlan]:
    """Install the app, or upgrade it keeping every value, as :class:`Progress` steps.

    Returns the applied plan (its ``blockers`` say when it could not run; then
    nothing changed) with ``backup_path`` set when a backup was written.
    """
    planned = plan_upgrade(workspace, spec)
    backup_path = None
    if take_backup and takes_backup(planned, dry_run):
        yield Progress(0, None, BACKING_UP)
        backup_path = backup_before_upgrade(workspace.engine)
    yield Progress(0, None, INSTALLING if planned.is_install else UPGRADING)
    applied = apply_upgrade(workspace, spec, actor.user_id, dry_run=dry_run)
    applied.backup_path = backup_path
    return applied


def upgrade(
    workspace: Workspace,
    spec: AppSpec,
    actor: Actor = SYSTEM,
    *,
    dry_run: bool = False,
    take_backup: bool = True,
) -> MigrationPlan:
    """:func:`upgrade_steps` run to the end (scripts and the CLI)."""
    steps = upgrade_steps(workspace, spec, actor, dry_run=dry_run, take_backup=take_backup)
    return run_steps(steps)
