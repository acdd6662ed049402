"""The database connection the services hand to the stores.

Services open connections (``workspace.engine.begin()``, ``workspace.reader()``)
and pass them on; they name the type from here, so that only ``runtime.store``
imports SQLAlchemy (an import-linter contract checks it).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

__all__ = ["Connection"]
