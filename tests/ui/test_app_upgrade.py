"""Opening a newer package: the plan is shown, applied after confirmation, or not at all."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from runtime.api import open_workspace
from runtime.services.org.service import OrgService
from runtime.ui.app import RuntimeApp
from runtime.ui.login_dialog import LoginDialog
from runtime.ui.upgrade_dialog import UpgradeDialog
from tests.ui.test_app_support import (
    ADMIN,
    ADMIN_PASSWORD,
    REJECTED,
    Answers,
    close_windows,
    confirm_upgrade,
    db,
    english,
    fast_hashing,
    log_in,
    package_v2,
    ready_db,
    started,
)

__all__ = ["close_windows", "db", "english", "fast_hashing", "ready_db"]  # fixtures


def backups(db_url: str) -> list[Path]:
    folder = Path(db_url.removeprefix("sqlite:///")).parent / "backups"
    return sorted(folder.glob("*.sqlite")) if folder.exists() else []


def add_device(db_url: str) -> int:
    with open_workspace(db_url) as handle:
        org = OrgService(handle.workspace)
        org.add_department("ICU", "ICU")
        department = org.directory().by_code("ICU").id
        app = handle.app("equipment_repair")
        return app.create(
            "device", {"asset_no": "EQ-0001", "name": "Pump", "owner_dept": department}
        ).id


def installed_version(db_url: str) -> int:
    with open_workspace(db_url) as handle:
        return dict(handle.workspace.installed_apps())["equipment_repair"]


def test_the_upgrade_plan_is_shown_and_applied_after_confirmation(qtbot, tmp_path, ready_db):
    record_id = add_device(ready_db)
    answers = Answers().on(LoginDialog, log_in(ADMIN, ADMIN_PASSWORD))
    answers.on(UpgradeDialog, confirm_upgrade)
    app = started(qtbot, ready_db, answers, package=package_v2(tmp_path))
    (dialog,) = answers.of(UpgradeDialog)
    assert not dialog.plan.is_install
    assert dialog.windowTitle().startswith("Upgrade ")
    assert any("supplier" in line.lower() for line in dialog.lines())
    assert dialog.apply_button.text() == "Upgrade"
    assert dialog.applied and dialog.status.text() == "Done"
    assert installed_version(ready_db) == 2
    assert len(backups(ready_db)) == 1
    assert "supplier" in {field.key for field in app.spec.form("device").fields}
    with open_workspace(ready_db) as handle:
        record = handle.app("equipment_repair").get("device", record_id)
    assert record.values["name"] == "Pump" and record.values["supplier"] is None


def schema(db_url: str) -> dict[str, set[str]]:
    with open_workspace(db_url) as handle:
        inspector = sa.inspect(handle.workspace.engine)
        return {
            table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names()
        }


def test_cancelling_the_upgrade_leaves_the_workspace_unchanged(qtbot, tmp_path, ready_db):
    add_device(ready_db)
    before = schema(ready_db)
    answers = Answers().on(LoginDialog, log_in(ADMIN, ADMIN_PASSWORD))
    answers.on(UpgradeDialog, lambda dialog: REJECTED)
    app = RuntimeApp(package_v2(tmp_path), ready_db)
    app.run_dialog = answers  # type: ignore[method-assign]
    assert app.start() is False
    assert app.main_window is None
    assert answers.of(UpgradeDialog)[0].plan.to_version == 2
    assert installed_version(ready_db) == 1
    assert backups(ready_db) == []
    assert schema(ready_db) == before
    with open_workspace(ready_db) as handle:
        spec = handle.workspace.installed_spec("equipment_repair")
    assert "supplier" not in {field.key for field in spec.form("device").fields}


def test_a_plan_with_blockers_cannot_be_confirmed(qtbot, tmp_path, ready_db):
    from runtime.store.migrate import MigrationPlan

    plan = MigrationPlan("equipment_repair", 1, 2, blockers=["duplicates in asset_no"])
    ran = []
    dialog = UpgradeDialog(plan, "Repairs", lambda: iter(ran.append("ran") or ["x"]))
    qtbot.addWidget(dialog)
    assert not dialog.apply_button.isEnabled()
    assert "duplicates in asset_no" in dialog.blockers.text()
    assert dialog.confirm() is False and ran == []


def test_a_failing_upgrade_stays_in_the_dialog_with_the_reason(qtbot):
    from runtime.store.engine import WorkspaceError
    from runtime.store.migrate import MigrationPlan

    def steps():
        yield "Backing up the database…"
        raise WorkspaceError("another workstation upgraded this app just now; try again")

    dialog = UpgradeDialog(MigrationPlan("a", 1, 2), "A", steps)
    qtbot.addWidget(dialog)
    assert dialog.confirm() is False
    assert "Nothing was changed: another workstation" in dialog.message.text()
    assert dialog.cancel_button.isEnabled() and not dialog.applied
