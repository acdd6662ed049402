"""Record seals: a short hash of each record's stored row, kept in the audit log.

Every audit row that writes records holds their seals after the write (see
:class:`Seals`; none when the record is gone). The check of the log keeps the
last seal of every record and compares it with the record as stored: a record
changed, added or removed behind Formwright's back (``sqlite3``, ``psql``) is
named. The seal covers the whole stored row (values, version, times, trash mark)
and the rows of its subtables, read raw from the driver, so computing it when
writing and when checking is the same code on the same engine.

A bulk insert on SQLite does not read its rows back (that alone would cost more
than the insert): :class:`InsertSealer` seals the driver parameters it sends,
which are the stored values, and checks that claim on the first row it wrote.

An upgrade that rewrites a form's table writes new seals of all its records
(:func:`seal_all`), and so does the first signed row of an older workspace.
"""

from __future__ import annotations

import hashlib
import json
import marshal
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from operator import methodcaller

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.store.schema import SYSTEM_COLUMN_NAMES, FormTables

#: Records read per query when sealing or checking many.
SEAL_BATCH = 2000
#: Hex characters of one seal (a 64-bit BLAKE2b).
SEAL_HEX = 16
#: A record row is ``id``, the other system columns, then the value columns
#: (``schema.system_columns`` comes first in every record table).
_SYSTEM = len(SYSTEM_COLUMN_NAMES)

_hash = partial(hashlib.blake2b, digest_size=SEAL_HEX // 2)
_digest = methodcaller("digest")


def _dump_sqlite(values: tuple) -> bytes:
    """SQLite's raw values (str, int, float, bytes, None) as bytes, in C: marshal
    version 2 writes no back-references, so equal values always give equal bytes."""
    return marshal.dumps(values, 2)


def _dump_repr(values: tuple) -> bytes:
    """Other drivers return Decimal, date, datetime… which marshal does not take."""
    return repr(values).encode("utf-8")


def _dumper(connection: Connection) -> Callable[[tuple], bytes]:
    return _dump_sqlite if connection.dialect.name == "sqlite" else _dump_repr


def _values_hash(dump, system: tuple) -> Callable[[bytes], hashlib.blake2b]:
    """The hash of a record's dumped value columns, salted with a 256-bit hash of
    its system columns (BLAKE2b's salt and personalization: no extra work per
    record), so a bulk insert, whose system values are the same for every row,
    hashes them once."""
    salt = hashlib.blake2b(dump(system), digest_size=32).digest()
    return partial(_hash, salt=salt[:16], person=salt[16:])


def _seal(dump, row: Sequence, children: list[tuple] | None) -> str:
    """The seal of a raw record row (``id`` first) and its subtable rows."""
    digest = _values_hash(dump, tuple(row[1:_SYSTEM]))(dump(tuple(row[_SYSTEM:])))
    for child in children or ():
        digest.update(dump(child))
    return digest.hexdigest()


def _seals_of(dump, rows: list[tuple], children: dict[int, list[tuple]]):
    """(id, seal) of raw rows whose first value is the id."""
    for row in rows:
        yield row[0], _seal(dump, row, children.get(row[0]))


def _rows(connection: Connection, tables: FormTables, low: int, high: int):
    """The raw driver rows (every column of the table, ``id`` first) with ids in
    [low, high], and their subtable rows by parent id. Raw tuples, not SQLAlchemy
    rows: a check reads every record."""
    quote = connection.dialect.identifier_preparer.quote
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    columns = ", ".join(quote(column.name) for column in tables.table.columns)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(
            f"SELECT {columns} FROM {quote(tables.table.name)} "
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


def server_seal_sql(dialect: sa.engine.Dialect, tables: FormTables) -> str | None:
    """PostgreSQL, a form without subtables: the SQL expression of a row's seal,
    SHA-256 of its JSON text (which writes numbers and times the same whatever the
    session's settings), cut to :data:`SEAL_HEX`. Written in a SELECT, or in the
    RETURNING of the INSERT or UPDATE that writes the row (no read back). None
    elsewhere: the rows are sealed in Python (:func:`_seals_of`)."""
    if dialect.name != "postgresql" or tables.children:
        return None
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in tables.table.columns if c.name != "id")
    text = f"convert_to(row_to_json(ROW({columns}))::text, 'UTF8')"
    return f"left(encode(sha256({text}), 'hex'), {SEAL_HEX})"


def _server_seals(connection: Connection, tables: FormTables, low: int, high: int):
    """PostgreSQL, a form without subtables: the server hashes each row, so only a
    short string a record crosses the wire and none of the row's values is built
    in Python."""
    seal = server_seal_sql(connection.dialect, tables)
    quote = connection.dialect.identifier_preparer.quote
    cursor = connection.connection.cursor()
    try:
        cursor.execute(
            f"SELECT id, {seal} FROM {quote(tables.table.name)} "
            "WHERE id BETWEEN %s AND %s ORDER BY id",
            (low, high),
        )
        return cursor.fetchall()
    finally:
        cursor.close()


def _range_seals(connection: Connection, tables: FormTables, low: int, high: int):
    """(id, seal) of the records with ids in [low, high], in id order: the one
    definition of a seal that writing and checking both use."""
    if server_seal_sql(connection.dialect, tables) is not None:
        return _server_seals(connection, tables, low, high)
    rows, children = _rows(connection, tables, low, high)
    return _seals_of(_dumper(connection), rows, children)


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
        for ident, seal in _range_seals(connection, tables, low, high):
            if ident in seals:
                seals[ident] = seal
        start = end + 1
    return seals


@dataclass(frozen=True)
class Seals:
    """Seals by record id, compact enough for a bulk insert of a million records.

    ``runs`` holds (first id, the seals of it and the next ids, 16 hex characters
    each) and (id, None) for an id with no record. Stored in the audit row as JSON
    ``[[id, "hex…"], [id, null], …]``: the signed text.
    """

    runs: tuple[tuple[int, str | None], ...] = ()

    @classmethod
    def of(cls, seals: Mapping[int, str | None]) -> Seals:
        runs: list[tuple[int, list[str] | None]] = []
        for ident in sorted(seals):
            seal = seals[ident]
            last = runs[-1] if runs else None
            if seal is not None and last and last[1] and last[0] + len(last[1]) == ident:
                last[1].append(seal)
            else:
                runs.append((ident, None if seal is None else [seal]))
        return cls(tuple((ident, None if part is None else "".join(part)) for ident, part in runs))

    def __len__(self) -> int:
        return sum(1 if seal is None else len(seal) // SEAL_HEX for _, seal in self.runs)

    def items(self) -> Iterator[tuple[int, str | None]]:
        for first, text in self.runs:
            if text is None:
                yield first, None
                continue
            for offset in range(len(text) // SEAL_HEX):
                yield first + offset, text[offset * SEAL_HEX : (offset + 1) * SEAL_HEX]

    def split(self, size: int) -> list[Seals]:
        """Pieces of at most ``size`` records each, in order."""
        pieces: list[Seals] = []
        current: list[tuple[int, str | None]] = []
        count = 0
        for first, text in self.runs:
            total = 1 if text is None else len(text) // SEAL_HEX
            done = 0
            while done < total:
                take = min(total - done, size - count)
                piece = None if text is None else text[done * SEAL_HEX : (done + take) * SEAL_HEX]
                current.append((first + done, piece))
                done, count = done + take, count + take
                if count == size:
                    pieces.append(Seals(tuple(current)))
                    current, count = [], 0
        if current:
            pieces.append(Seals(tuple(current)))
        return pieces

    def text(self) -> str:
        return json.dumps([list(run) for run in self.runs], separators=(",", ":"))

    @classmethod
    def parse(cls, text: str) -> Seals:
        return cls(tuple((int(ident), seal) for ident, seal in json.loads(text)))


class InsertSealer:
    """The seals of the records one bulk insert writes, from the rows it sends.

    Reading a bulk insert's rows back to seal them costs more than the insert on
    SQLite, so there the seals are hashed from the driver parameters batch by batch
    (:meth:`add`), all in C: the engine's column encoders send exactly what SQLite
    stores. The system columns, the same for every row, come from the first row as
    stored, and that row's values must equal what was sent for it, else (and on
    PostgreSQL, with subtables, or with retired columns) :meth:`seals` reads the
    records back like any other write (:func:`record_seals`).
    """

    def __init__(self, connection: Connection, tables: FormTables, keys: Sequence[str]) -> None:
        self.connection, self.tables = connection, tables
        names = [column.name for column in tables.table.columns][_SYSTEM:]
        self.fast = (
            connection.dialect.name == "sqlite" and not tables.children and list(keys) == names
        )
        #: The highest id before the insert: read back after the first batch on the
        #: fast path (one query less per import batch; 0 until then), before the
        #: insert otherwise.
        self.before = 0 if self.fast else highest_id(connection, tables)
        self.hash: Callable | None = None
        self.parts: list[bytes] = []
        self.count = 0

    def add(self, batch: list) -> None:
        """Seal a batch of driver parameters the insert has just sent."""
        if not self.fast or not batch:
            return
        if self.hash is None:
            # SQLite: the transaction holds the write lock and numbers new rows from
            # the highest id on, so the batch just sent holds the newest ids.
            self.before = highest_id(self.connection, self.tables) - len(batch)
            self.hash = self._hash_of_values(batch[0])
            if self.hash is None:
                self.fast = False
                return
        dumped = map(marshal.dumps, batch, repeat(2))  # _dump_sqlite, in C
        self.parts.append(b"".join(map(_digest, map(self.hash, dumped))))
        self.count += len(batch)

    def _hash_of_values(self, sent) -> Callable | None:
        """The values' hash of the records (salted with their system values, as
        stored in the first one), when what is stored for the first record is what
        was sent for it (None otherwise)."""
        rows, _ = _rows(self.connection, self.tables, self.before + 1, self.before + 1)
        if not rows or not isinstance(sent, tuple):
            return None
        stored = rows[0]
        if _dump_sqlite(tuple(stored[_SYSTEM:])) != _dump_sqlite(sent):
            return None
        return _values_hash(_dump_sqlite, tuple(stored[1:_SYSTEM]))

    def seals(self, ids: Sequence[int] | None = None) -> Seals:
        """The seals of every record the insert wrote; ``ids``: their ids, when the
        caller has them (no query then)."""
        if self.fast:
            if not self.count:
                return Seals()
            first, last = self.before + 1, self.before + self.count
            if ids is None:
                consecutive = highest_id(self.connection, self.tables) == last
            else:
                consecutive = len(ids) == self.count and (ids[0], ids[-1]) == (first, last)
            if consecutive:
                return Seals(((first, b"".join(self.parts).hex()),))
        if ids is None:
            ids = ids_inserted_after(self.connection, self.tables, self.before)
        return Seals.of(record_seals(self.connection, self.tables, ids))


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
        yield from _range_seals(connection, tables, ids[0], ids[-1])
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

    def add(self, app_id: str | None, form: str | None, text: str) -> None:
        """Take the seals of one audit row (its ``seals`` text)."""
        if not app_id or not form:
            return
        self.seals.setdefault((app_id, form), {}).update(Seals.parse(text).items())


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
    for ident, last in sorted(expected.items()):
        if last is not None and ident not in seen and found < limit:
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
        seals = Seals.of(seal_all(connection, form_tables))
        if not seals:
            continue
        details = {"reason": reason, "records": len(seals)}
        entry = AuditEntry(
            SEALS_ACTION, user_id, app_id=app_id, form=form, details=details, seals=seals
        )
        append(connection, entry)
