"""Screenshots of the runtime's account windows: login (en, zh), first run, lock
screen, upgrade plan, users administration.

    .venv/bin/python tools/runtime_screenshots.py [output folder]

Everything runs against a temporary SQLite workspace; the PNGs go to
docs/screenshots/ (``runtime_*.png``) by default.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["FORMWRIGHT_LANG"] = "en"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication, QDialog, QWidget  # noqa: E402

from resources.i18n import install_language  # noqa: E402
from runtime.api import open_workspace  # noqa: E402
from runtime.services.accounts.service import AccountService, LoginFailed  # noqa: E402
from runtime.services.org.service import OrgService  # noqa: E402
from runtime.ui.app import RuntimeApp  # noqa: E402
from runtime.ui.first_run_dialog import FirstRunDialog  # noqa: E402
from runtime.ui.login_dialog import LoginDialog  # noqa: E402
from runtime.ui.upgrade_dialog import UpgradeDialog  # noqa: E402

SAMPLE = ROOT / "sample_apps" / "equipment_repair"
ADMIN, PASSWORD = "wang.hong", "Ward-7-admin"
STAFF = [
    ("li.na", "李娜", "ICU", ["ward_clerk"]),
    ("zhang.wei", "张伟", "ICU", ["ward_clerk"]),
    ("chen.jing", "陈静", "EQ", ["engineer"]),
    ("zhao.lei", "赵磊", "EQ", ["engineer"]),
    ("liu.yang", "刘洋", "ER", []),
]


def save(widget: QWidget, folder: Path, name: str) -> None:
    widget.show()
    for _ in range(5):
        QApplication.processEvents()
    path = folder / f"runtime_{name}.png"
    widget.grab().save(str(path))
    print(path)


def build_workspace(folder: Path) -> str:
    url = f"sqlite:///{folder / 'workspace.sqlite'}"
    with open_workspace(url) as handle:
        accounts, org = AccountService(handle.workspace), OrgService(handle.workspace)
        accounts.create_user(ADMIN, "王红 护士长", password=PASSWORD, is_admin=True)
        handle.upgrade(SAMPLE)
        org.add_department("HOSP", "市第一人民医院")
        org.add_department("ICU", "重症监护室", parent="HOSP", head=ADMIN)
        org.add_department("ER", "急诊科", parent="HOSP")
        org.add_department("EQ", "设备科", parent="HOSP")
        for username, name, department, roles in STAFF:
            accounts.create_user(username, name, password="Staff-pass-1", departments=[department])
            for role in roles:
                accounts.assign_role(username, "equipment_repair", role)
        accounts.disable_user("liu.yang")
        for attempt in range(5):
            with contextlib.suppress(LoginFailed):
                accounts.login("zhao.lei", f"wrong-{attempt}")
        department = org.directory().by_code("ICU").id
        app = handle.app("equipment_repair")
        for number, name in enumerate(["输液泵", "心电监护仪", "呼吸机", "除颤仪"], start=1):
            app.create(
                "device",
                {"asset_no": f"EQ-{number:04d}", "name": name, "owner_dept": department},
            )
    return url


def package_v2(folder: Path) -> Path:
    target = folder / "equipment_repair_v2"
    shutil.copytree(SAMPLE, target)
    data = json.loads((target / "app.json").read_text(encoding="utf-8"))
    data["version"] = 2
    device = next(form for form in data["forms"] if form["key"] == "device")
    device["fields"].append({"key": "supplier", "type": "text", "label": "供应商 Supplier"})
    device["fields"].append({"key": "warranty_until", "type": "date", "label": "保修期至 Warranty"})
    (target / "app.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return target


def login_shots(url: str, out: Path) -> None:
    with open_workspace(url) as handle:
        accounts = AccountService(handle.workspace)
        for language in ("en", "zh_CN"):
            install_language(language)
            dialog = LoginDialog(accounts, "equipment_repair.fwapp · SQLite workspace.sqlite")
            dialog.username.setText("zhao.lei")
            dialog.password.setText("secret")
            dialog.try_login()  # locked: shows the lockout message
            save(dialog, out, f"login_{'zh' if language == 'zh_CN' else 'en'}")
        install_language("en")


def first_run_shot(folder: Path, out: Path) -> None:
    with open_workspace(f"sqlite:///{folder / 'empty.sqlite'}") as handle:
        dialog = FirstRunDialog(AccountService(handle.workspace))
        dialog.username.setText(ADMIN)
        dialog.display_name.setText("王红 护士长")
        dialog.password.setText("short")
        save(dialog, out, "first_run")


def answer(dialog: QDialog, out: Path) -> int:
    """Stand-in for the modal dialogs: log in as the admin, shoot and run the upgrade."""
    if isinstance(dialog, LoginDialog):
        dialog.username.setText(ADMIN)
        dialog.password.setText(PASSWORD)
        dialog.try_login()
    elif isinstance(dialog, UpgradeDialog):
        save(dialog, out, "upgrade_plan")
        dialog.confirm()
    return dialog.result()


def runtime_shots(url: str, folder: Path, out: Path) -> None:
    app = RuntimeApp(package_v2(folder), url)
    app.run_dialog = lambda dialog: answer(dialog, out)  # type: ignore[method-assign]
    if not app.start():
        raise SystemExit("the runtime did not start")
    admin = app.open_admin()
    assert admin is not None
    admin.users.select("li.na")
    save(admin, out, "admin_users")
    admin.tabs.setCurrentWidget(admin.departments)
    save(admin, out, "admin_departments")
    admin.tabs.setCurrentWidget(admin.audit)
    save(admin, out, "admin_audit")
    admin.hide()
    screen = app.lock()
    assert screen is not None
    save(screen, out, "lock_screen")
    app.shutdown()


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    assert app is not None
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        url = build_workspace(folder)
        login_shots(url, out)
        first_run_shot(folder, out)
        runtime_shots(url, folder, out)


if __name__ == "__main__":
    main()
