"""The runtime's UI language, on top of the shared JSON translator in ``resources``.

Strings are English source text translated through ``resources/translations``;
the choice is saved in ``QSettings("Formwright", "Runtime")`` and
``FORMWRIGHT_LANG`` overrides it (see :func:`resources.i18n.preferred_language`).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from resources.i18n import (
    LANGUAGES,
    SETTING,
    current_language,
    install_language,
    preferred_language,
)

CONTEXT = "Runtime"


def tr(text: str, disambiguation: str | None = None) -> str:
    """Translate runtime UI text (English source) into the current language;
    ``disambiguation`` tells apart one English word with two meanings."""
    return QCoreApplication.translate(CONTEXT, text, disambiguation)


def runtime_settings() -> QSettings:
    return QSettings("Formwright", "Runtime")


def start_language(settings: QSettings | None = None) -> str:
    """Install the preferred language once at start; returns its code."""
    return install_language(preferred_language(settings or runtime_settings()))


def choose_language(language: str, settings: QSettings | None = None) -> str:
    """Save the user's choice and install it now."""
    (settings or runtime_settings()).setValue(SETTING, language)
    return install_language(language)


def language_menu(parent: QWidget, on_change: Callable[[str], None]) -> QMenu:
    """ "Language" with one checkable entry per shipped language."""
    menu = QMenu(tr("Language"), parent)
    group = QActionGroup(menu)
    group.setExclusive(True)
    for code, name in LANGUAGES.items():
        action = QAction(name, menu, checkable=True)
        action.setData(code)
        action.setChecked(code == current_language())
        action.triggered.connect(lambda _checked=False, code=code: on_change(code))
        group.addAction(action)
        menu.addAction(action)
    return menu


__all__ = [
    "LANGUAGES",
    "choose_language",
    "current_language",
    "language_menu",
    "runtime_settings",
    "start_language",
    "tr",
]
