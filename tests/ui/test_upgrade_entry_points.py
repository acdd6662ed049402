"""The Python API and the runtime's upgrade dialog run one upgrade (runtime.services.upgrade):
the same backup, in the same folder under the same name, written before the
migration; and the same refusal, with nothing changed, when the backup fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from runtime.api import open_workspace
from runtime.services import upgrade as upgrades
from runtime.store import backup as backup_module
from runtime.ui.app import RuntimeApp
from runtime.ui.login_dialog import LoginDialog
from runtime.ui.long_task import step_text
from runtime.ui.upgrade_dialog import UpgradeDialog
from tests.store.test_backup import same_second
from tests.ui.test_app_support import (
    ADMIN,
    ADMIN_PASSWORD,
    STARTED,
    Answers,
    close_windows,
    confirm_upgrade,
    db,
    english,
    fast_hashing,
    log_in,
    package_v2,
    ready_db,
)

__all__ = ["close_windows", "db", "english", "fast_hashing", "ready_db", "same_second"]  # fixtures

ENTRY_POINTS = ["api", "runtime"]
STAMP = "20261126-101500"  # every backup is taken in this second (same_second)
pytestmark = pytest.mark.usefixtures("same_second")


def upgrade_through(entry: str, db_url: str, package: Path) -> str:
    """Upgrade to ``package`` the way ``entry`` does; the refusal's text ("" when none)."""
    if entry == "api":
        with open_workspace(db_url) as handle:
            try:
                handle.upgrade(package)
            except OSError as error:
                return str(error)
        return ""
    answers = Answers().on(LoginDialog, log_in(ADMIN, ADMIN_PASSWORD))
    answers.on(UpgradeDialog, confirm_upgrade)
    app = RuntimeApp(package, db_url)
    app.run_dialog = answers  # type: ignore[method-assign]
    STARTED.append(app)
    started = app.start()
    (dialog,) = answers.of(UpgradeDialog)
    assert started is dialog.applied
    return dialog.message.text().removeprefix("Nothing was changed: ")


def backup_folder(db_url: str) -> Path:
    return Path(db_url.removeprefix("sqlite:///")).parent / "backups"


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def installed_version(db_url: str) -> int:
    with open_workspace(db_url) as handle:
        return handle.workspace.installed_spec("equipment_repair").version


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_both_back_up_before_the_upgrade_into_the_same_place(qtbot, tmp_path, ready_db, entry):
    assert upgrade_through(entry, ready_db, package_v2(tmp_path)) == ""
    assert installed_version(ready_db) == 2
    name = f"workspace-{STAMP}.sqlite"
    assert files_in(backup_folder(ready_db)) == [name, f"{name}.checkpoint.json"]
    with open_workspace(f"sqlite:///{backup_folder(ready_db) / name}") as copy:
        assert copy.workspace.installed_spec("equipment_repair").version == 1


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_both_refuse_the_upgrade_when_the_backup_fails(
    qtbot, tmp_path, ready_db, monkeypatch, entry
):
    def disk_full(engine, output):
        raise OSError("disk full")

    monkeypatch.setattr(backup_module, "backup", disk_full)
    assert upgrade_through(entry, ready_db, package_v2(tmp_path)) == "disk full"
    assert installed_version(ready_db) == 1
    assert files_in(backup_folder(ready_db)) == []


def test_the_dialog_names_the_folder_the_service_backs_up_into(qtbot, tmp_path, ready_db):
    upgrade_through("runtime", ready_db, package_v2(tmp_path))
    (dialog,) = STARTED[-1].run_dialog.of(UpgradeDialog)
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    folder = backup_folder(ready_db)
    assert f"A backup of the database is written to {folder} first." in texts


def test_every_upgrade_step_is_shown_in_words():
    for name in (upgrades.BACKING_UP, upgrades.INSTALLING, upgrades.UPGRADING):
        assert step_text(name) not in ("", name)
