"""The audit log's signing keys, kept outside the workspace.

Every audit row written since this change is signed: its ``hash`` is an HMAC
under a key that lives in a file of the user's data folder, not in the database,
so whoever can edit the database file but not read that key cannot recompute
the chain after changing, removing or reordering rows.

One key per workspace and computer account, created on first use (0600):
``<data folder>/audit-keys/<workspace id>.key``; ``FORMWRIGHT_AUDIT_KEY_FILE``
names another file. Each row records its key's id (a fingerprint), so several
workstations of one PostgreSQL workspace each sign with their own key; to check
the whole log, the administrator copies their key files into the checking
computer's key folder (any ``*.key`` there of the same workspace is used) or
names them with ``--key-file``. A row signed by a key that is not at hand is
reported as not provable, never as intact.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from resources.messages import tr
from runtime.store.engine import WorkspaceError

KEY_FILE_VARIABLE = "FORMWRIGHT_AUDIT_KEY_FILE"


@dataclass(frozen=True)
class AuditKey:
    workspace_id: str
    secret: bytes
    path: Path

    @property
    def key_id(self) -> str:
        """The fingerprint stored in each row the key signs (not the key itself)."""
        return hashlib.sha256(b"formwright-audit-key:" + self.secret).hexdigest()[:16]

    def sign(self, text: str) -> str:
        return hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


def key_folder() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("Formwright", appauthor=False)) / "audit-keys"


def signing_key_path(workspace_id: str) -> Path:
    """Where this computer account's key of the workspace is (or will be) kept."""
    named = os.environ.get(KEY_FILE_VARIABLE)
    if named:
        return Path(named).expanduser()
    return key_folder() / f"{workspace_id}.key"


#: (workspace id, FORMWRIGHT_AUDIT_KEY_FILE) → the signing key: every save signs a
#: row, and finding the data folder costs more than the signing itself.
_cache: dict[tuple[str, str | None], AuditKey] = {}


def signing_key(workspace_id: str) -> AuditKey:
    """The key this process signs new rows of the workspace with, created on first use.

    A cached key is used while its file still exists (one ``stat``): a key file
    deleted meanwhile is read or created anew, never silently signed with.
    """
    cache_key = (workspace_id, os.environ.get(KEY_FILE_VARIABLE))
    cached = _cache.get(cache_key)
    if cached is not None and cached.path.exists():
        return cached
    path = signing_key_path(workspace_id)
    key = read_key(path)
    if key is None:
        key = _create(path, workspace_id)
    _cache[cache_key] = key
    return key


def read_key(path: Path) -> AuditKey | None:
    """The key in ``path``; None when there is none. An unreadable file is an error
    (one line), never silently replaced."""
    try:
        data = json.loads(path.read_text("utf-8"))
        stored_id, secret = str(data["workspace_id"]), bytes.fromhex(data["key"])
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        text = tr("the audit key file {path} cannot be read: {error}")
        reason = error.strerror if isinstance(error, OSError) else error
        raise WorkspaceError(text.format(path=path, error=reason)) from None
    return AuditKey(stored_id, secret, path)


def _create(path: Path, workspace_id: str) -> AuditKey:
    """A new random key written atomically with owner-only permissions; when another
    process created the file first, its key is used."""
    try:
        return _write_new(path, workspace_id)
    except OSError as error:
        text = tr(
            "cannot create the audit key file {path}: {error}; name a writable file "
            "with FORMWRIGHT_AUDIT_KEY_FILE"
        )
        raise WorkspaceError(text.format(path=path, error=error.strerror or error)) from None


def _write_new(path: Path, workspace_id: str) -> AuditKey:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_bytes(32)
    text = json.dumps({"workspace_id": workspace_id, "key": secret.hex()})
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(handle, 0o600)
        os.write(handle, text.encode("utf-8"))
        os.fsync(handle)
        os.close(handle)
        try:
            os.link(temporary, path)  # never over an existing key
        except FileExistsError:
            existing = read_key(path)
            if existing is not None:
                return existing
            raise
    finally:
        Path(temporary).unlink(missing_ok=True)
    return AuditKey(workspace_id, secret, path)


def available_keys(workspace_id: str, extra: Iterable[Path] = ()) -> dict[str, AuditKey]:
    """Every key at hand for checking the workspace's log, by key id: the signing
    key, the other ``*.key`` files of the workspace in the key folder, and ``extra``."""
    found: dict[str, AuditKey] = {}
    folder = key_folder()
    if folder.is_dir():
        for path in sorted(folder.glob("*.key")):
            try:
                key = read_key(path)
            except WorkspaceError:
                continue
            if key is not None and key.workspace_id == workspace_id:
                found[key.key_id] = key
    for path in [signing_key_path(workspace_id), *map(Path, extra)]:  # named: always used
        key = read_key(path)
        if key is not None:
            found[key.key_id] = key
    return found
