"""Shared set-up of the app controller tests: workspaces, fast hashing, dialog answers.

Modal dialogs never run: :class:`Answers` stands in for ``RuntimeApp.run_dialog``
and hands each dialog to the handler registered for its type.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QLineEdit, QWidget

from runtime.api import open_workspace
from runtime.services.accounts import service as accounts_module
from runtime.services.accounts.service import AccountService
from runtime.ui import i18n
from runtime.ui.app import RuntimeApp
from runtime.ui.first_run_dialog import FirstRunDialog
from runtime.ui.login_dialog import LoginDialog
from runtime.ui.upgrade_dialog import UpgradeDialog

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_apps" / "equipment_repair"
ADMIN, ADMIN_PASSWORD = "admin", "Admin-pass-1"
NURSE, NURSE_PASSWORD = "li.na", "Nurse-pass-1"
ACCEPTED = QDialog.DialogCode.Accepted.value
REJECTED = QDialog.DialogCode.Rejected.value


class Answers:
    """A ``run_dialog`` replacement: ``answers.on(LoginDialog, handler)``."""

    def __init__(self) -> None:
        self.handlers: list[tuple[type, Callable[[QDialog], int]]] = []
        self.seen: list[QDialog] = []

    def on(self, kind: type, handler: Callable[[QDialog], int]) -> Answers:
        self.handlers.append((kind, handler))
        return self

    def __call__(self, dialog: QDialog) -> int:
        self.seen.append(dialog)
        for index, (kind, handler) in enumerate(self.handlers):
            if isinstance(dialog, kind):
                del self.handlers[index]
                return handler(dialog)
        raise AssertionError(f"unexpected dialog {type(dialog).__name__}: {dialog.windowTitle()}")

    def of(self, kind: type) -> list:
        return [dialog for dialog in self.seen if isinstance(dialog, kind)]


def log_in(username: str, password: str) -> Callable[[QDialog], int]:
    def handler(dialog: LoginDialog) -> int:
        dialog.username.setText(username)
        dialog.password.setText(password)
        return ACCEPTED if dialog.try_login() else REJECTED

    return handler


def confirm_upgrade(dialog: UpgradeDialog) -> int:
    dialog.confirm()
    return dialog.result()


def create_admin(dialog: FirstRunDialog) -> int:
    dialog.username.setText(ADMIN)
    dialog.display_name.setText("Head nurse Wang")
    dialog.password.setText(ADMIN_PASSWORD)
    dialog.repeat.setText(ADMIN_PASSWORD)
    return ACCEPTED if dialog.create() else REJECTED


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    """Cheap argon2 parameters: the tests log in hundreds of times."""
    cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, type=Type.ID)
    monkeypatch.setattr(accounts_module, "default_hasher", lambda: cheap)
    monkeypatch.setattr(accounts_module, "TIME_COST", 1)
    monkeypatch.setattr(accounts_module, "MEMORY_COST_KIB", 64)


@pytest.fixture(autouse=True)
def english(monkeypatch, tmp_path) -> Iterator[None]:
    """English UI and a private settings file (never the user's own)."""
    path = str(tmp_path / "settings.ini")
    monkeypatch.setattr(
        i18n, "runtime_settings", lambda: QSettings(path, QSettings.Format.IniFormat)
    )
    monkeypatch.setenv("FORMWRIGHT_LANG", "en")
    yield
    i18n.install_language("en")


STARTED: list[RuntimeApp] = []


@pytest.fixture(autouse=True)
def close_windows() -> Iterator[None]:
    """Windows the controller opened (main, record, lock) do not outlive a test."""
    yield
    while STARTED:
        STARTED.pop().shutdown()
    QApplication.processEvents()


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ws' / 'workspace.sqlite'}"


@pytest.fixture
def ready_db(db) -> str:
    """A workspace with the administrator, a nurse and the sample app installed."""
    with open_workspace(db) as handle:
        accounts = AccountService(handle.workspace)
        admin = accounts.create_user(
            ADMIN, "Head nurse Wang", password=ADMIN_PASSWORD, is_admin=True
        )
        assert admin.is_admin
        accounts.create_user(NURSE, "Li Na", password=NURSE_PASSWORD)
        handle.upgrade(SAMPLE)
        accounts.assign_role(NURSE, "equipment_repair", "ward_clerk")
    return db


def started(qtbot, db: str, answers: Answers, package: Path = SAMPLE) -> RuntimeApp:
    app = RuntimeApp(package, db)
    app.run_dialog = answers  # type: ignore[method-assign]
    STARTED.append(app)
    assert app.start(), answers.seen
    return app


def package_v2(tmp_path: Path) -> Path:
    """The sample app as version 2 with one more device field."""
    folder = tmp_path / "equipment_repair_v2"
    shutil.copytree(SAMPLE, folder)
    data = json.loads((folder / "app.json").read_text(encoding="utf-8"))
    data["version"] = 2
    device = next(form for form in data["forms"] if form["key"] == "device")
    device["fields"].append({"key": "supplier", "type": "text", "label": "供应商 Supplier"})
    (folder / "app.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


def visible_texts() -> str:
    """Every text a person could read in a visible window (labels, fields, tables)."""
    texts: list[str] = []
    for window in QApplication.topLevelWidgets():
        if not window.isVisible():
            continue
        texts.append(window.windowTitle())
        for widget in [window, *window.findChildren(QWidget)]:
            if not widget.isVisibleTo(window) and widget is not window:
                continue
            if isinstance(widget, QLabel | QLineEdit):
                texts.append(widget.text())
            model = getattr(widget, "model", None)
            if callable(model) and hasattr(model(), "rowCount"):
                texts += _model_texts(model())
    return "\n".join(texts)


def _model_texts(model) -> list[str]:
    found = []
    try:
        rows, columns = model.rowCount(), model.columnCount()
    except TypeError:
        return found
    for row in range(min(rows, 200)):
        for column in range(columns):
            value = model.data(model.index(row, column))
            if value is not None:
                found.append(str(value))
    return found
