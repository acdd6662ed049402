"""The record window: create, edit, delete, defaults, errors, conflicts, history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from runtime.services.records.service import NotFound
from runtime.ui.conflict_dialog import ConflictChoice, ConflictDialog
from runtime.ui.record_window import RecordWindow


def fill(window: RecordWindow, values: dict[str, Any]) -> None:
    """Type values into the form's editors as a user would (each edit is signalled)."""
    for key, value in values.items():
        editor = window.view.cells[key].editor
        editor.set_value(value)
        editor.value_changed.emit()


def open_window(qtbot, services, form: str, record_id: int | None = None) -> RecordWindow:
    window = RecordWindow(services, services.form(form), record_id)
    qtbot.addWidget(window)
    window.show()
    return window


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


DEVICE = {"asset_no": "EQ-0001", "name": "输液泵", "model": "BBraun", "price": Decimal("1200.50")}


@pytest.fixture
def device(repair, icu):
    return repair.records.create("device", {**DEVICE, "owner_dept": icu}, repair.actor)


def test_create_edit_and_delete_a_device(qtbot, repair, icu, monkeypatch):
    window = open_window(qtbot, repair, "device")
    assert window.view.values()["in_service"] is True  # the field's default
    fill(window, {**DEVICE, "owner_dept": icu})
    with qtbot.waitSignal(window.saved):
        click(qtbot, window.save_button)
    record = repair.records.page("device").records[0]
    assert record.values["name"] == "输液泵" and record.values["owner_dept"] == icu
    assert not window.isVisible()

    window = open_window(qtbot, repair, "device", record.id)
    assert window.view.values()["asset_no"] == "EQ-0001"
    fill(window, {"name": "注射泵"})
    click(qtbot, window.save_button)
    assert repair.records.get("device", record.id).values["name"] == "注射泵"

    window = open_window(qtbot, repair, "device", record.id)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.deleted):
        click(qtbot, window.delete_button)
    with pytest.raises(NotFound):
        repair.records.get("device", record.id)


def test_create_a_repair_request_with_defaults_and_a_serial(qtbot, repair, nurse, device):
    window = open_window(qtbot, repair, "request")
    values = window.view.values()
    assert values["reporter"] == nurse.user_id  # default_current
    assert values["urgency"] == "normal" and values["status"] == "open"
    fill(window, {"device": device.id, "reported_on": datetime(2024, 5, 6, 9, 30), "fault": "不亮"})
    assert window.save()
    saved = window.record
    assert saved.values["request_no"].startswith("BX-")
    assert saved.values["device"] == device.id and saved.values["reporter"] == nurse.user_id
    assert window.windowTitle().endswith(f"#{saved.id}")


def test_create_and_edit_an_adverse_event(qtbot, events, nurse, icu):
    window = open_window(qtbot, events, "event_report")
    assert window.view.values()["reporting_dept"] == icu
    fill(
        window,
        {
            "occurred_on": date(2024, 3, 1),
            "patient_name": "李娜",
            "category": "fall",
            "severity": "mild",
            "fall_factors": ["wet_floor"],
            "description": "夜间如厕时跌倒",
        },
    )
    assert window.save(), window.banner.text()
    record_id = window.record.id
    fill(window, {"severity": "moderate"})
    assert window.save()
    stored = events.records.get("event_report", record_id)
    assert stored.values["severity"] == "moderate" and stored.values["reporter"] == nurse.user_id


def test_save_and_new_starts_an_empty_form(qtbot, repair, icu):
    window = open_window(qtbot, repair, "device")
    fill(window, {**DEVICE, "owner_dept": icu})
    window.save_new_button.click()
    assert window.record is None and window.view.values()["name"] is None
    assert window.isVisible() and not window.is_dirty()
    assert repair.records.count("device") == 1


def test_validation_errors_show_next_to_the_fields(qtbot, repair):
    window = open_window(qtbot, repair, "device")
    fill(window, {"asset_no": "bad", "name": None})
    assert not window.save()
    assert window.view.error_text("name") == "is required"
    assert window.view.error_text("asset_no")
    assert window.view.error_text("owner_dept") == "is required"
    assert window.banner.isVisible() and window.isVisible()
    assert repair.records.count("device") == 0


def test_unsaved_changes_are_asked_about(qtbot, repair, icu, monkeypatch):
    window = open_window(qtbot, repair, "device")
    fill(window, {"name": "监护仪"})
    answers = [QMessageBox.StandardButton.Cancel]
    asked = []

    def question(*args, **kwargs):
        asked.append(args[2])
        return answers[0]

    monkeypatch.setattr(QMessageBox, "question", question)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.isVisible() and asked == ["Save your changes to this record?"]
    window.close()
    assert window.isVisible() and len(asked) == 2
    answers[0] = QMessageBox.StandardButton.Discard
    click(qtbot, window.cancel_button)
    assert not window.isVisible()
    assert repair.records.count("device") == 0


def test_unsaved_prompt_can_save(qtbot, repair, icu, monkeypatch):
    window = open_window(qtbot, repair, "device")
    fill(window, {**DEVICE, "owner_dept": icu})
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Save)
    window.reject()
    assert not window.isVisible() and repair.records.count("device") == 1


def test_a_clean_form_closes_without_asking(qtbot, repair, device, monkeypatch):
    window = open_window(qtbot, repair, "device", device.id)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked"))
    window.reject()
    assert not window.isVisible()


# -- conflicts ------------------------------------------------------------------


@pytest.fixture
def rival(handle, icu):
    """A second session (its own RecordService) of another user on the same workspace."""
    from tests.ui.conftest import add_user, services_for

    return services_for(handle, "equipment_repair", add_user(handle, "li.na", "李娜", icu))


def conflict_answer(monkeypatch, choice: ConflictChoice) -> list[ConflictDialog]:
    shown: list[ConflictDialog] = []

    def exec_(dialog: ConflictDialog) -> int:
        shown.append(dialog)
        dialog.choose(choice)
        return 1

    monkeypatch.setattr(ConflictDialog, "exec", exec_)
    return shown


def test_conflict_reload_and_reapply(qtbot, repair, rival, device, monkeypatch):
    window = open_window(qtbot, repair, "device", device.id)
    rival.records.update("device", device.id, {"name": "呼吸机", "model": "X1"}, 1, rival.actor)
    fill(window, {"name": "输液泵 B"})
    shown = conflict_answer(monkeypatch, ConflictChoice.RELOAD)
    assert not window.save()
    dialog = shown[0]
    assert "李娜" in dialog.findChild(type(window.banner)).text()
    assert dialog.table.rowCount() == 1
    row = [dialog.table.item(0, column).text() for column in range(3)]
    assert row == ["设备名称", "输液泵 B", "呼吸机"]
    values = window.view.values()
    assert values["name"] == "输液泵 B" and values["model"] == "X1"  # mine on top of theirs
    assert window.is_dirty() and window.record.version == 2
    assert repair.records.get("device", device.id).values["name"] == "呼吸机"  # not overwritten
    assert window.save()
    assert repair.records.get("device", device.id).values["name"] == "输液泵 B"


def test_conflict_keep_my_values_as_a_copy(qtbot, repair, rival, device, monkeypatch):
    window = open_window(qtbot, repair, "device", device.id)
    rival.records.update("device", device.id, {"price": Decimal(99)}, 1, rival.actor)
    fill(window, {"asset_no": "EQ-0002", "price": Decimal(5)})
    conflict_answer(monkeypatch, ConflictChoice.COPY)
    assert window.save()
    assert window.record.id != device.id
    assert window.record.values["asset_no"] == "EQ-0002"
    assert repair.records.get("device", device.id).values["price"] == Decimal("99.00")
    assert repair.records.count("device") == 2


def test_conflict_cancel_changes_nothing(qtbot, repair, rival, device, monkeypatch):
    window = open_window(qtbot, repair, "device", device.id)
    rival.records.update("device", device.id, {"name": "呼吸机"}, 1, rival.actor)
    fill(window, {"name": "我的"})
    conflict_answer(monkeypatch, ConflictChoice.CANCEL)
    assert not window.save()
    assert window.view.values()["name"] == "我的" and window.record.version == 1
    window.view.mark_clean()  # so closing at teardown asks nothing


# -- history and files ------------------------------------------------------------


def test_history_lists_who_changed_what(qtbot, repair, device):
    repair.records.update("device", device.id, {"name": "注射泵"}, 1, repair.actor)
    window = open_window(qtbot, repair, "device", device.id)
    table = window.history
    rows = [[table.item(r, c).text() for c in range(4)] for r in range(table.rowCount())]
    assert rows[0][1:] == ["张伟", "Changed", "设备名称: 输液泵 → 注射泵"]
    assert rows[-1][1:3] == ["张伟", "Created"]


def test_new_attachments_are_handed_to_save_files(qtbot, repair, device, tmp_path):
    stored: dict[str, bytes] = {}
    repair._save_files = stored.update
    picture = tmp_path / "broken.png"
    picture.write_bytes(b"\x89PNG fake")
    window = open_window(qtbot, repair, "request")
    fill(window, {"device": device.id, "reported_on": datetime(2024, 5, 6, 9, 0), "fault": "坏了"})
    window.view.cells["photos"].editor.add_files([picture])
    assert window.save(), window.banner.text()
    assert list(stored.values()) == [b"\x89PNG fake"]
    assert window.record.values["photos"][0]["name"] == "broken.png"
