"""No code in the process opens the workspace's database files but SQLite itself.

On Linux SQLite's POSIX locks belong to the process and closing *any* descriptor of
a database file drops them all. A file dialog that guessed the type of the ``-wal``
file did: another process (``formwright user list``) then deleted ``-wal`` and
``-shm`` and every record saved afterwards was lost (issue #11 §1). These tests open
every file dialog of the runtime and the designer in the database's folder, drop
the database's files onto the attachment and image editors, and check that the
locks are still held, that another process leaves ``-wal`` in place, and that a
record saved afterwards is seen by other processes and survives kill -9.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialog

from designer.document import DesignerDocument
from designer.files import RecoveryStore
from designer.main_window import DesignerWindow
from runtime.api import open_workspace
from runtime.store.query import RecordQuery
from runtime.ui.excel_dialogs import ExcelActions
from runtime.ui.excel_export_dialog import ExportDialog
from runtime.ui.excel_import_dialog import ImportDialog
from runtime.ui.main_window import MainWindow
from runtime.ui.record_window import RecordWindow
from tests.sqlite_locks import locks_held, other_process
from tests.ui.conftest import ROOT, add_department
from tests.ui.file_dialog_tour import browse_and_cancel
from widgets.editors.base import create_editor
from widgets.registry import default_registry

pytestmark = pytest.mark.skipif(not Path("/proc/locks").exists(), reason="Linux locks only")

DEVICE_COUNT = "SELECT count(*) FROM equipment_repair__device WHERE asset_no = '{asset}'"


def drop_files(widget, paths: list[Path]) -> None:
    """Drag ``paths`` onto ``widget`` and drop them, as from a file manager."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    action, button = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    modifiers, point = Qt.KeyboardModifier.NoModifier, QPoint(10, 10)
    QApplication.sendEvent(widget, QDragEnterEvent(point, action, mime, button, modifiers))
    QApplication.sendEvent(widget, QDragMoveEvent(point, action, mime, button, modifiers))
    QApplication.sendEvent(widget, QDropEvent(QPointF(point), action, mime, button, modifiers))


def runtime_dialogs(qtbot, repair, database: Path, attachment: Path) -> list:
    """Every file dialog of the runtime, each browsed in the database's folder and
    cancelled; then the database's files dropped onto the attachment and image editors."""
    folder = database.parent
    window = MainWindow(repair)
    qtbot.addWidget(window)
    window.show()
    page = window.show_list("request")
    excel = ExcelActions(window, lambda dialog: dialog.exec())
    record = RecordWindow(repair, page.form, None, window)
    qtbot.addWidget(record)
    record.show()
    report = record.view.cells["report"].editor
    photos = record.view.cells["photos"].editor
    browse_and_cancel(folder, report.add_button.click)
    browse_and_cancel(folder, photos.add_button.click)
    report.add_files([attachment])
    report.list.item(0).setSelected(True)
    browse_and_cancel(folder, report.save_button.click)
    export = ExportDialog(repair, page.form, RecordQuery(), ["request_no"], parent=window)
    qtbot.addWidget(export)
    browse_and_cancel(folder, export.choose_file)
    importer = ImportDialog(repair, page.form, parent=window)
    qtbot.addWidget(importer)
    browse_and_cancel(folder, importer.choose_file)
    importer.path_edit.setText(str(folder / "requests.xlsx"))
    browse_and_cancel(folder, importer.save_error_workbook)
    browse_and_cancel(folder, lambda: excel.template("request"))
    assert [ref["name"] for ref in report.value()] == [attachment.name]
    QDialog.done(record, 0)  # closed without the unsaved-changes question
    return [report, photos]


def drop_database_files(editors, database: Path) -> None:
    """Drop the database's files onto each editor: refused with a message, unread."""
    dropped = [Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm")]
    for editor in editors:
        before = editor.value()
        drop_files(editor, dropped)
        assert editor.value() == before
        assert editor.message.text().count("is a file of the open database") == 3


def designer_dialogs(qtbot, tmp_path, folder: Path) -> None:
    """The designer's Open, Open folder and Save as, browsed in ``folder``."""
    app_folder = tmp_path / "designed"
    shutil.copytree(ROOT / "sample_apps" / "equipment_repair", app_folder)
    window = DesignerWindow(
        document=DesignerDocument.open(app_folder),
        recovery=RecoveryStore(tmp_path / "recovery"),
        settings=QSettings(str(tmp_path / "designer.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    window.show()
    browse_and_cancel(folder, lambda: window.files._ask_open(folder=False))
    browse_and_cancel(folder, lambda: window.files._ask_open(folder=True))
    browse_and_cancel(folder, window.files.save_as)
    window.document.mark_saved()  # closed without the unsaved-changes question


def test_file_dialogs_and_drops_keep_sqlite_locks(qtbot, handle, repair, icu, tmp_path):
    database = Path(handle.workspace.engine.url.database)
    folder = database.parent
    attachment = tmp_path / "elsewhere" / "report.pdf"
    attachment.parent.mkdir()
    attachment.write_bytes(b"%PDF-1.4 a report")
    with handle.workspace.reader() as connection:  # the app has read: its locks are set
        connection.exec_driver_sql("SELECT 1").all()
    held = locks_held(os.getpid(), database)
    assert held > 0

    editors = runtime_dialogs(qtbot, repair, database, attachment)
    designer_dialogs(qtbot, tmp_path, folder)
    assert locks_held(os.getpid(), database) >= held

    any_file = create_editor(default_registry.get("attachment").new_spec("files", "Files"))
    qtbot.addWidget(any_file)
    drop_database_files([*editors, any_file], database)
    assert locks_held(os.getpid(), database) >= held

    other_process(database)  # open, read, close: not the last connection
    assert Path(f"{database}-wal").exists()
    device = {"asset_no": "EQ-0002", "name": "监护仪", "owner_dept": icu}
    handle.app("equipment_repair").create("device", device)
    assert other_process(database, DEVICE_COUNT.format(asset="EQ-0002")) == "1"


def test_a_record_saved_after_browsing_survives_kill_9(tmp_path):
    """The issue's repro: the app browses its folder in Add…, another process opens
    and closes the database, the app saves a record and is killed."""
    database = tmp_path / "data" / "exp.sqlite"
    url = f"sqlite:///{database}"
    with open_workspace(url) as prepared:
        prepared.upgrade(ROOT / "sample_apps" / "equipment_repair")
        department = add_department(prepared, "设备科")
    environment = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.ui.file_dialog_tour", url, str(department)],
        cwd=ROOT,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "browsed"
        assert locks_held(child.pid, database) > 0
        other_process(database)
        assert Path(f"{database}-wal").exists()
        child.stdin.write("save\n")
        child.stdin.flush()
        assert child.stdout.readline().startswith("saved")
        assert other_process(database, DEVICE_COUNT.format(asset="EQ-0001")) == "1"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert other_process(database, DEVICE_COUNT.format(asset="EQ-0001")) == "1"
    assert other_process(database, "PRAGMA integrity_check") == "ok"
