"""Stored files (``fw_attachments``): attachments, images and signatures, their
bytes kept once under their sha256, whoever attaches them.

The file service checks hashes and sizes before it stores anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from runtime.store.schema import attachments_table


def stored_hashes(connection: Connection, hashes: Iterable[str]) -> set[str]:
    """Those of ``hashes`` whose file is stored."""
    table = attachments_table
    query = sa.select(table.c.sha256).where(table.c.sha256.in_(list(hashes)))
    return {row.sha256 for row in connection.execute(query)}


def add_file(
    connection: Connection, sha256: str, content: bytes, mime: str, created_at: datetime
) -> None:
    """Store a file under its (checked) sha256; a file stored meanwhile is kept as it is."""
    row = {
        "sha256": sha256,
        "size": len(content),
        "mime": mime,
        "content": content,
        "created_at": created_at,
    }
    try:
        with connection.begin_nested():
            connection.execute(attachments_table.insert(), row)
    except IntegrityError:
        pass  # another workstation stored the same file at the same moment


def file_content(connection: Connection, sha256: str) -> bytes | None:
    """The bytes of a stored file, or ``None`` when no file has that sha256."""
    table = attachments_table
    query = sa.select(table.c.content).where(table.c.sha256 == sha256)
    return connection.execute(query).scalar()
