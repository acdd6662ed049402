"""Real SQLite workspaces with both sample apps, real people, and UiServices."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import shiboken6

from runtime.api import WorkspaceHandle, open_workspace
from runtime.services.actor import Actor
from runtime.store.accounts import insert_user, set_memberships
from runtime.store.schema import departments_table
from runtime.ui.gc_guard import GuiThreadCollector
from runtime.ui.services import UiServices
from runtime.ui.view_settings import InMemoryViewSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _cycles_collected_on_the_gui_thread(qapp) -> Iterator[None]:
    """As in the running app (runtime/ui/gc_guard.py): no cyclic collection while a
    test runs, where a page loader's worker could destroy a Qt object; afterwards
    one on this, the GUI, thread."""
    enabled = gc.isenabled()
    gc.disable()
    yield
    installed = qapp.findChild(GuiThreadCollector)
    if installed is not None:  # by the app's main(): not for the tests after this one
        installed.stop()
        shiboken6.delete(installed)
    GuiThreadCollector.collect()
    if enabled:
        gc.enable()


def add_department(handle: WorkspaceHandle, name: str) -> int:
    with handle.workspace.engine.begin() as connection:
        return connection.execute(
            departments_table.insert().values(name=name, active=True)
        ).inserted_primary_key[0]


#: The app role every app has (everything allowed) in both sample apps.
ADMIN_ROLES = {"equipment_repair": frozenset({"admin"}), "adverse_event": frozenset({"admin"})}


def add_user(
    handle: WorkspaceHandle,
    username: str,
    name: str,
    department: int,
    roles: dict[str, frozenset[str]] | None = None,
) -> Actor:
    """A user row and membership; the Actor holds ``roles`` (default: app admin)."""
    with handle.workspace.engine.begin() as connection:
        user_id = insert_user(connection, username, name, datetime(2024, 1, 1))
        set_memberships(connection, user_id, [department])
    roles = ADMIN_ROLES if roles is None else roles
    return Actor(user_id, username, name, False, department, frozenset({department}), roles)


@pytest.fixture(autouse=True)
def no_stray_questions(monkeypatch):
    """A message box no test answered fails the test instead of waiting forever."""
    from PySide6.QtWidgets import QMessageBox

    def unexpected(*args, **_kwargs):
        raise AssertionError(f"unexpected message box: {args[1:3]}")

    for name in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, unexpected)


@pytest.fixture
def handle(tmp_path) -> Iterator[WorkspaceHandle]:
    opened = open_workspace(f"sqlite:///{tmp_path / 'workspace.sqlite'}")
    opened.upgrade(ROOT / "sample_apps" / "equipment_repair")
    opened.upgrade(ROOT / "sample_apps" / "adverse_event")
    yield opened
    opened.close()


@pytest.fixture
def icu(handle) -> int:
    return add_department(handle, "重症监护室")


@pytest.fixture
def nurse(handle, icu) -> Actor:
    return add_user(handle, "zhang.wei", "张伟", icu)


@pytest.fixture
def settings() -> InMemoryViewSettings:
    return InMemoryViewSettings()


def services_for(handle: WorkspaceHandle, app_id: str, actor: Actor, settings=None) -> UiServices:
    """A fresh service session (its own RecordService) acting as ``actor``."""
    return UiServices(handle.app(app_id).service, actor, view_settings=settings)


@pytest.fixture
def repair(handle, nurse, settings) -> UiServices:
    return services_for(handle, "equipment_repair", nurse, settings)


@pytest.fixture
def events(handle, nurse, settings) -> UiServices:
    return services_for(handle, "adverse_event", nurse, settings)


@pytest.fixture
def add_devices():
    return _add_devices


def _add_devices(services: UiServices, department: int, count: int) -> None:
    """``count`` devices EQ-000001… named 设备1…, fast (bulk path)."""
    rows = (
        {
            "asset_no": f"EQ-{number:06d}",
            "name": f"设备{number}",
            "owner_dept": department,
            "price": number,
            "in_service": number % 2 == 0,
        }
        for number in range(1, count + 1)
    )
    services.records.bulk_create("device", rows, services.actor)
