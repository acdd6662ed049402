"""The one name resolver: ids of users, departments and linked records ↔ names.

Every place that shows or reads a name — the runtime's lists, forms, pickers,
filters and history, Excel export and import, and the CLI — asks a
:class:`NameResolver` made for the reading user. A linked record's name is the
value of its form's display field, as that user may read it:

* a record outside the user's row scope of the target form (or a form the user
  may not read) is shown as its id only (``#2``);
* so is a record whose display field is hidden from the user (a hidden field, or
  a formula over one: see ``Policy.field_mode``);
* a name typed or imported only matches records the user could see named, so an
  import's dry run answers "no record named …" for a right and a wrong guess of
  a hidden value alike.

Users and departments are named for everyone (they have no row scope). Kinds are
what ``FieldType.reference_kind`` returns (``widgets.references``; their plain
spellings ``"user"`` or ``("record", form, display_field)`` are read too). The
SQL lives in the store (:mod:`runtime.store.names`, where each kind's
``NameTable`` is found); this module decides what the reader may see of it.
Look-ups are batched (one query per chunk of ids or names: a list page costs
one query per kind, not one per row) and cached until a commit changes the
table the names come from (``NameChanges``). A name shared by two users (or
records) is ambiguous: it is left out of the reverse map, so such a cell must
name ``#id`` instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from runtime.services.actor import SYSTEM, Actor
from runtime.store.names import NameTable, name_changes
from runtime.store.query import RowScope
from widgets.base import ExcelContext
from widgets.references import ReferenceKind, as_reference_kind

if TYPE_CHECKING:
    from runtime.services.records.service import RecordService

#: What a reader may see of a kind's names: the table (without names when the
#: display field is hidden from them) and the rows within reach (None: all).
Readable = tuple[NameTable, RowScope | None]


class NameResolver:
    """Names by id and ids by name for one app, as one reading user; cached."""

    def __init__(
        self, service: RecordService, actor: Actor = SYSTEM, max_cache: int = 50_000
    ) -> None:
        self.service = service
        self.actor = actor
        self.max_cache = max_cache
        self._names: dict[tuple[ReferenceKind, int], str] = {}
        self._lock = threading.Lock()
        #: Bumped when names change: a look-up that began before does not fill the cache.
        self._generation = 0
        #: kind -> the name of the table its names come from (what a commit reports).
        self._tables: dict[ReferenceKind, str] = {}
        #: (kind, name) pairs that matched more than one id.
        self.ambiguous: set[tuple[Any, str]] = set()
        name_changes(service.workspace.engine).watch(self)

    # -- what the reader may see ---------------------------------------------
    def _readable(self, kind: ReferenceKind) -> Readable | None:
        """Where ``kind``'s names come from as this reader may see them; None when
        they may see none (a form they may not read, or one the app lacks)."""
        table = self.service.name_table(kind)
        if table is None:
            return None
        with self._lock:
            self._tables.setdefault(kind, table.table.name)
        form = table.form
        if form is None:  # users, departments: named for every user
            self.service.require_session(self.actor)
            return table, None
        policy = self.service.policy(self.actor)
        if not policy.allowed(form, "read"):
            return None
        key = table.display_key
        if key is None or policy.field_mode(form, key) == "hidden":
            table = table.unnamed()
        return table, policy.row_scope(form, "read")

    # -- id -> name -----------------------------------------------------------
    def names(self, kind: Any, ids: Iterable[int]) -> dict[int, str]:
        """The name of each id (``#id`` when there is none the reader may see)."""
        kind = as_reference_kind(kind)
        wanted = list(ids)
        missing = sorted({i for i in wanted if (kind, i) not in self._names})
        found: dict[int, str] = {}
        if missing:
            generation = self._generation
            found = self._lookup_names(kind, missing)
            self._remember(kind, {i: found.get(i) or f"#{i}" for i in missing}, generation)
        return {i: self._names.get((kind, i)) or found.get(i) or f"#{i}" for i in wanted}

    def name_of(self, kind: Any, ident: int) -> str:
        cached = self._names.get((kind, ident))  # the fast path of a list's cells
        return cached if cached is not None else self.names(kind, [ident])[ident]

    def _lookup_names(self, kind: ReferenceKind, ids: list[int]) -> dict[int, str]:
        readable = self._readable(kind)
        if readable is None:
            return {}
        table, scope = readable
        with self.service.workspace.reader() as connection:
            return table.names(connection, ids, scope)

    def _remember(self, kind: ReferenceKind, names: Mapping[int, str], generation: int) -> None:
        """Cache ``names`` unless names changed since the look-up began (its
        result may predate a rename)."""
        with self._lock:
            if generation != self._generation:
                return
            if len(self._names) > self.max_cache:
                self._names.clear()
            for ident, name in names.items():
                self._names[(kind, ident)] = name

    # -- forgetting ---------------------------------------------------------------
    def names_changed(self, tables: frozenset[str]) -> None:
        """Drop the cached names of kinds whose names come from ``tables`` (told by
        ``NameChanges`` after a commit updated or deleted rows of them)."""
        with self._lock:
            stale = {kind for kind, table in self._tables.items() if table in tables}
            if not stale:
                return
            self._generation += 1
            for entry in [entry for entry in self._names if entry[0] in stale]:
                del self._names[entry]

    # -- many names at once (Excel) ------------------------------------------------
    def context_for(self, wanted: Mapping[Any, Iterable[int]]) -> ExcelContext:
        """An ExcelContext naming every id in ``wanted`` (kind -> ids)."""
        names: dict[Any, str] = {}
        for kind, ids in wanted.items():
            for ident, name in self.names(kind, ids).items():
                names[(kind, ident)] = name
        return ExcelContext(names=names)

    def reverse_context(self, wanted: Mapping[Any, Iterable[str]]) -> ExcelContext:
        """An ExcelContext whose ``reverse_names`` holds every unambiguous name."""
        reverse: dict[Any, int] = {}
        for kind, names in wanted.items():
            pending = sorted({name.strip() for name in names if name and name.strip()})
            if pending:
                for name, ident in self.ids(kind, pending).items():
                    reverse[(kind, name)] = ident
        return ExcelContext(reverse_names=reverse)

    # -- name -> id -----------------------------------------------------------
    def ids(self, kind: Any, names: list[str]) -> dict[str, int]:
        """The id each name names unambiguously among what the reader may see."""
        kind = as_reference_kind(kind)
        readable = self._readable(kind)
        if readable is None:
            return {}
        table, scope = readable
        with self.service.workspace.reader() as connection:
            matches = table.ids_named(connection, names, scope)
        result = {}
        for name, ids in matches.items():
            if len(ids) == 1:
                result[name] = next(iter(ids))
            else:
                self.ambiguous.add((kind, name))
        return result

    # -- searches (pickers) -----------------------------------------------------
    def search(self, kind: Any, text: str, limit: int = 50) -> list[tuple[int, str]]:
        """Up to ``limit`` (id, name) whose name contains ``text``, as the reader
        may see them: a form whose display field is hidden offers its readable
        records by id only, and only to an empty search."""
        kind = as_reference_kind(kind)
        readable = self._readable(kind)
        if readable is None:
            return []
        table, scope = readable
        generation = self._generation
        with self.service.workspace.reader() as connection:
            found = table.search(connection, text, limit, scope)
        self._remember(kind, dict(found), generation)
        return found
