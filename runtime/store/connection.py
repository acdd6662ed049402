"""The database connection the services hand to the stores.

Services open connections (``workspace.engine.begin()``, ``workspace.reader()``)
and pass them on; they name the type from here, so that only ``runtime.store``
imports SQLAlchemy (an import-linter contract checks it). The stores' small helpers
on connections and results live here too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.pool import PoolProxiedConnection

__all__ = ["Connection", "driver_connection", "inserted_id"]


def inserted_id(result: CursorResult) -> int:
    """The id of the row a single-row INSERT added (SQLAlchemy types the key as
    optional: it is ``None`` only for results of other statements)."""
    key = result.inserted_primary_key
    assert key is not None, "not the result of an INSERT"
    return key[0]


def driver_connection(pooled: PoolProxiedConnection) -> Any:
    """The driver's own connection (sqlite3's, psycopg's) behind SQLAlchemy's pooled
    one (typed as optional: it is ``None`` only once that one is closed)."""
    driver = pooled.driver_connection
    assert driver is not None, "the connection is closed"
    return driver
