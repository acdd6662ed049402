"""The Python API for integrators and scripts — the same services the screens use.

Example::

    from runtime.api import open_workspace

    with open_workspace("sqlite:///repairs.sqlite") as workspace:
        workspace.upgrade("sample_apps/equipment_repair")
        app = workspace.app("equipment_repair")
        device = app.create("device", {"asset_no": "EQ-0001", "name": "Pump", "owner_dept": 1})
        app.update("device", device.id, {"name": "Infusion pump"}, version=device.version)
        for record in app.query("device", search="pump"):
            print(record.id, record.values["name"])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from resources.messages import tr
from runtime.services import upgrade as upgrades
from runtime.services.actor import SYSTEM, Actor
from runtime.services.errors import WorkspaceError
from runtime.services.query import Filter, Record, RecordQuery, Sort
from runtime.services.records.service import RecordService
from runtime.services.upgrade import MigrationPlan
from runtime.services.workspace import Workspace
from runtime.spec.load import load_app
from runtime.spec.models import AppSpec
from runtime.store.audit import ChainReport, workspace_id
from runtime.store.audit_verify import (
    keys_with,
    make_checkpoint,
    read_checkpoint,
    verify_workspace,
    write_checkpoint,
)
from runtime.store.backup import backup


class WorkspaceHandle:
    """An open workspace: install and upgrade apps, reach their records."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def __enter__(self) -> WorkspaceHandle:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.workspace.dispose()

    def plan(self, package: str | Path | AppSpec) -> MigrationPlan:
        """What installing or upgrading to this package would change."""
        return upgrades.plan(self.workspace, _spec(package))

    def upgrade(
        self,
        package: str | Path | AppSpec,
        dry_run: bool = False,
        actor: Actor = SYSTEM,
        take_backup: bool = True,
    ) -> MigrationPlan:
        """Install the app, or upgrade it keeping every value (see runtime.store.migrate).

        Before a real upgrade changes the data, a backup is written (``plan.backup_path``);
        the rule is :mod:`runtime.services.upgrade`'s, the same as the runtime's.
        """
        return upgrades.upgrade(
            self.workspace, _spec(package), actor, dry_run=dry_run, take_backup=take_backup
        )

    def app(self, app_id: str, actor: Actor = SYSTEM) -> AppHandle:
        spec = self.workspace.installed_spec(app_id)
        if spec is None:
            raise WorkspaceError(f"the app '{app_id}' is not installed in this workspace")
        return AppHandle(RecordService(self.workspace, spec), actor)

    def verify_audit(
        self, against: str | Path | None = None, key_files: Sequence[str | Path] = ()
    ) -> ChainReport:
        """Check the audit chain, every record against its last audited state, and
        (``against``) that the log still holds what a checkpoint file recorded."""
        self.workspace.check_integrity()
        with self.workspace.snapshot_reader() as connection:
            keys = keys_with(workspace_id(connection), [Path(path) for path in key_files])
            point = None if against is None else read_checkpoint(Path(against), keys)
            return verify_workspace(connection, self.workspace.registry, keys=keys, against=point)

    def checkpoint(self, output: str | Path) -> Path:
        """Write a checkpoint of the (intact) audit log to ``output``."""
        report = self.verify_audit()
        if not report.ok:
            raise WorkspaceError(
                tr("the audit log is not intact ({reason}); no checkpoint was written").format(
                    reason=report.reason
                )
            )
        with self.workspace.snapshot_reader() as connection:
            return write_checkpoint(make_checkpoint(connection), Path(output))

    def backup(self, output: str | Path) -> Path:
        return backup(self.workspace.engine, Path(output))


class AppHandle:
    """The records of one installed app, acting as one user."""

    def __init__(self, service: RecordService, actor: Actor) -> None:
        self.service = service
        self.actor = actor

    @property
    def spec(self) -> AppSpec:
        return self.service.spec

    def create(self, form: str, values: dict[str, Any]) -> Record:
        return self.service.create(form, values, self.actor)

    def get(self, form: str, record_id: int) -> Record:
        return self.service.get(form, record_id, self.actor)

    def update(self, form: str, record_id: int, values: dict[str, Any], version: int) -> Record:
        return self.service.update(form, record_id, values, version, self.actor)

    def delete(self, form: str, record_id: int) -> None:
        self.service.delete(form, record_id, self.actor)

    def restore(self, form: str, record_id: int) -> None:
        self.service.restore(form, record_id, self.actor)

    def query(
        self,
        form: str,
        filter: Filter | None = None,
        search: str = "",
        sort: Sort | None = None,
    ) -> Iterator[Record]:
        """Every matching record in sort order, read page by page."""
        query = RecordQuery(filter=filter, search=search, sort=sort or Sort())
        return iter(self.service.iter_records(form, query, self.actor))

    def count(self, form: str, filter: Filter | None = None, search: str = "") -> int:
        return self.service.count(form, RecordQuery(filter=filter, search=search), self.actor)


def open_workspace(url: str | None = None) -> WorkspaceHandle:
    """Open (creating if needed) a workspace; ``None`` is the local SQLite default."""
    return WorkspaceHandle(Workspace.open(url))


def _spec(package: str | Path | AppSpec) -> AppSpec:
    return package if isinstance(package, AppSpec) else load_app(package)
