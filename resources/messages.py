"""Translated messages for the Qt-free core (field checks, services, upgrades).

The services and field types say what went wrong in a sentence the user reads: under
a field, in an error dialog, in an import's problem list. They mark those sentences
with :func:`tr` as the UI does, and read the same table
(``resources/translations/<lang>.json``, English source text → translation), without
Qt: the CLI and the services run without a QApplication. ``resources.i18n`` switches
this table whenever the UI's language changes; the CLI stays English unless
``FORMWRIGHT_LANG`` asks otherwise.

A message with values has named placeholders filled after translation, so the
translated sentence may put them in its own order::

    tr("must be at least {minimum}").format(minimum=spec.min)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TRANSLATIONS = Path(__file__).resolve().parent / "translations"

_strings: dict[str, str] = {}
_language = "en"
_thread = threading.local()  # .english: this thread keeps the source text


def load_strings(language: str) -> dict[str, str]:
    """The translation table of ``language`` (empty for English or an unknown one)."""
    path = TRANSLATIONS / f"{language}.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def use_language(language: str, strings: dict[str, str] | None = None) -> None:
    """Translate messages into ``language`` from now on (its table unless given)."""
    global _strings, _language
    _strings = load_strings(language) if strings is None else strings
    _language = language


def message_language() -> str:
    return _language


def tr(text: str, disambiguation: str | None = None) -> str:
    """``text`` (English source) in the current language; itself when untranslated.

    ``disambiguation`` tells apart one English word with two meanings; the table
    keys it as ``"text|disambiguation"``.
    """
    if not _strings or getattr(_thread, "english", False):
        return text
    if disambiguation:
        found = _strings.get(f"{text}|{disambiguation}")
        if found is not None:
            return found
    return _strings.get(text, text)


@contextmanager
def untranslated() -> Iterator[None]:
    """English source text from :func:`tr` in this thread while inside: for text
    that becomes stored data (a value converted through its display text), which
    must not depend on the language of whoever ran the conversion."""
    previous = getattr(_thread, "english", False)
    _thread.english = True
    try:
        yield
    finally:
        _thread.english = previous
