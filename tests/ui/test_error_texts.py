"""The runtime's error texts never show a database error's SQL, parameters or values."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

from runtime.ui.error_dialog import describe_start_error
from runtime.ui.long_task import error_text

SECRET = "SECRET-Zhang-San"


def _driver_error() -> sa.exc.OperationalError:
    original = sqlite3.OperationalError("attempt to write a readonly database")
    return sa.exc.OperationalError("INSERT INTO patients (name) VALUES (?)", (SECRET,), original)


def _clean(text: str) -> str:
    assert "\n" not in text and SECRET not in text
    for word in ("INSERT", "[SQL", "Background", "parameters"):
        assert word not in text
    return text


def test_a_failed_task_shows_a_plain_sentence():
    assert "read-only" in _clean(error_text(_driver_error()))


def test_a_wrapped_database_error_shows_a_plain_sentence():
    try:
        try:
            raise _driver_error()
        except sa.exc.OperationalError as error:
            raise RuntimeError(str(error)) from error
    except RuntimeError as wrapped:
        assert "read-only" in _clean(error_text(wrapped))


def test_a_start_error_shows_a_plain_sentence():
    described = describe_start_error(_driver_error())
    assert "read-only" in _clean(described.message)
