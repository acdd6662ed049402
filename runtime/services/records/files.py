"""Stored files (attachments, images, signatures): bytes in the database by sha256."""

from __future__ import annotations

import hashlib
import mimetypes

from resources.messages import tr
from runtime.services.errors import ServiceError, server_required
from runtime.store.audit import utc_now
from runtime.store.files import add_file, file_content, stored_hashes
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
        if not files:
            return
        with server_required(), self.workspace.engine.begin() as connection:
            stored = stored_hashes(connection, files)
            for sha256, data in files.items():
                if sha256 not in stored:
                    mime = _mime((names or {}).get(sha256, ""))
                    add_file(connection, sha256, data, mime, utc_now())

    def read_file(self, sha256: str) -> bytes | None:
        with server_required(), self.workspace.reader() as connection:
            return file_content(connection, sha256)


def _mime(name: str) -> str:
    """The media type a file name suggests (``report.pdf`` → ``application/pdf``)."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
