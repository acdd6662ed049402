"""The whole check of a workspace's audit trail, and checkpoints kept outside it.

:func:`verify_workspace_steps` walks the signed chain (:mod:`runtime.store.audit`),
then compares every record with its last seal (:mod:`runtime.store.audit_seals`),
and, given a checkpoint, makes sure the log still holds the rows it had then.

A *checkpoint* is a small JSON file the administrator keeps away from the
database (``formwright audit checkpoint``; every backup writes one beside it): the
row count, last row id and head hash of an intact log, with an HMAC under the
administrator's audit key. A log whose newest rows were deleted, or that was
rewritten from an older row on, no longer matches it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Generator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from resources.messages import tr
from runtime.store.audit import (
    ChainProgress,
    ChainReport,
    utc_now,
    verify_chain_steps,
    workspace_id,
)
from runtime.store.audit_chains import CHAIN_ENDS
from runtime.store.audit_keys import AuditKey, available_keys, read_key, signing_key
from runtime.store.audit_seals import DriftedRecord, SealLedger, drifted_records
from runtime.store.engine import WorkspaceError
from runtime.store.schema import apps_table, audit_table, build_app_tables

#: Reasons (English; the services translate them).
DRIFTED = "records differ from their last audited state"
TAIL_MISSING = "rows the checkpoint holds are missing: the newest rows were deleted"
REWRITTEN = "a row the checkpoint holds was changed: the log was rewritten"
OTHER_WORKSPACE = "the checkpoint is of another workspace"


@dataclass(frozen=True)
class Checkpoint:
    workspace_id: str
    rows: int
    last_id: int
    head: str
    at: str
    key_id: str = ""
    mac: str = ""
    #: [chain, rows, last id, hash] of every chain (empty in checkpoints written
    #: before the log had chains: they name chain 0's newest row alone).
    chains: list = field(default_factory=list)

    def _text(self) -> str:
        fields = [self.workspace_id, self.rows, self.last_id, self.head, self.at, self.key_id]
        if self.chains:
            fields.append(self.chains)
        return json.dumps(fields, separators=(",", ":"))


def make_checkpoint(connection: Connection, key: AuditKey | None = None) -> Checkpoint:
    """The checkpoint of the log as it is now, signed with ``key`` (default: this
    computer account's key of the workspace): the newest row of every chain."""
    ident = workspace_id(connection)
    if ident is None:
        raise WorkspaceError(tr("this database is not a Formwright workspace"))
    ends = connection.execute(CHAIN_ENDS).all()
    newest = max(ends, key=lambda end: end.last_id, default=None)
    key = key or signing_key(ident)
    point = Checkpoint(
        ident,
        sum(end.rows for end in ends),
        newest.last_id if newest else 0,
        newest.hash if newest else "",
        utc_now().isoformat() + "Z",
        key.key_id,
        chains=[[end.chain, end.rows, end.last_id, end.hash] for end in ends],
    )
    return replace(point, mac=key.sign(point._text()))


def write_checkpoint(point: Checkpoint, path: Path) -> Path:
    """Write ``point`` to ``path`` atomically (a new file beside it, then renamed)."""
    path = Path(path).expanduser().absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.write(handle, json.dumps(asdict(point), indent=1).encode("utf-8"))
        os.fsync(handle)
        os.close(handle)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def read_checkpoint(path: Path, keys: Mapping[str, AuditKey] | None = None) -> Checkpoint:
    """The checkpoint in ``path``, its HMAC checked when its key is at hand."""
    try:
        point = Checkpoint(**json.loads(Path(path).read_text("utf-8")))
    except (OSError, ValueError, TypeError) as error:
        text = tr("the checkpoint file {path} cannot be read: {error}")
        raise WorkspaceError(text.format(path=path, error=error)) from None
    keys = keys if keys is not None else available_keys(point.workspace_id)
    key = keys.get(point.key_id)
    if key is not None and key.sign(point._text()) != point.mac:
        text = tr("the checkpoint file {path} was changed after it was written")
        raise WorkspaceError(text.format(path=path))
    return point


def checkpoint_path_beside(backup: Path) -> Path:
    """Where a backup's checkpoint is written: ``<backup>.checkpoint.json``."""
    return backup.with_name(backup.name + ".checkpoint.json")


def compare_with_checkpoint(connection: Connection, point: Checkpoint) -> tuple[str, int | None]:
    """Why the log no longer matches the checkpoint (and the row named), or ``("", None)``.

    Each chain must still hold as many rows up to its newest row of then, and that
    row with the same hash. (Chains, not the log as a whole: on PostgreSQL a row of
    another chain with a lower id may commit after the checkpoint was taken.)
    """
    if workspace_id(connection) != point.workspace_id:
        return OTHER_WORKSPACE, None
    ends = point.chains or ([[0, point.rows, point.last_id, point.head]] if point.rows else [])
    for chain, rows, last_id, head in ends:
        on_chain = sa.func.coalesce(audit_table.c.chain, 0) == chain
        held = connection.execute(
            sa.select(sa.func.count())
            .select_from(audit_table)
            .where(on_chain, audit_table.c.id <= last_id)
        ).scalar_one()
        row_hash = connection.execute(
            sa.select(audit_table.c.hash).where(audit_table.c.id == last_id, on_chain)
        ).scalar()
        if row_hash is None or held < rows:
            return TAIL_MISSING, last_id
        if row_hash != head or held != rows:
            return REWRITTEN, last_id
    return "", None


VerifySteps = Generator[ChainProgress, None, ChainReport]


def verify_workspace_steps(
    connection: Connection,
    registry,
    batch: int = 5000,
    keys: Mapping[str, AuditKey] | None = None,
    against: Checkpoint | None = None,
) -> VerifySteps:
    """The chain, then the records against their seals, then the checkpoint.

    Returns a :class:`ChainReport`: ``ok`` only when all three hold; ``drifted``
    names the records that differ (at most 100 per form).
    """
    ledger = SealLedger()

    def gather(row) -> None:
        if row["seals"]:
            ledger.add(row["app_id"], row["form"], row["seals"])

    report = yield from verify_chain_steps(connection, batch, keys, gather)
    if not report.ok:
        return report
    if against is not None:
        reason, row = compare_with_checkpoint(connection, against)
        if reason:
            return replace(report, ok=False, broken_id=row, reason=reason)
    drifted: list[DriftedRecord] = []
    checked = report.rows
    for app_id in connection.execute(sa.select(apps_table.c.app_id)).scalars().all():
        spec_json = connection.execute(
            sa.select(apps_table.c.spec_json).where(apps_table.c.app_id == app_id)
        ).scalar_one()
        from runtime.spec.load import parse_app_spec

        spec = parse_app_spec(json.loads(spec_json), registry)
        tables = build_app_tables(spec, registry, dialect=connection.dialect.name)
        for form_tables in tables.forms.values():
            done = 0
            for found in drifted_records(connection, app_id, form_tables, ledger):
                if isinstance(found, DriftedRecord):
                    drifted.append(found)
                else:
                    yield ChainProgress(checked + found, checked + found)
                    done = found
            checked += done
    if drifted:
        return replace(report, ok=False, reason=DRIFTED, drifted=tuple(drifted))
    return report


def verify_workspace(
    connection: Connection,
    registry,
    batch: int = 5000,
    keys: Mapping[str, AuditKey] | None = None,
    against: Checkpoint | None = None,
) -> ChainReport:
    steps = verify_workspace_steps(connection, registry, batch, keys, against)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def keys_with(workspace_ident: str | None, key_files: list[Path]) -> dict[str, AuditKey]:
    """The keys at hand for a workspace plus the key files named (``--key-file``)."""
    for path in key_files:
        if not Path(path).is_file():
            raise WorkspaceError(tr("the audit key file {path} does not exist").format(path=path))
    if workspace_ident is None:
        found = {}
        for path in key_files:
            key = read_key(Path(path))
            if key is not None:
                found[key.key_id] = key
        return found
    return available_keys(workspace_ident, key_files)
