"""The import dialog after an import was killed with kill -9: it shows the
unfinished import with Resume and Undo, refuses new imports meanwhile, and asks
before importing rows imported before."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from runtime.services.actor import SYSTEM
from runtime.ui.excel_import_dialog import ImportDialog
from runtime.ui.long_task import LongTask
from runtime.ui.services import UiServices
from runtime.ui.view_settings import InMemoryViewSettings
from tests.services.import_support import FORM, import_and_kill, visit_service, write_visits
from tests.ui.test_app_support import Answers
from widgets.editors import file_dialogs

ROWS = 3000
YES, NO = QMessageBox.StandardButton.Yes.value, QMessageBox.StandardButton.No.value


@pytest.fixture
def synchronous(monkeypatch):
    monkeypatch.setattr(LongTask, "synchronous", True)


@pytest.fixture
def killed(tmp_path):
    """An import of 3,000 visits killed with kill -9 mid-way, and the UI services."""
    url = f"sqlite:///{tmp_path / 'ws.sqlite'}"
    path = write_visits(tmp_path / "visits.xlsx", ROWS)
    done = import_and_kill(url, path)
    service = visit_service(url)
    services = UiServices(service, SYSTEM, view_settings=InMemoryViewSettings())
    yield services, path, done
    service.workspace.dispose()


def _dialog(qtbot, services, answers) -> ImportDialog:
    dialog = ImportDialog(services, services.form(FORM), run_dialog=answers)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_unfinished_import_is_shown_blocks_new_ones_and_resumes(
    qtbot, killed, tmp_path, monkeypatch, synchronous
):
    services, path, done = killed
    dialog = _dialog(qtbot, services, Answers())
    assert dialog.banner.isVisible()
    text = dialog.banner_text.text()
    assert "did not finish" in text and "'visits.xlsx'" in text
    assert f"{done:,} of 3,000 rows committed" in text and "by system" in text
    dialog.grab().save(str(tmp_path / "unfinished.png"))
    # a corrected copy is checked, but cannot be imported while the import is open
    edited = write_visits(tmp_path / "visits v2.xlsx", ROWS, edited=True)
    monkeypatch.setattr(file_dialogs, "open_file", lambda *a, **k: edited)
    dialog.choose_file()
    assert dialog.checked is not None and dialog.checked.ok
    assert not dialog.import_button.isEnabled()
    _click(qtbot, dialog.resume_button)  # the file it read, from where it stopped
    assert dialog.result_ is not None and dialog.result_.resumed_from == done
    assert dialog.summary.text().startswith(f"{ROWS - done:,} created, 0 updated.")
    assert not dialog.banner.isVisible() and dialog.path == path
    assert services.records.count(FORM) == ROWS


def test_undo_from_the_dialog_after_asking(qtbot, killed, synchronous):
    services, _path, done = killed
    asked: list[str] = []

    def answer(box: QMessageBox) -> int:
        asked.append(box.text())
        return NO if len(asked) == 1 else YES

    dialog = _dialog(qtbot, services, Answers().on(QMessageBox, answer).on(QMessageBox, answer))
    _click(qtbot, dialog.undo_button)  # "No": nothing happens
    assert dialog.banner.isVisible() and services.records.count(FORM) == done
    _click(qtbot, dialog.undo_button)
    assert "to the trash?" in asked[1] and "'visits.xlsx'" in asked[1]
    assert dialog.summary.text() == f"{done:,} records moved to the trash."
    assert not dialog.banner.isVisible() and services.records.count(FORM) == 0


def test_importing_the_same_file_again_asks_first(qtbot, tmp_path, monkeypatch, synchronous):
    service = visit_service(f"sqlite:///{tmp_path / 'ws.sqlite'}")
    services = UiServices(service, SYSTEM, view_settings=InMemoryViewSettings())
    path = write_visits(tmp_path / "visits.xlsx", 20)
    monkeypatch.setattr(file_dialogs, "open_file", lambda *a, **k: path)
    asked: list[str] = []

    def answer(box: QMessageBox) -> int:
        asked.append(box.text())
        return NO if len(asked) == 1 else YES

    dialog = _dialog(qtbot, services, Answers().on(QMessageBox, answer).on(QMessageBox, answer))
    dialog.choose_file()
    _click(qtbot, dialog.import_button)
    assert asked == [] and service.count(FORM) == 20  # the first time: no question
    dialog.choose_file()
    summary = dialog.summary.text()
    assert "'visits.xlsx' was already imported into 'visit'" in summary
    assert "20 rows of 'visits.xlsx' are identical to records already in 'visit'." in summary
    _click(qtbot, dialog.import_button)  # "No"
    assert "Import them anyway?" in asked[0] and service.count(FORM) == 20
    _click(qtbot, dialog.import_button)  # "Yes"
    assert service.count(FORM) == 40
    service.workspace.dispose()
