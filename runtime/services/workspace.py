"""The workspace as the screens hold it: the handle they pass to every service,
a password-free name for its database, and the time as the workspace stores it.

``Workspace`` is the store's handle, re-exported: a screen opens it
(``Workspace.open``), hands it to the services and disposes of it, and never
reaches into it (its engine, tables or SQL) itself.
"""

from __future__ import annotations

from runtime.store.audit import utc_now
from runtime.store.engine import describe_url
from runtime.store.workspace import Workspace

__all__ = ["Workspace", "describe_database", "utc_now"]


def describe_database(workspace: Workspace) -> str:
    """A short, password-free description of the workspace's database
    ("SQLite /path/workspace.sqlite", "PostgreSQL host:5432/name")."""
    return describe_url(workspace.engine.url.render_as_string(hide_password=True))
