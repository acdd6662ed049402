"""The UI language: English and Simplified Chinese, chosen by env, setting or menu."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel

from resources.i18n import SETTING, current_language, load_strings
from runtime.api import open_workspace
from runtime.services.accounts import AccountService
from runtime.ui import i18n
from runtime.ui.login_dialog import LoginDialog
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


def test_every_runtime_string_has_a_chinese_translation():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "runtime" / "ui"
    names = ["app", "menus", "i18n", "error_dialog", "login_dialog", "first_run_dialog"]
    names += ["password_dialog", "lock_screen", "upgrade_dialog"]
    files = [root / f"{name}.py" for name in names] + sorted((root / "admin").glob("*.py"))
    strings = load_strings("zh_CN")
    missing = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr":
                text = node.args[0].value if isinstance(node.args[0], ast.Constant) else None
                if text is not None and text not in strings:
                    missing.append(f"{path.name}: {text}")
    assert missing == []


def test_a_chinese_font_is_available():
    assert any("CJK" in family for family in QFontDatabase.families())
