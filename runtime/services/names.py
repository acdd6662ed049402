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

Users and departments are named for everyone (they have no row scope). Look-ups
are batched (one query per chunk of ids or names: a list page costs one query
per kind, not one per row) and cached; the SQL lives in the store
(:mod:`runtime.store.user_names`, ``RecordRepository.display_values`` and
``ids_with_values``). Kinds are what ``FieldType.reference_kind`` returns:
``"user"``, ``"department"`` or ``("record", form_key, display_field)`` (a kind
without its display field uses the first one the app's lookups of that form show). A name shared by two
users (or records) is ambiguous: it is left out of the reverse map, so such a
cell must name ``#id`` instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from runtime.services.actor import SYSTEM, Actor
from runtime.store.query import Condition, RecordQuery, RowScope
from runtime.store.repository import UnknownName
from runtime.store.user_names import (
    department_names,
    departments_named,
    search_departments,
    search_users,
    user_names,
    users_named,
)
from widgets.base import ExcelContext, FieldSpecBase, FieldType, FieldValueError

if TYPE_CHECKING:
    from runtime.services.records.service import RecordService


class NameResolver:
    """Names by id and ids by name for one app, as one reading user; cached."""

    def __init__(
        self, service: RecordService, actor: Actor = SYSTEM, max_cache: int = 50_000
    ) -> None:
        self.service = service
        self.actor = actor
        self.max_cache = max_cache
        self._names: dict[Any, str] = {}
        self._lock = threading.Lock()
        #: (kind, name) pairs that matched more than one id.
        self.ambiguous: set[tuple[Any, str]] = set()
        self._display_keys: dict[str, str] | None = None

    # -- which field names a record -----------------------------------------
    def display_field(self, form: str) -> str | None:
        """The field the app's lookups show for records of ``form`` (the first
        lookup to it in form order, subtable columns included)."""
        if self._display_keys is None:
            registry = self.service.registry
            keys: dict[str, str] = {}
            for form_spec in self.service.spec.forms:
                stack = list(reversed(form_spec.fields))
                while stack:
                    spec = stack.pop()
                    field_type = registry.of(spec)
                    stack.extend(reversed(field_type.children(spec)))
                    for reference in field_type.references(spec):
                        if reference.kind == "field":
                            target, key = reference.target
                            keys.setdefault(target, key)
            self._display_keys = keys
        return self._display_keys.get(form)

    def _readable_display(self, kind: Any) -> tuple[FieldSpecBase, FieldType, RowScope] | None:
        """The display field of a record kind with its type and the rows the reader
        may see named; None when the reader may see no record's name."""
        form = kind[1]
        key = (kind[2] if len(kind) > 2 else None) or self.display_field(form)
        try:
            tables = self.service.repository.form_tables(form)
        except UnknownName:
            return None
        spec = tables.columns.get(key) if key else None
        if spec is None:
            return None
        policy = self.service.policy(self.actor)
        if not policy.allowed(form, "read") or policy.field_mode(form, key) == "hidden":
            return None
        return spec, self.service.registry.of(spec), policy.row_scope(form, "read")

    # -- id -> name -----------------------------------------------------------
    def names(self, kind: Any, ids: Iterable[int]) -> dict[int, str]:
        """The name of each id (``#id`` when there is none the reader may see)."""
        wanted = list(ids)
        missing = sorted({i for i in wanted if (kind, i) not in self._names})
        if missing:
            found = self._lookup_names(kind, missing)
            with self._lock:
                if len(self._names) > self.max_cache:
                    self._names.clear()
                for ident in missing:
                    self._names[(kind, ident)] = found.get(ident) or f"#{ident}"
        return {i: self._names.get((kind, i)) or f"#{i}" for i in wanted}

    def name_of(self, kind: Any, ident: int) -> str:
        cached = self._names.get((kind, ident))  # the fast path of a list's cells
        return cached if cached is not None else self.names(kind, [ident])[ident]

    def forget(self) -> None:
        """Drop cached names (after a record or a user was renamed)."""
        with self._lock:
            self._names.clear()

    def context_for(self, wanted: Mapping[Any, Iterable[int]]) -> ExcelContext:
        """An ExcelContext naming every id in ``wanted`` (kind -> ids)."""
        names: dict[Any, str] = {}
        for kind, ids in wanted.items():
            for ident, name in self.names(kind, ids).items():
                names[(kind, ident)] = name
        return ExcelContext(names=names)

    def _lookup_names(self, kind: Any, ids: list[int]) -> dict[int, str]:
        if kind == "user":
            self.service.require_session(self.actor)
            with self.service.workspace.reader() as connection:
                return user_names(connection, ids)
        if kind == "department":
            self.service.require_session(self.actor)
            with self.service.workspace.reader() as connection:
                return department_names(connection, ids)
        if not (_is_record(kind)):
            return {}
        shown = self._readable_display(kind)
        if shown is None:
            return {}
        spec, field_type, scope = shown
        with self.service.workspace.reader() as connection:
            values = self.service.repository.display_values(
                connection, kind[1], spec.key, ids, scope
            )
        return {ident: field_type.display(spec, value) for ident, value in values.items()}

    # -- name -> id -----------------------------------------------------------
    def reverse_context(self, wanted: Mapping[Any, Iterable[str]]) -> ExcelContext:
        """An ExcelContext whose ``reverse_names`` holds every unambiguous name."""
        reverse: dict[Any, int] = {}
        for kind, names in wanted.items():
            pending = sorted({name.strip() for name in names if name and name.strip()})
            if pending:
                for name, ident in self.ids(kind, pending).items():
                    reverse[(kind, name)] = ident
        return ExcelContext(reverse_names=reverse)

    def ids(self, kind: Any, names: list[str]) -> dict[str, int]:
        """The id each name names unambiguously among what the reader may see."""
        matches = self._lookup_ids(kind, names)
        result = {}
        for name, ids in matches.items():
            if len(ids) == 1:
                result[name] = next(iter(ids))
            else:
                self.ambiguous.add((kind, name))
        return result

    def _lookup_ids(self, kind: Any, names: list[str]) -> dict[str, set[int]]:
        if kind in ("user", "department"):
            self.service.require_session(self.actor)
            lookup = users_named if kind == "user" else departments_named
            with self.service.workspace.reader() as connection:
                return lookup(connection, names)
        if not (_is_record(kind)):
            return {}
        shown = self._readable_display(kind)
        if shown is None:
            return {}
        spec, field_type, scope = shown
        by_value: dict[Any, list[str]] = {}
        for name in names:
            try:
                value = field_type.parse(spec, name)
            except FieldValueError:
                continue
            if value is not None and not isinstance(value, (list, dict)):
                by_value.setdefault(value, []).append(name)
        if not by_value:
            return {}
        with self.service.workspace.reader() as connection:
            rows = self.service.repository.ids_with_values(
                connection, kind[1], spec.key, list(by_value), scope
            )
        matches: dict[str, set[int]] = {}
        for ident, value in rows:
            for name in by_value.get(value, []):
                matches.setdefault(name, set()).add(ident)
        return matches

    # -- searches (pickers) -----------------------------------------------------
    def search(self, kind: Any, text: str, limit: int = 50) -> list[tuple[int, str]]:
        """Up to ``limit`` (id, name) whose name contains ``text``, as the reader
        may see them: a form whose display field is hidden offers its readable
        records by id only, and only to an empty search."""
        if kind in ("user", "department"):
            self.service.require_session(self.actor)
            search = search_users if kind == "user" else search_departments
            with self.service.workspace.reader() as connection:
                return search(connection, text, limit)
        if not (_is_record(kind)):
            return []
        form = kind[1]
        policy = self.service.policy(self.actor)
        if not policy.allowed(form, "read"):
            return []
        shown = self._readable_display(kind)
        if shown is None:
            if text:
                return []
            query = RecordQuery(columns=())
            page = self.service.page(form, query, limit=limit, actor=self.actor)
            return [(record.id, f"#{record.id}") for record in page.records]
        spec, field_type, _scope = shown
        condition = Condition(spec.key, "contains", text) if text else None
        query = RecordQuery(filter=condition, columns=(spec.key,))
        page = self.service.page(form, query, limit=limit, actor=self.actor)
        found = []
        for record in page.records:
            value = record.values.get(spec.key)
            name = field_type.display(spec, value) if value is not None else ""
            found.append((record.id, name or f"#{record.id}"))
        with self._lock:
            for ident, name in found:
                self._names[(kind, ident)] = name
        return found


def _is_record(kind: Any) -> bool:
    return isinstance(kind, tuple) and len(kind) in (2, 3) and kind[0] == "record"
