"""A SQLite workspace file with two names (hard links) is refused: each name would
get its own -wal file, and SQLite can lose data when the two are used together."""

from __future__ import annotations

import os

import pytest

from runtime.store.engine import WorkspaceError
from runtime.store.workspace import Workspace


def test_a_hard_linked_database_is_refused(tmp_path):
    first = tmp_path / "workspace.sqlite"
    Workspace.open(f"sqlite:///{first}").dispose()
    second = tmp_path / "copy.sqlite"
    os.link(first, second)
    for name in (first, second):
        with pytest.raises(WorkspaceError, match="has 2 names"):
            Workspace.open(f"sqlite:///{name}")
    second.unlink()
    Workspace.open(f"sqlite:///{first}").dispose()
