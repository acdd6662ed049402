"""Screenshots of the windows issue #11 (trust) changed, in English and Chinese.

    .venv/bin/python tools/trust_screenshots.py [output folder]

Offscreen, real widgets, real key events; every workspace is a temporary SQLite
file. Writes to docs/screenshots/ by default:

- ``typing_date_refused``: a form after typing an ambiguous date, a time below
  its minimum and a datetime in another notation (shown normalized);
- ``subtable_live_subtotal``: the repair request's parts with decimals typed and
  the subtotal and total computed before any save;
- ``import_unfinished``: the import dialog after an import was killed (kill -9);
- ``designer_grant_warning``: the designer's problems panel warning that a role
  sees a formula over a field it hides;
- ``logged_out_message``: the login after the account was disabled while in use.

Each also as ``*_zh.png`` with the Simplified Chinese translation installed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["FORMWRIGHT_LANG"] = "en"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(  # the import's worker process imports ROOT
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
)

from PySide6.QtCore import QRect, QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog, QPlainTextEdit, QWidget  # noqa: E402

from designer.document import DesignerDocument  # noqa: E402
from designer.files import RecoveryStore  # noqa: E402
from designer.main_window import DesignerWindow  # noqa: E402
from resources.i18n import install_language  # noqa: E402
from runtime.api import open_workspace  # noqa: E402
from runtime.services.accounts.service import AccountService  # noqa: E402
from runtime.services.accounts.session_guard import session_guard  # noqa: E402
from runtime.services.actor import SYSTEM  # noqa: E402
from runtime.spec.models import FormSpec  # noqa: E402
from runtime.ui.app import RuntimeApp  # noqa: E402
from runtime.ui.excel_import_dialog import ImportDialog  # noqa: E402
from runtime.ui.form_view import RecordFormView  # noqa: E402
from runtime.ui.login_dialog import LoginDialog  # noqa: E402
from runtime.ui.record_window import RecordWindow  # noqa: E402
from runtime.ui.services import UiServices  # noqa: E402
from runtime.ui.view_settings import InMemoryViewSettings  # noqa: E402
from tests.services.import_support import (  # noqa: E402
    FORM,
    import_and_kill,
    visit_service,
    write_visits,
)
from tests.services.leak_world import leak_app  # noqa: E402
from tools.screenshots import add_people, settle  # noqa: E402
from widgets.editors.base import FieldEditor  # noqa: E402

SAMPLE = ROOT / "sample_apps" / "equipment_repair"
LANGUAGES = {"en": "", "zh_CN": "_zh"}
ADMIN, ADMIN_PASSWORD = "wang.hong", "Ward-7-admin"
NURSE, NURSE_PASSWORD = "li.na", "Nurse-pass-1"
ACCEPTED = QDialog.DialogCode.Accepted.value
REJECTED = QDialog.DialogCode.Rejected.value


def save(app: QApplication, widget: QWidget, path: Path, area: QRect | None = None) -> None:
    widget.show()
    settle(app, 0.3)
    (widget.grab(area) if area is not None else widget.grab()).save(str(path))
    print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def focus(app: QApplication, target: QWidget) -> None:
    target.window().activateWindow()
    target.setFocus()
    for _ in range(50):
        if target.hasFocus():
            return
        settle(app, 0.02)
    raise SystemExit(f"could not focus {target!r}")


def key_clicks(widget: QWidget, text: str) -> None:
    """Real key events, also for characters without a key of their own (Chinese)."""
    for char in text:
        if char.isascii():
            QTest.keyClicks(widget, char)
        else:
            click = QTest.KeyAction.Click
            QTest.sendKeyEvent(
                click, widget, Qt.Key.Key_unknown, char, Qt.KeyboardModifier.NoModifier
            )


def type_into(app: QApplication, editor: QWidget, text: str) -> None:
    """Focus the editor, type with real key events, and leave it with Tab."""
    target = editor.focusProxy() or editor
    focus(app, target)
    key_clicks(target, text)
    QTest.keyClick(target, Qt.Key.Key_Tab)


def open_cell(table) -> FieldEditor:
    """The cell editor open in a table (closed ones are hidden until deleted)."""
    (editor,) = [e for e in table.viewport().findChildren(FieldEditor) if e.isVisible()]
    return editor


def each_language(shot: Callable[[str], None]) -> None:
    """Run ``shot(suffix)`` once per language, with that language installed."""
    try:
        for language, suffix in LANGUAGES.items():
            install_language(language)
            shot(suffix)
    finally:
        install_language("en")


# 1. typing_date_refused ------------------------------------------------------


def dose_form(chinese: bool) -> FormSpec:
    def label(english: str, zh: str) -> str:
        return zh if chinese else english

    return FormSpec.model_validate(
        {
            "key": "dose",
            "title": label("Dose", "给药"),
            "fields": [
                {
                    "key": "patient",
                    "type": "text",
                    "label": label("Patient", "患者"),
                    "width": "1/2",
                },
                {
                    "key": "born",
                    "type": "date",
                    "label": label("Birth date", "出生日期"),
                    "width": "1/2",
                },
                {
                    "key": "at",
                    "type": "time",
                    "label": label("Dose time (from 08:00)", "给药时间（08:00 起）"),
                    "min": "08:00",
                    "width": "1/2",
                },
                {
                    "key": "admitted",
                    "type": "datetime",
                    "label": label("Admitted", "入院时间"),
                    "width": "1/2",
                },
            ],
        }
    )


def typing_shot(app: QApplication, out: Path) -> None:
    def shot(suffix: str) -> None:
        view = RecordFormView(dose_form(bool(suffix)))
        view.resize(760, 190)
        view.show()
        cells = view.cells
        type_into(app, cells["patient"].editor, "王芳" if suffix else "Wang Fang")
        type_into(app, cells["born"].editor, "5/10/2024")
        type_into(app, cells["at"].editor, "0730")
        type_into(app, cells["admitted"].editor, "2024/5/11 8:15")
        assert "2024-05-11 08:15" in cells["admitted"].editor.focusProxy().text()
        assert view.error_text("born") and view.error_text("at"), view.typing_problems()
        save(app, view, out / f"typing_date_refused{suffix}.png")
        view.mark_clean()
        view.close()

    each_language(shot)


# 2. subtable_live_subtotal ---------------------------------------------------


def type_in_cell(app: QApplication, parts, row: int, column: int, text: str) -> None:
    """Select the cell and type: the first key opens the cell's editor."""
    focus(app, parts.table)
    parts.table.setCurrentIndex(parts.model.index(row, column))
    key_clicks(parts.table, text[0])
    line = open_cell(parts.table).focusProxy()
    key_clicks(line, text[1:])
    QTest.keyClick(line, Qt.Key.Key_Return)
    settle(app, 0.1)


def subtable_shot(app: QApplication, folder: Path, out: Path) -> None:
    handle = open_workspace(f"sqlite:///{folder / 'repair.sqlite'}")
    handle.upgrade(SAMPLE)
    actor = add_people(handle)[0]

    def shot(suffix: str) -> None:
        services = UiServices(handle.app("equipment_repair").service, actor)
        window = RecordWindow(services, services.form("request"))
        window.resize(900, 900)
        window.show()
        settle(app, 0.2)
        parts = window.view.cells["parts"].editor
        names = ["阀门", "软管"] if suffix else ["Valve", "Hose"]
        for row, (part, quantity, price) in enumerate(
            [(names[0], "", "120.50"), (names[1], "3", "15.25")]
        ):
            parts.add_row()
            type_in_cell(app, parts, row, 0, part)
            if quantity:
                type_in_cell(app, parts, row, 1, quantity)
            type_in_cell(app, parts, row, 2, price)
        type_into(app, window.view.cells["labour"].editor, "80.00")
        settle(app, 0.5)
        total = window.view.values()["total_cost"]
        assert str(total) == "246.25", total  # computed live: nothing is saved
        assert [str(row["unit_price"]) for row in parts.model.rows] == ["120.50", "15.25"]
        assert parts.model.data(parts.model.index(1, 3)) == "45.75"
        # The parts table, the labour cost and the total: from the parts' label down.
        label = window.view.cells["parts"].label
        top = label.mapTo(window, label.rect().topLeft()).y()
        total_cell = window.view.cells["total_cost"].editor
        bottom = total_cell.mapTo(window, total_cell.rect().bottomLeft()).y()
        right = parts.mapTo(window, parts.rect().topRight()).x()
        save(app, window, out / f"subtable_live_subtotal{suffix}.png",
             QRect(0, top - 8, right + 12, bottom - top + 20))  # fmt: skip
        window.view.mark_clean()
        window.close()

    each_language(shot)
    handle.close()


# 3. import_unfinished --------------------------------------------------------


def import_shot(app: QApplication, folder: Path, out: Path) -> None:
    """A real import of 3,000 rows in another process, killed with kill -9 after 100."""
    url = f"sqlite:///{folder / 'clinic.sqlite'}"
    path = write_visits(folder / "visits.xlsx", 3000)
    import_and_kill(url, path)
    service = visit_service(url)
    services = UiServices(service, SYSTEM, view_settings=InMemoryViewSettings())

    def shot(suffix: str) -> None:
        dialog = ImportDialog(services, services.form(FORM))
        dialog.resize(760, 480)
        save(app, dialog, out / f"import_unfinished{suffix}.png")
        assert dialog.banner.isVisible()
        dialog.close()

    each_language(shot)
    service.workspace.dispose()


# 4. designer_grant_warning ---------------------------------------------------


def designer_shot(app: QApplication, folder: Path, out: Path) -> None:
    package = folder / "leak"
    package.mkdir()
    (package / "app.json").write_text(json.dumps(leak_app()), encoding="utf-8")

    def shot(suffix: str) -> None:
        settings = QSettings(str(folder / "designer.ini"), QSettings.Format.IniFormat)
        document = DesignerDocument.open(package)
        recovery = RecoveryStore(folder / f"recovery{suffix}")
        window = DesignerWindow(document=document, recovery=recovery, settings=settings)
        window.resize(1000, 640)
        window.show()
        window.size_docks()
        window.canvas.show_form("staff")
        window.canvas.build_all()
        window.canvas.select(["bonus"])
        for _ in range(50):
            if window.problems is not None:
                break
            settle(app, 0.05)
        assert window.problems is not None and window.problems.count() == 1
        window.problems.setCurrentRow(0)
        save(app, window, out / f"designer_grant_warning{suffix}.png")
        document.mark_saved()
        window.close()

    each_language(shot)


# 5. logged_out_message -------------------------------------------------------


def logged_out_shot(out: Path) -> None:
    for language, suffix in LANGUAGES.items():
        # The login names the workspace file: a short temporary folder of its own.
        with tempfile.TemporaryDirectory(prefix="ward") as folder:
            url = f"sqlite:///{Path(folder) / 'workspace.sqlite'}"
            with open_workspace(url) as handle:
                accounts = AccountService(handle.workspace)
                accounts.create_user(ADMIN, "王红 护士长", password=ADMIN_PASSWORD, is_admin=True)
                accounts.create_user(NURSE, "李娜", password=NURSE_PASSWORD)
                handle.upgrade(SAMPLE)
                accounts.assign_role(NURSE, "equipment_repair", "ward_clerk")
            os.environ["FORMWRIGHT_LANG"] = language
            try:
                shoot_logged_out(url, out / f"logged_out_message{suffix}.png")
            finally:
                os.environ["FORMWRIGHT_LANG"] = "en"
                install_language("en")


def shoot_logged_out(url: str, path: Path) -> None:
    app = QApplication.instance()
    seen: list[str] = []

    def first_login(dialog) -> int:
        dialog.username.setText(NURSE)
        dialog.password.setText(NURSE_PASSWORD)
        return ACCEPTED if dialog.try_login() else REJECTED

    def at_login(dialog) -> int:
        seen.append(dialog.message.text())
        dialog.username.setText(NURSE)
        dialog.password.setFocus()
        save(app, dialog, path)
        return REJECTED

    runtime = RuntimeApp(SAMPLE, url)
    runtime.run_dialog = first_login  # type: ignore[method-assign]
    if not runtime.start():
        raise SystemExit("the runtime did not start")
    session_guard(runtime.workspace).ttl = 0.0  # another process's change, seen at once
    window = runtime.main_window.show_list("request").new_record()
    window.show()
    fault = window.view.cells["fault"].editor.findChild(QPlainTextEdit)
    focus(app, fault)
    key_clicks(fault, "输液泵报警")
    with open_workspace(url) as handle:  # an administrator, in another workspace session
        accounts = AccountService(handle.workspace)
        admin = accounts.login(ADMIN, ADMIN_PASSWORD).actor()
        accounts.disable_user(NURSE, actor=admin)
    runtime.run_dialog = lambda dialog: (  # type: ignore[method-assign]
        at_login(dialog) if isinstance(dialog, LoginDialog) else REJECTED
    )
    window.save_button.click()
    settle(app, 0.5)
    assert seen and seen[0], "the login did not show"
    runtime.shutdown()


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        typing_shot(app, out)
        subtable_shot(app, folder, out)
        import_shot(app, folder, out)
        designer_shot(app, folder, out)
        logged_out_shot(out)


if __name__ == "__main__":
    main()
