"""Record seals: a short hash of each record's stored row, kept in the audit log.

Every audit row that writes records holds their seals after the write (JSON
``{"id": seal}``; ``null`` when the record is gone). The check of the log keeps
the last seal of every record and compares it with the record as stored: a
record changed, added or removed behind Formwright's back (``sqlite3``, ``psql``)
is named. The seal covers the whole stored row (values, version, times, trash
mark) and the rows of its subtables, read raw from the driver, so computing it
when writing and when checking is the same code on the same engine.

An upgrade that rewrites a form's table writes new seals of all its records
(:func:`seal_all`), and so does the first signed row of an older workspace.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.schema import FormTables

#: Records read per query when sealing or checking many.
SEAL_BATCH = 2000


def _seal(row: tuple, children: list[tuple] | None) -> str:
    digest = hashlib.blake2b(repr(row).encode("utf-8"), digest_size=8)
    for child in children or ():
        digest.update(repr(child).encode("utf-8"))
    return digest.hexdigest()


def _seals_of(rows: list[tuple], children: dict[int, list[tuple]]) -> Iterator[tuple[int, str]]:
    """(id, seal) of raw rows whose first value is the id."""
    if children:
        for row in rows:
            yield row[0], _seal(row, children.get(row[0]))
        return
    blake2b = hashlib.blake2b
    for row in rows:  # the common case, kept tight: it runs for every bulk-created record
        yield row[0], blake2b(repr(row).encode("utf-8"), digest_size=8).hexdigest()


def _rows(connection: Connection, tables: FormTables, low: int, high: int):
    """The raw driver rows (``id`` first, then every column) with ids in [low, high],
    and their subtable rows by parent id. Raw tuples, not SQLAlchemy rows: this reads
    every record a bulk insert wrote."""
    quote = connection.dialect.identifier_preparer.quote
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    cursor = connection.connection.cursor()
    try:
        cursor.execute(
            f"SELECT id, * FROM {quote(tables.table.name)} "
            f"WHERE id BETWEEN {mark} AND {mark} ORDER BY id",
            (low, high),
        )
        rows = cursor.fetchall()
        children: dict[int, list[tuple]] = {}
        for key in sorted(tables.children):
            parent = quote("parent_id")
            cursor.execute(
                f"SELECT {parent}, * FROM {quote(tables.children[key].name)} "
                f"WHERE {parent} BETWEEN {mark} AND {mark} "
                f"ORDER BY {parent}, {quote('row_index')}, id",
                (low, high),
            )
            for row in cursor.fetchall():
                children.setdefault(row[0], []).append((key, *row))
    finally:
        cursor.close()
    return rows, children


def record_seals(
    connection: Connection, tables: FormTables, ids: Iterable[int]
) -> dict[int, str | None]:
    """The seals of these records as stored now (None for an id with no record)."""
    wanted = sorted(set(ids))
    seals: dict[int, str | None] = dict.fromkeys(wanted)
    start = 0
    while start < len(wanted):
        # Consecutive ids (a bulk insert) in one range query, else a few at a time.
        end = start
        limit = min(start + SEAL_BATCH, len(wanted)) - 1  # a bounded read per query
        while end < limit and wanted[end + 1] == wanted[end] + 1:
            end += 1
        if end == start:
            end = min(start + 50, len(wanted)) - 1
        low, high = wanted[start], wanted[end]
        rows, children = _rows(connection, tables, low, high)
        for ident, seal in _seals_of(rows, children):
            if ident in seals:
                seals[ident] = seal
        start = end + 1
    return seals


def highest_id(connection: Connection, tables: FormTables) -> int:
    return connection.execute(sa.select(sa.func.max(tables.table.c.id))).scalar() or 0


def ids_inserted_after(connection: Connection, tables: FormTables, before: int) -> list[int]:
    """Ids of the records this transaction inserted after ``highest_id`` was ``before``.

    SQLite: the transaction holds the write lock, so every newer id is ours.
    PostgreSQL: other transactions may take ids meanwhile; ours carry our xid.
    """
    table = tables.table
    if connection.dialect.name == "sqlite":
        return list(range(before + 1, highest_id(connection, tables) + 1))
    query = sa.select(table.c.id).where(table.c.id > before).order_by(table.c.id)
    query = query.where(sa.text("xmin::text = (txid_current() % 4294967296)::text"))
    return list(connection.execute(query).scalars())


def iter_seals(connection: Connection, tables: FormTables) -> Iterator[tuple[int, str]]:
    """Every record of a form (trash included) with its seal, in id order, batch by batch."""
    table = tables.table
    last = 0
    while True:
        ids = list(
            connection.execute(
                sa.select(table.c.id)
                .where(table.c.id > last)
                .order_by(table.c.id)
                .limit(SEAL_BATCH)
            ).scalars()
        )
        if not ids:
            return
        rows, children = _rows(connection, tables, ids[0], ids[-1])
        yield from _seals_of(rows, children)
        last = ids[-1]


def seal_all(connection: Connection, tables: FormTables) -> dict[int, str | None]:
    return dict(iter_seals(connection, tables))


@dataclass(frozen=True)
class DriftedRecord:
    """A record whose stored row differs from its last audited state."""

    app_id: str
    form: str
    record_id: int
    #: "changed", "added" (no audit row wrote it) or "removed".
    how: str


@dataclass
class SealLedger:
    """The last seal of every record, gathered from the audit rows in order."""

    seals: dict[tuple[str, str], dict[int, str | None]] = field(default_factory=dict)

    def add(self, app_id: str | None, form: str | None, seals: dict[str, str | None]) -> None:
        if not app_id or not form:
            return
        known = self.seals.setdefault((app_id, form), {})
        for ident, seal in seals.items():
            known[int(ident)] = seal


def drifted_records(
    connection: Connection,
    app_id: str,
    tables: FormTables,
    ledger: SealLedger,
    limit: int = 100,
) -> Iterator[DriftedRecord | int]:
    """The records of one form that differ from their last seal (at most ``limit``);
    between them, the count of records checked so far (for a progress bar)."""
    form = tables.form.key
    expected = ledger.seals.get((app_id, form), {})
    seen: set[int] = set()
    found = checked = 0
    for ident, seal in iter_seals(connection, tables):
        seen.add(ident)
        checked += 1
        last = expected.get(ident)
        if last != seal and found < limit:
            found += 1
            yield DriftedRecord(app_id, form, ident, "added" if last is None else "changed")
        if checked % SEAL_BATCH == 0:
            yield checked
    for ident, seal in sorted(expected.items()):
        if seal is not None and ident not in seen and found < limit:
            found += 1
            yield DriftedRecord(app_id, form, ident, "removed")
    yield checked


def seal_forms(
    connection: Connection, app_id: str, tables: dict[str, FormTables], reason: str, user_id=None
) -> None:
    """New seals of every record of every form (after an upgrade rewrote them, or
    where signing began in an older workspace): one ``records_sealed`` row a form."""
    from runtime.store.audit import SEALS_ACTION, AuditEntry, append

    for form, form_tables in tables.items():
        seals = seal_all(connection, form_tables)
        if not seals:
            continue
        details = {"reason": reason, "records": len(seals)}
        entry = AuditEntry(
            SEALS_ACTION, user_id, app_id=app_id, form=form, details=details, seals=seals
        )
        append(connection, entry)
