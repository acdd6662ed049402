"""The UI language: a QTranslator backed by a JSON table of strings.

``lrelease`` is not always installed, so translations are plain JSON
(``resources/translations/<lang>.json``: English source text → translation) read by
:class:`JsonTranslator`. The language comes from ``FORMWRIGHT_LANG`` (``zh_CN`` or
``en``), else a saved setting, else the system locale.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator

from resources.messages import load_strings, use_language

LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
SETTING = "ui/language"

_installed: JsonTranslator | None = None
#: Qt's own catalogue (file dialogs, standard buttons) for the language, if it ships one.
_qt_installed: QTranslator | None = None


class JsonTranslator(QTranslator):
    """Translates by source text whatever the context (one table per language).

    An English word with two meanings has a key ``"source|disambiguation"``
    ("Created|history action"), used when the caller passes that disambiguation.
    """

    def __init__(self, strings: dict[str, str], language: str) -> None:
        super().__init__()
        self.strings = strings
        self.language = language

    def translate(
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        if disambiguation and f"{source}|{disambiguation}" in self.strings:
            return self.strings[f"{source}|{disambiguation}"]
        return self.strings.get(source)

    def isEmpty(self) -> bool:
        return not self.strings


def preferred_language(settings: QSettings | None = None) -> str:
    """``FORMWRIGHT_LANG``, else the saved choice, else the system locale."""
    chosen = os.environ.get("FORMWRIGHT_LANG") or ""
    if not chosen and settings is not None:
        chosen = str(settings.value(SETTING, "") or "")
    chosen = chosen or QLocale.system().name()
    return "zh_CN" if chosen.lower().startswith("zh") else "en"


def install_language(language: str) -> str:
    """Install the translator of ``language`` in the running application, and for
    the messages of the Qt-free core (``resources.messages``)."""
    global _installed, _qt_installed
    app = QCoreApplication.instance()
    for previous in (_installed, _qt_installed):
        if previous is not None and app is not None:
            app.removeTranslator(previous)
    strings = load_strings(language)
    use_language(language, strings)
    _installed = JsonTranslator(strings, language)
    _qt_installed = _qt_catalogue(language)
    if app is not None:
        for translator in (_qt_installed, _installed):
            if translator is not None:
                app.installTranslator(translator)
    return language


def _qt_catalogue(language: str) -> QTranslator | None:
    """Qt's translation of its own widgets (``qtbase_<lang>.qm``, shipped with
    PySide6): the file dialog's "Look in", the standard buttons' "Cancel"."""
    if language == "en":
        return None
    translator = QTranslator()
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    return translator if translator.load(f"qtbase_{language}", folder) else None


def current_language() -> str:
    return _installed.language if _installed is not None else "en"


__all__ = [
    "LANGUAGES",
    "SETTING",
    "JsonTranslator",
    "current_language",
    "install_language",
    "load_strings",
    "preferred_language",
    "tr",
]


def tr(text: str, context: str = "Designer") -> str:
    """Translate ``text`` outside a QObject (module-level tables, helpers)."""
    return QCoreApplication.translate(context, text)
