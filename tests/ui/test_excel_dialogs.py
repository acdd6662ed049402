"""Export and import through the dialogs, the template, and the long-task runner.

Real SQLite workspace with the equipment_repair app; file dialogs are monkeypatched
and every modal dialog is answered through ``run_dialog`` (:class:`Answers`).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from runtime.services.excel.common import ExcelError
from runtime.services.progress import Progress
from runtime.store.query import Condition, RecordQuery
from runtime.ui.excel_dialogs import ExcelActions, ExportDialog, ImportDialog
from runtime.ui.long_task import LongTask
from runtime.ui.main_window import MainWindow
from tests.ui.conftest import add_user, services_for
from tests.ui.test_app_support import Answers
from widgets.editors import file_dialogs

ENGINEER = {"equipment_repair": frozenset({"engineer"})}
CLERK = {"equipment_repair": frozenset({"ward_clerk"})}


@pytest.fixture
def synchronous(monkeypatch):
    monkeypatch.setattr(LongTask, "synchronous", True)


def main_window(qtbot, services) -> MainWindow:
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    return window


def save_as(monkeypatch, path: Path) -> None:
    monkeypatch.setattr(file_dialogs, "save_file", lambda *a, **k: (Path(path), ""))


def open_file(monkeypatch, path: Path) -> None:
    monkeypatch.setattr(file_dialogs, "open_file", lambda *a, **k: Path(path))


def ok(_box) -> int:
    return 0


def sheet_rows(path: Path) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return rows


# -- export --------------------------------------------------------------------------


def test_export_writes_the_filtered_sorted_list_with_its_columns(
    qtbot, repair, icu, add_devices, tmp_path, monkeypatch, synchronous
):
    add_devices(repair, icu, 30)
    window = main_window(qtbot, repair)
    page = window.show_list("device")
    page.set_columns(["name", "price", "asset_no"])
    page.set_filter(Condition("price", "ge", Decimal(25)))
    page.model.sort(page.model.column_of("price"), Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: page.model.count == 6)
    target = tmp_path / "out" / "devices.xlsx"
    target.parent.mkdir()
    save_as(monkeypatch, target)
    seen: list[ExportDialog] = []

    def export(dialog: ExportDialog) -> int:
        seen.append(dialog)
        assert dialog.chosen_columns() == ["name", "price", "asset_no"]
        assert "6 records" in dialog.scope.text()
        assert "原值 at least 25" in dialog.scope.text()
        assert "descending" in dialog.scope.text()
        assert not dialog.include_id.isChecked()  # no subtables, no "No." column
        dialog.export()
        return dialog.result()

    answers = Answers().on(ExportDialog, export).on(QMessageBox, ok)
    ExcelActions(window, answers)
    window.actions_.export.trigger()
    assert seen and seen[0].result_ is not None
    box = answers.of(QMessageBox)[0]
    assert box.text() == f"Exported 6 records to {target}"
    assert "Open folder" in [button.text() for button in box.buttons()]
    rows = sheet_rows(target)
    assert rows[0] == ("设备名称", "原值", "资产编号")
    assert [row[0] for row in rows[1:]] == [f"设备{n}" for n in range(30, 24, -1)]
    assert [row[2] for row in rows[1:]] == [f"EQ-{n:06d}" for n in range(30, 24, -1)]


def test_cancel_in_the_middle_leaves_no_file(qtbot, repair, icu, add_devices, tmp_path):
    add_devices(repair, icu, 3000)
    page = main_window(qtbot, repair).show_list("device")
    folder = tmp_path / "exports"
    folder.mkdir()
    dialog = ExportDialog(repair, page.form, page.model.query, page.model.column_keys())
    qtbot.addWidget(dialog)
    dialog.page_size = 10
    dialog.path_edit.setText(str(folder / "all.xlsx"))
    task = dialog.export()  # on the worker thread
    assert task is not None
    steps: list[Progress] = []
    task.progressed.connect(steps.append)
    task.progressed.connect(lambda step: step.done >= 200 and task.cancel())
    qtbot.waitUntil(lambda: not task.running, timeout=20000)
    assert task.outcome == "cancelled"
    assert 200 <= steps[-1].done < 3000
    assert task.wait(5000)
    assert list(folder.iterdir()) == []  # neither the file nor its temporary
    assert dialog.export_button.isEnabled() and dialog.result_ is None


def test_subtables_are_exported_on_their_own_sheet_by_default(qtbot, repair):
    form = repair.form("request")
    dialog = ExportDialog(repair, form, RecordQuery(), ["request_no", "device"])
    qtbot.addWidget(dialog)
    assert dialog.subtables.isEnabled() and dialog.subtables.currentData() == "sheet"
    assert dialog.include_id.isChecked()  # the sheet links rows by record id
    assert dialog.chosen_columns()[:2] == ["request_no", "device"]
    assert "parts" in dialog.chosen_columns()


def test_export_error_is_shown_in_a_dialog(qtbot, repair, tmp_path, synchronous):
    page = main_window(qtbot, repair).show_list("device")
    answers = Answers().on(QMessageBox, ok)
    dialog = ExportDialog(repair, page.form, page.model.query, [], run_dialog=answers)
    qtbot.addWidget(dialog)
    dialog.set_columns(["name"])
    dialog.path_edit.setText(str(tmp_path / "missing-folder" / "x.xlsx"))
    task = dialog.export()
    assert task is not None and task.outcome == "failed"
    assert answers.of(QMessageBox)[0].icon() == QMessageBox.Icon.Warning
    assert task.error


# -- import --------------------------------------------------------------------------


def write_workbook(path: Path, department: str) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["资产编号", "设备名称", "使用科室", "原值", "备注"])
    sheet.append(["EQ-200001", "新输液泵", department, 1200, "ok"])
    sheet.append(["EQ-200002", "新监护仪", department, -5, "bad price"])
    sheet.append(["EQ-200003", "新呼吸机", department, 98000, ""])
    sheet.append(["EQ-200004", "新除颤仪", department, 56000, ""])
    book.save(path)
    return path


def test_import_shows_mapping_and_errors_then_imports_the_valid_rows(
    qtbot, repair, icu, add_devices, tmp_path, monkeypatch, synchronous
):
    add_devices(repair, icu, 30)
    window = main_window(qtbot, repair)
    page = window.show_list("device")
    qtbot.waitUntil(lambda: page.model.count == 30)
    open_file(monkeypatch, write_workbook(tmp_path / "devices.xlsx", "重症监护室"))

    def run(dialog: ImportDialog) -> int:
        dialog.choose_file()  # matches the columns and checks every row
        assert dialog.mapping() == {
            "资产编号": "asset_no",
            "设备名称": "name",
            "使用科室": "owner_dept",
            "原值": "price",
            "备注": None,
        }
        errors = dialog.errors_table
        assert errors.isVisibleTo(dialog) and errors.rowCount() == 1
        assert errors.item(0, 0).text() == "3"
        assert errors.item(0, 1).text().startswith("D")
        assert "4 rows checked: 3 ready to import, 1 with problems" in dialog.summary.text()
        assert not dialog.import_button.isEnabled()
        assert dialog.valid_button.isEnabled() and dialog.errors_button.isEnabled()
        dialog.import_valid()
        assert dialog.summary.text().startswith("3 created, 0 updated.")
        assert not dialog.valid_button.isEnabled()  # not the same rows twice
        return 0

    ExcelActions(window, Answers().on(ImportDialog, run))
    window.actions_.import_.trigger()
    qtbot.waitUntil(lambda: page.model.count == 33, timeout=5000)
    names = {
        r.values["name"]
        for r in repair.records.page("device", limit=100, actor=repair.actor).records
    }
    assert {"新输液泵", "新呼吸机", "新除颤仪"} <= names and "新监护仪" not in names


def test_changed_mapping_needs_a_new_check_and_error_workbook_is_saved(
    qtbot, repair, icu, tmp_path, monkeypatch, synchronous
):
    source = write_workbook(tmp_path / "devices.xlsx", "重症监护室")
    open_file(monkeypatch, source)
    dialog = ImportDialog(repair, repair.form("device"), run_dialog=ok)
    qtbot.addWidget(dialog)
    dialog.choose_file()
    dialog.set_mapping("原值", None)  # leave the bad prices out
    assert dialog.checked is None and not dialog.valid_button.isEnabled()
    assert "Check again" in dialog.summary.text()
    dialog.check()
    assert dialog.import_button.isEnabled() and not dialog.errors_table.isVisibleTo(dialog)
    dialog.set_mapping("原值", "price")
    dialog.check()
    target = tmp_path / "problems.xlsx"
    save_as(monkeypatch, target)
    dialog.save_error_workbook()
    assert target.exists() and "Error workbook saved to" in dialog.summary.text()
    dialog.import_all()  # all-or-nothing refuses: still one bad row
    assert dialog.result_ is None
    assert repair.records.count("device", actor=repair.actor) == 0


def test_template_is_saved_with_the_header_row(qtbot, repair, tmp_path, monkeypatch):
    window = main_window(qtbot, repair)
    actions = ExcelActions(window, Answers())
    target = tmp_path / "template"
    save_as(monkeypatch, target)
    written = actions.template("device")
    assert written == tmp_path / "template.xlsx"
    header = [str(cell) for cell in sheet_rows(written)[0] if cell]
    assert any("资产编号" in text for text in header)
    assert any("设备名称" in text for text in header)
    assert "Template saved" in window.statusBar().currentMessage()


# -- permissions and the runner ----------------------------------------------------------


def test_actions_follow_the_policy(qtbot, handle, icu, settings):
    engineer = add_user(handle, "chen.jing", "陈静", icu, ENGINEER)
    window = main_window(qtbot, services_for(handle, "equipment_repair", engineer, settings))
    ExcelActions(window, Answers())
    actions = window.actions_
    window.show_list("device")
    assert actions.export.isEnabled() and actions.import_.isEnabled()
    window.show_list("request")
    assert actions.export.isEnabled() and not actions.import_.isEnabled()
    assert not actions.template.isEnabled()
    clerk = add_user(handle, "li.na", "李娜", icu, CLERK)
    clerk_window = main_window(qtbot, services_for(handle, "equipment_repair", clerk, settings))
    ExcelActions(clerk_window, Answers())
    assert not clerk_window.actions_.export.isEnabled()
    assert not clerk_window.actions_.import_.isEnabled()


def counting(total: int, fail_at: int | None = None):
    for done in range(total):
        if done == fail_at:
            raise ExcelError("the file is broken")
        yield Progress(done, total, "checking")
    return "finished"


def test_long_task_reports_result_on_the_worker(qtbot):
    task = LongTask(counting(50), "Work")
    with qtbot.waitSignal(task.succeeded, timeout=5000) as signal:
        task.start()
    assert signal.args == ["finished"] and task.outcome == "succeeded"
    assert not task.progress_dialog.isVisible()


def test_long_task_shows_the_error_message(qtbot):
    answers = Answers().on(QMessageBox, ok)
    task = LongTask(counting(10, fail_at=3), "Work", run_dialog=answers, synchronous=True)
    task.start()
    assert task.outcome == "failed" and task.error == "the file is broken"
    assert answers.of(QMessageBox)[0].text() == "the file is broken"


def cancel_button(task: LongTask) -> QPushButton:
    return task.progress_dialog.findChild(QPushButton)


def test_long_task_cancel_closes_the_generator(qtbot):
    closed: list[bool] = []

    def steps():
        try:
            yield from counting(100)
        finally:
            closed.append(True)

    task = LongTask(steps(), "Work", synchronous=True)
    task.progressed.connect(lambda step: step.done == 5 and cancel_button(task).click())
    task.start()
    assert task.outcome == "cancelled" and closed == [True]


def test_an_export_from_the_dialog_is_audited(
    qtbot, repair, icu, add_devices, tmp_path, synchronous
):
    """Issue #11 §3: the runtime's export writes the same audit row as the CLI's."""
    import json

    import sqlalchemy as sa

    from runtime.store.schema import audit_table

    add_devices(repair, icu, 3)
    page = main_window(qtbot, repair).show_list("device")
    answers = Answers().on(QMessageBox, ok)
    dialog = ExportDialog(
        repair, page.form, page.model.query, page.model.column_keys(), run_dialog=answers
    )
    qtbot.addWidget(dialog)
    target = tmp_path / "devices.xlsx"
    dialog.path_edit.setText(str(target))
    dialog.export()
    assert dialog.result_ is not None and target.exists()
    with repair.records.workspace.reader() as connection:
        rows = (
            connection.execute(sa.select(audit_table).where(audit_table.c.action == "export"))
            .mappings()
            .all()
        )
    assert len(rows) == 1
    assert rows[0]["username"] == repair.actor.username and rows[0]["form"] == "device"
    details = json.loads(rows[0]["details"])
    assert details["rows"] == 3 and details["file"] == str(target)


def test_the_import_picker_offers_excel_unicode_text_files(qtbot, repair, monkeypatch):
    """Excel's "Unicode Text" (.txt, tab-separated UTF-16) and .tsv files are listed,
    not only behind "All files"."""
    offered: list[str] = []

    def pick(_parent, _caption, _folder="", filters=""):
        offered.append(filters)
        return None  # the user cancels

    monkeypatch.setattr(file_dialogs, "open_file", pick)
    dialog = ImportDialog(repair, repair.form("device"), run_dialog=ok)
    qtbot.addWidget(dialog)
    dialog.choose_file()
    first_filter = offered[0].split(";;")[0]
    assert all(f"*.{kind}" in first_filter for kind in ("xlsx", "csv", "tsv", "txt"))
