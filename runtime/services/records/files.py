"""Stored files (attachments, images, signatures): bytes in the database by sha256."""

from __future__ import annotations

import hashlib
import mimetypes

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from resources.messages import tr
from runtime.services.errors import ServiceError
from runtime.store.audit import utc_now
from runtime.store.schema import attachments_table
from runtime.store.workspace import Workspace

#: The largest single file the workspace accepts, whatever a field allows.
MAX_FILE_BYTES = 200 * 1024 * 1024


class FileStore:
    """Content-addressed file storage: a file is stored once, whoever attaches it.

    Files are saved before the record that names them, so a record never points
    at bytes that are missing; a file no record names is harmless and small.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def save_files(self, files: dict[str, bytes], names: dict[str, str] | None = None) -> None:
        """Store each file under its sha256 (checked); files already stored are skipped."""
        for sha256, data in files.items():
            if hashlib.sha256(data).hexdigest() != sha256:
                raise ServiceError(
                    tr("the file {file}… was damaged on the way; add it again").format(
                        file=sha256[:12]
                    )
                )
            if len(data) > MAX_FILE_BYTES:
                raise ServiceError(tr("a file is larger than 200 MB and cannot be stored"))
        with self.workspace.engine.begin() as connection:
            stored = self._stored(connection, list(files))
            for sha256, data in files.items():
                if sha256 not in stored:
                    self._insert(connection, sha256, data, (names or {}).get(sha256, ""))

    def _stored(self, connection, hashes: list[str]) -> set[str]:
        table = attachments_table
        query = sa.select(table.c.sha256).where(table.c.sha256.in_(hashes))
        return {row.sha256 for row in connection.execute(query)}

    def _insert(self, connection, sha256: str, data: bytes, name: str) -> None:
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        row = {
            "sha256": sha256,
            "size": len(data),
            "mime": mime,
            "content": data,
            "created_at": utc_now(),
        }
        try:
            with connection.begin_nested():
                connection.execute(attachments_table.insert(), row)
        except IntegrityError:
            pass  # another workstation stored the same file at the same moment

    def read_file(self, sha256: str) -> bytes | None:
        table = attachments_table
        with self.workspace.reader() as connection:
            query = sa.select(table.c.content).where(table.c.sha256 == sha256)
            return connection.execute(query).scalar()
