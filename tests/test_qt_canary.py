"""PySide6 6.12 drops a reference to None on void calls and aborts CPython 3.11.

This canary fails (instead of crashing the whole suite later) if a PySide6 with
that bug is installed. See ../shared/ENVIRONMENT.md and the pin in pyproject.toml.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject


def test_void_calls_keep_the_none_refcount():
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(20_000):
        probe.setObjectName("x")
    after = sys.getrefcount(None)
    # Other threads may hold or drop a few references; 20,000 lost would be the bug.
    assert after >= before - 100


def test_the_installed_qt_is_the_pinned_one():
    """The project pins PySide6 and shiboken6 below 6.12 (pyproject.toml); what is
    installed must be within that pin, whichever package brought it."""
    import PySide6
    import shiboken6

    for module in (PySide6, shiboken6):
        major, minor = (int(part) for part in module.__version__.split(".")[:2])
        assert (6, 11) <= (major, minor) < (6, 12), f"{module.__name__} {module.__version__}"
