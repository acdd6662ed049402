"""Screenshots of the runtime's Excel dialogs: export of a filtered list, and the
import wizard showing the mapping and the problems it found.

    .venv/bin/python tools/excel_screenshots.py [output folder]

Everything runs against a temporary SQLite workspace; the PNGs go to
docs/screenshots/ (``runtime_export.png``, ``runtime_import.png``) by default.
"""

from __future__ import annotations

import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["FORMWRIGHT_LANG"] = "en"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import openpyxl  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from runtime.api import open_workspace  # noqa: E402
from runtime.services.accounts.service import AccountService  # noqa: E402
from runtime.services.org.service import OrgService  # noqa: E402
from runtime.store.query import Condition  # noqa: E402
from runtime.ui.excel_dialogs import ExportDialog, ImportDialog  # noqa: E402
from runtime.ui.long_task import LongTask  # noqa: E402
from runtime.ui.main_window import MainWindow  # noqa: E402
from runtime.ui.services import UiServices  # noqa: E402
from runtime.ui.view_settings import InMemoryViewSettings  # noqa: E402

SAMPLE = ROOT / "sample_apps" / "equipment_repair"
USER, PASSWORD = "chen.jing", "Staff-pass-1"
DEVICES = ["输液泵", "心电监护仪", "呼吸机", "除颤仪", "注射泵", "血气分析仪"]


def save(widget: QWidget, folder: Path, name: str) -> None:
    widget.show()
    for _ in range(5):
        QApplication.processEvents()
    path = folder / f"runtime_{name}.png"
    widget.grab().save(str(path))
    print(path)


def build_workspace(handle) -> None:
    """An engineer of the equipment department and 60 devices in the ICU."""
    accounts, org = AccountService(handle.workspace), OrgService(handle.workspace)
    accounts.create_user("wang.hong", "王红", password="Ward-7-admin", is_admin=True)
    handle.upgrade(SAMPLE)
    org.add_department("ICU", "重症监护室")
    org.add_department("EQ", "设备科")
    accounts.create_user(USER, "陈静", password=PASSWORD, departments=["EQ"])
    accounts.assign_role(USER, "equipment_repair", "engineer")
    department = org.directory().by_code("ICU").id
    rows = (
        {
            "asset_no": f"EQ-{number:06d}",
            "name": DEVICES[number % len(DEVICES)],
            "model": f"M-{number % 7 + 1}00",
            "owner_dept": department,
            "price": Decimal(1000 + number * 250),
            "in_service": number % 3 != 0,
        }
        for number in range(1, 61)
    )
    handle.app("equipment_repair").service.bulk_create("device", rows)


def bad_workbook(path: Path) -> Path:
    """Five devices to import; two rows have mistakes the check reports."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["资产编号", "设备名称", "型号", "使用科室", "原值", "备注 Remarks"])
    sheet.append(["EQ-300001", "输液泵", "M-200", "重症监护室", 4200, "new"])
    sheet.append(["EQ-300002", "呼吸机", "M-500", "重症监护室", -300, ""])
    sheet.append(["EQ-300003", "除颤仪", "M-100", "心内科", 56000, ""])
    sheet.append(["EQ-300004", "注射泵", "M-300", "重症监护室", 3800, ""])
    sheet.append(["EQ-300005", "监护仪", "M-700", "重症监护室", 21000, ""])
    book.save(path)
    return path


def export_shot(services: UiServices, out: Path) -> None:
    window = MainWindow(services)
    page = window.show_list("device")
    page.set_columns(["asset_no", "name", "model", "price", "in_service"])
    page.set_filter(Condition("price", "ge", Decimal(5000)))
    page.model.sort(page.model.column_of("price"), Qt.SortOrder.DescendingOrder)
    while page.model.count is None:
        QApplication.processEvents()
    dialog = ExportDialog(
        services, page.form, page.model.query, page.model.column_keys(), page.model.count
    )
    dialog.path_edit.setText(str(Path.home() / "Documents" / "设备 2024-06.xlsx"))
    save(dialog, out, "export")
    window.close()


def import_shot(services: UiServices, folder: Path, out: Path) -> None:
    dialog = ImportDialog(services, services.form("device"))
    dialog.path_edit.setText(str(bad_workbook(folder / "新设备.xlsx")))
    dialog.check()
    save(dialog, out, "import")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    assert app is not None
    LongTask.synchronous = True
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        with open_workspace(f"sqlite:///{folder / 'workspace.sqlite'}") as handle:
            build_workspace(handle)
            actor = AccountService(handle.workspace).login(USER, PASSWORD).actor()
            service = handle.app("equipment_repair").service
            services = UiServices(service, actor, view_settings=InMemoryViewSettings())
            export_shot(services, out)
            import_shot(services, folder, out)


if __name__ == "__main__":
    main()
