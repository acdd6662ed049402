"""The UI language: English and Simplified Chinese, chosen by env, setting or menu."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel

from resources.i18n import SETTING, current_language, install_language, load_strings
from runtime.api import open_workspace
from runtime.services.accounts.service import AccountService
from runtime.store.query import OPERATOR_LABELS
from runtime.ui import i18n
from runtime.ui.excel_export_dialog import FILE_TYPES
from runtime.ui.excel_import_dialog import OPEN_TYPES
from runtime.ui.history import ACTION_CONTEXT, ACTION_TEXT, EMPTY
from runtime.ui.login_dialog import LoginDialog
from runtime.ui.main_window import MainWindow
from runtime.ui.record_source import SYSTEM_COLUMNS
from runtime.ui.record_window import RecordWindow
from tests.ui.test_app_support import (
    ADMIN,
    ADMIN_PASSWORD,
    Answers,
    close_windows,
    db,
    english,
    fast_hashing,
    log_in,
    ready_db,
    started,
)

__all__ = ["close_windows", "db", "english", "fast_hashing", "ready_db"]  # fixtures


def test_formwright_lang_selects_chinese(qtbot, monkeypatch, ready_db):
    monkeypatch.setenv("FORMWRIGHT_LANG", "zh_CN")
    assert i18n.start_language() == "zh_CN"
    with open_workspace(ready_db) as handle:
        dialog = LoginDialog(AccountService(handle.workspace))
        qtbot.addWidget(dialog)
        texts = [label.text() for label in dialog.findChildren(QLabel)]
        assert "用户名" in texts and "密码" in texts
        assert dialog.windowTitle() == "登录 — Formwright"
        dialog.username.setText(ADMIN)
        dialog.password.setText("wrong")
        dialog.try_login()
        assert dialog.message.text() == "用户名或密码错误。"


def test_the_saved_choice_is_used_without_the_variable(monkeypatch):
    monkeypatch.delenv("FORMWRIGHT_LANG")
    i18n.runtime_settings().setValue(SETTING, "zh_CN")
    assert i18n.start_language() == "zh_CN"
    i18n.runtime_settings().setValue(SETTING, "en")
    assert i18n.start_language() == "en"


def test_the_language_menu_switches_saves_and_reopens_the_window(qtbot, monkeypatch, ready_db):
    monkeypatch.delenv("FORMWRIGHT_LANG")
    i18n.runtime_settings().setValue(SETTING, "en")
    app = started(qtbot, ready_db, Answers().on(LoginDialog, log_in(ADMIN, ADMIN_PASSWORD)))
    first = app.main_window
    view = next(a.menu() for a in first.menuBar().actions() if a.text() == "&View")
    language = next(a.menu() for a in view.actions() if a.menu() and a.text() == "Language")
    chinese = next(a for a in language.actions() if a.data() == "zh_CN")
    chinese.trigger()
    assert current_language() == "zh_CN"
    assert i18n.runtime_settings().value(SETTING) == "zh_CN"
    assert app.main_window is not first and app.session.username == ADMIN
    menus = [a.text() for a in app.main_window.menuBar().actions()]
    assert "管理(&A)" in menus


#: Calls whose first argument is translatable source text.
TRANSLATED_CALLS = {"tr", "QT_TR_NOOP"}


def _source_texts(path: Path) -> list[str]:
    """Constant first arguments of ``tr(…)``, ``self.tr(…)`` and ``QT_TR_NOOP(…)``
    (with their disambiguation, as the JSON keys them)."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        first = node.args[0]
        if name in TRANSLATED_CALLS and isinstance(first, ast.Constant):
            texts.append(first.value)
            second = node.args[1] if len(node.args) > 1 else None
            if isinstance(second, ast.Constant) and isinstance(second.value, str):
                texts.append(f"{first.value}|{second.value}")
    return texts


#: Where translatable text lives: the UI, the field editors, and the Qt-free core's
#: messages (``resources.messages.tr``).
TRANSLATED_SOURCES = [
    "runtime/ui",
    "widgets/editors",
    "widgets/types",
    "widgets/base.py",
    "widgets/protected_files.py",
    "runtime/services",
    "runtime/store",
    "runtime/package.py",
    "designer",
    "runtime/spec",
]


def test_every_runtime_string_has_a_chinese_translation():
    """Every string the runtime UI, the field editors, the services, the spec checks
    and the designer translate is in zh_CN.json."""
    root = Path(__file__).resolve().parents[2]
    files = []
    for source in map(root.joinpath, TRANSLATED_SOURCES):
        files += sorted(source.rglob("*.py")) if source.is_dir() else [source]
    strings = load_strings("zh_CN")
    missing = [
        f"{path.relative_to(root)}: {text}"
        for path in files
        for text in _source_texts(path)
        if text not in strings
    ]
    assert missing == []


def test_tables_shown_through_tr_are_translated():
    """Module-level tables the UI passes to ``tr`` at the point of display."""
    tables = [*SYSTEM_COLUMNS.values(), *OPERATOR_LABELS.values(), EMPTY]
    tables += [f"{text}|{ACTION_CONTEXT}" for text in ACTION_TEXT.values()]
    tables += [FILE_TYPES, OPEN_TYPES]
    strings = load_strings("zh_CN")
    assert [text for text in tables if text not in strings] == []


def test_a_chinese_font_is_available():
    assert any("CJK" in family for family in QFontDatabase.families())


@pytest.fixture
def chinese() -> Iterator[None]:
    """The Chinese UI for one test, English again afterwards."""
    install_language("zh_CN")
    yield
    install_language("en")


def test_the_everyday_windows_speak_chinese(qtbot, chinese, repair, icu, add_devices):
    add_devices(repair, icu, 3)
    window = MainWindow(repair)
    qtbot.addWidget(window)
    window.show()
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus == ["文件(&F)", "记录(&R)", "视图(&V)", "账户(&U)"]
    page = window.current_page()
    assert page.new_action.text() == "新建"
    assert page.search_box.placeholderText() == "搜索…"
    assert page.columns_menu.title() == "列"
    qtbot.waitUntil(lambda: page.status.text() == "3 条记录")
    record = RecordWindow(repair, repair.form("device"))
    qtbot.addWidget(record)
    assert record.save_button.text() == "保存"
    assert record.windowTitle().startswith("新建 — ")
    assert [record.tabs.tabText(i) for i in range(2)] == ["表单", "修改记录"]


def test_qt_own_dialog_texts_follow_the_language(qtbot, chinese):
    """Qt's own words (file dialogs, standard buttons) are Chinese in the Chinese UI,
    and English again after switching back."""
    from PySide6.QtWidgets import QDialogButtonBox

    from widgets.editors.file_dialogs import FileDialog

    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(buttons)
    assert buttons.button(QDialogButtonBox.StandardButton.Cancel).text() == "取消"
    dialog = FileDialog(None, "x", "", "")
    qtbot.addWidget(dialog)
    labels = [label.text() for label in dialog.findChildren(QLabel)]
    assert "文件名称(&N)：" in labels  # Qt's catalogue leaves a few words ("Look in") English
    install_language("en")
    english_buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(english_buttons)
    assert english_buttons.button(QDialogButtonBox.StandardButton.Cancel).text() == "Cancel"
