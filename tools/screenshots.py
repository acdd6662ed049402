"""Build a demo workspace and save screenshots of the runtime's windows.

    .venv/bin/python tools/screenshots.py [output folder]

A temporary SQLite workspace gets both sample apps, a few wards and staff, and
about 200 generated records; the PNGs go to docs/screenshots/ by default.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from resources.i18n import install_language  # noqa: E402
from runtime.api import WorkspaceHandle, open_workspace  # noqa: E402
from runtime.services.actor import Actor  # noqa: E402
from runtime.services.records.references import NameMap  # noqa: E402
from runtime.services.records.service import ConflictError  # noqa: E402
from runtime.store.accounts import insert_user, set_memberships  # noqa: E402
from runtime.store.schema import (  # noqa: E402
    departments_table,
)
from runtime.ui.conflict_dialog import ConflictDialog  # noqa: E402
from runtime.ui.main_window import MainWindow  # noqa: E402
from runtime.ui.record_window import RecordWindow  # noqa: E402
from runtime.ui.services import UiServices  # noqa: E402
from widgets.base import ExcelContext  # noqa: E402

WARDS = ["心内科病区", "呼吸内科病区", "普外科病区", "骨科病区", "重症监护室", "急诊科", "设备科"]
STAFF = [
    ("zhang.wei", "张伟"), ("li.na", "李娜"), ("wang.fang", "王芳"), ("liu.yang", "刘洋"),
    ("chen.jing", "陈静"), ("yang.fan", "杨帆"), ("zhao.lei", "赵磊"), ("huang.min", "黄敏"),
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["秀英", "建华", "桂兰", "志强", "丽", "军", "敏", "静", "海燕", "国庆", "玉梅", "振宇"]
DEVICES = [
    ("输液泵", "BBraun Infusomat"), ("注射泵", "SP-500"), ("心电监护仪", "Mindray iPM12"),
    ("呼吸机", "Dräger V500"), ("除颤仪", "Zoll R"), ("血糖仪", "Accu-Chek"),
    ("吸痰器", "YX930D"), ("雾化器", "Omron NE-C28"), ("电动病床", "Hill-Rom 900"),
]  # fmt: skip
FAULTS = ["开机无显示", "报警无法消除", "管路检测故障，频繁报警", "电池无法充电", "屏幕触控失灵"]
EVENTS = ["夜间如厕时在卫生间跌倒，头部着地", "骶尾部发现 2 期压力性损伤", "给药时间延误 1 小时"]


def add_people(handle: WorkspaceHandle) -> list[Actor]:
    """Wards and staff rows (there is no accounts service yet)."""
    actors = []
    with handle.workspace.engine.begin() as connection:
        wards = [
            connection.execute(
                departments_table.insert().values(name=name, active=True)
            ).inserted_primary_key[0]
            for name in WARDS
        ]
        for number, (username, name) in enumerate(STAFF):
            ward = wards[number % len(wards)]
            user_id = insert_user(connection, username, name, datetime(2024, 1, 1))
            set_memberships(connection, user_id, [ward])
            roles = {
                "equipment_repair": frozenset({"admin"}),
                "adverse_event": frozenset({"admin"}),
            }
            actors.append(Actor(user_id, username, name, False, ward, frozenset({ward}), roles))
    return actors


def patient(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def fill_repairs(handle: WorkspaceHandle, actors: list[Actor], rng: random.Random) -> None:
    app = handle.app("equipment_repair")
    devices = []
    for number in range(60):
        name, model = DEVICES[number % len(DEVICES)]
        actor = rng.choice(actors)
        values = {
            "asset_no": f"EQ-{20240001 + number}", "name": name, "model": model,
            "owner_dept": actor.primary_department, "purchased": date(2019, 1, 1)
            + timedelta(days=rng.randrange(1800)),
            "price": Decimal(rng.randrange(3_000, 300_000)), "in_service": rng.random() > 0.1,
        }  # fmt: skip
        devices.append(app.service.create("device", values, actor))
    for _ in range(70):
        actor = rng.choice(actors)
        status = rng.choice(["open", "open", "in_progress", "done"])
        values = {
            "device": rng.choice(devices).id, "reporter": actor.user_id,
            "reported_on": datetime(2024, 6, 1, 8) + timedelta(hours=rng.randrange(2000)),
            "urgency": rng.choice(["normal", "normal", "urgent", "critical"]),
            "fault": rng.choice(FAULTS), "status": status,
            "labour": Decimal(rng.randrange(0, 400)) if status == "done" else None,
        }  # fmt: skip
        app.service.create("request", values, actor)


def fill_events(handle: WorkspaceHandle, actors: list[Actor], rng: random.Random) -> None:
    app = handle.app("adverse_event")
    for _ in range(75):
        actor = rng.choice(actors)
        category = rng.choice(["fall", "pressure_injury", "medication", "tube"])
        values = {
            "reporter": actor.user_id, "reporting_dept": actor.primary_department,
            "occurred_on": date(2024, 9, 1) + timedelta(days=rng.randrange(120)),
            "patient_name": patient(rng), "bed_no": f"{rng.randrange(1, 40)}床",
            "category": category,
            "severity": rng.choice(["none", "mild", "mild", "moderate", "severe"]),
            "fall_factors": ["wet_floor", "unattended"] if category == "fall" else None,
            "description": rng.choice(EVENTS), "risk_score": rng.randrange(1, 6),
        }  # fmt: skip
        app.service.create("event_report", values, actor)


def settle(app: QApplication, seconds: float = 0.6) -> None:
    """Let worker threads deliver pages and the event loop paint."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def shoot(app: QApplication, widget: QWidget, path: Path) -> None:
    widget.show()
    settle(app)
    widget.grab().save(str(path))
    print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main_windows(app: QApplication, handle: WorkspaceHandle, actor: Actor, out: Path) -> None:
    for app_id, key in (("equipment_repair", "request/open_requests"), ("adverse_event", None)):
        services = UiServices(handle.app(app_id).service, actor)
        window = MainWindow(services)
        if key:
            window.nav.setCurrentItem(window.nav.topLevelItem(1).child(0))
        settle(app)
        shoot(app, window, out / f"main_{app_id}.png")
        window.close()


def record_forms(app: QApplication, handle: WorkspaceHandle, actor: Actor, out: Path) -> None:
    for app_id, form, record_id in (
        ("equipment_repair", "request", 3),
        ("equipment_repair", "device", 1),
        ("adverse_event", "event_report", 5),
    ):
        services = UiServices(handle.app(app_id).service, actor)
        window = RecordWindow(services, services.form(form), record_id)
        shoot(app, window, out / f"record_{app_id}_{form}.png")
        window.view.mark_clean()
        window.close()


def chinese(app: QApplication, handle: WorkspaceHandle, actor: Actor, out: Path) -> None:
    """The main list and a record form again, with the Chinese UI."""
    install_language("zh_CN")
    try:
        services = UiServices(handle.app("equipment_repair").service, actor)
        window = MainWindow(services)
        window.nav.setCurrentItem(window.nav.topLevelItem(1).child(0))
        settle(app)
        shoot(app, window, out / "main_equipment_repair_zh.png")
        window.close()
        services = UiServices(handle.app("adverse_event").service, actor)
        record = RecordWindow(services, services.form("event_report"), 5)
        shoot(app, record, out / "record_adverse_event_event_report_zh.png")
        record.view.mark_clean()
        record.close()
        services = UiServices(handle.app("equipment_repair").service, actor)
        device = RecordWindow(services, services.form("device"), None)
        for key, value in {"asset_no": "坏编号", "price": Decimal("-5")}.items():
            editor = device.view.cells[key].editor
            editor.set_value(value)
            editor.value_changed.emit()  # as typing does
        device.save()  # refused: the messages under the fields come from the services
        shoot(app, device, out / "record_validation_zh.png")
        device.view.mark_clean()
        device.close()
    finally:
        install_language("en")


def conflict(app: QApplication, handle: WorkspaceHandle, actors: list[Actor], out: Path) -> None:
    mine, theirs = (UiServices(handle.app("equipment_repair").service, a) for a in actors[:2])
    record = mine.records.get("request", 3)
    theirs.records.update(
        "request", 3, {"status": "in_progress", "fault": "报警无法消除，已更换电池"},
        record.version, theirs.actor,
    )  # fmt: skip
    try:
        mine.records.update(
            "request", 3, {"status": "done", "fault": "报警无法消除"}, record.version, mine.actor
        )
    except ConflictError as error:
        context = ExcelContext(names=NameMap(mine.references))
        dialog = ConflictDialog(error, mine.form("request"), context, mine.registry)
        shoot(app, dialog, out / "conflict_dialog.png")
        dialog.close()
        install_language("zh_CN")
        dialog = ConflictDialog(error, mine.form("request"), context, mine.registry)
        shoot(app, dialog, out / "conflict_dialog_zh.png")
        dialog.close()
        install_language("en")
    theirs.records.update("request", 3, {"engineer": actors[1].user_id}, record.version + 1)
    window = RecordWindow(mine, mine.form("request"), 3)
    window.tabs.setCurrentIndex(1)
    shoot(app, window, out / "record_history.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        handle = open_workspace(f"sqlite:///{Path(folder) / 'demo.sqlite'}")
        for name in ("equipment_repair", "adverse_event"):
            handle.upgrade(ROOT / "sample_apps" / name)
        actors = add_people(handle)
        fill_repairs(handle, actors, rng)
        fill_events(handle, actors, rng)
        main_windows(app, handle, actors[0], out)
        record_forms(app, handle, actors[0], out)
        chinese(app, handle, actors[0], out)
        conflict(app, handle, actors, out)
        handle.close()


if __name__ == "__main__":
    main()
