"""Names of users, departments and lookup records for Excel, resolved in batches.

Export asks for the names of the ids on one page (``context_for``); import asks for
the ids of the names in one batch of rows (``reverse_context``). Kinds are what
``FieldType.reference_kind`` returns: ``"user"``, ``"department"`` or
``("record", form_key)``. A name shared by two users (or records) is ambiguous: it
is left out of the reverse map, so such a cell must name ``#id`` instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from runtime.services.records import RecordService
from runtime.store.repository import UnknownName
from runtime.store.schema import departments_table, users_table
from widgets.base import ExcelContext, FieldValueError

CHUNK = 500  # ids or names per IN (...) query


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class NameResolver:
    """Looks up display names by id and ids by name, with a bounded cache."""

    def __init__(self, service: RecordService, max_cache: int = 50_000) -> None:
        self.service = service
        self.max_cache = max_cache
        self._names: dict[Any, str] = {}
        #: (kind, name) pairs that matched more than one id.
        self.ambiguous: set[tuple[Any, str]] = set()
        self._display_keys: dict[str, str] | None = None

    # -- id -> name ---------------------------------------------------------
    def context_for(self, wanted: Mapping[Any, Iterable[int]]) -> ExcelContext:
        """An ExcelContext naming every id in ``wanted`` (kind -> ids)."""
        if len(self._names) > self.max_cache:
            self._names.clear()
        for kind, ids in wanted.items():
            missing = sorted({i for i in ids if (kind, i) not in self._names})
            if missing:
                for ident, name in self._lookup_names(kind, missing).items():
                    self._names[(kind, ident)] = name
        return ExcelContext(names=self._names)

    def _lookup_names(self, kind: Any, ids: list[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        with self.service.workspace.reader() as connection:
            for chunk in _chunks(ids):
                if kind == "user":
                    rows = connection.execute(
                        sa.select(
                            users_table.c.id, users_table.c.display_name, users_table.c.username
                        ).where(users_table.c.id.in_(chunk))
                    )
                    found.update((row.id, row.display_name or row.username) for row in rows)
                elif kind == "department":
                    rows = connection.execute(
                        sa.select(departments_table.c.id, departments_table.c.name).where(
                            departments_table.c.id.in_(chunk)
                        )
                    )
                    found.update((row.id, row.name) for row in rows)
                else:
                    found.update(self._record_names(connection, kind[1], chunk))
        return found

    def _display_field(self, form: str):
        """(table, display spec, its type) of a lookup target form, or None."""
        if self._display_keys is None:
            self._display_keys = self._find_display_keys()
        key = self._display_keys.get(form)
        try:
            tables = self.service.repository.form_tables(form)
        except UnknownName:
            return None
        if key not in tables.columns:
            return None
        shown = tables.columns[key]
        return tables.table, shown, self.service.registry.of(shown)

    def _find_display_keys(self) -> dict[str, str]:
        """Form key -> the field shown for its records, from the fields' references."""
        registry = self.service.registry
        keys: dict[str, str] = {}
        stack = [field for form in self.service.spec.forms for field in form.fields]
        while stack:
            spec = stack.pop()
            field_type = registry.of(spec)
            stack.extend(field_type.children(spec))
            for reference in field_type.references(spec):
                if reference.kind == "field":
                    form, key = reference.target
                    keys.setdefault(form, key)
        return keys

    def _record_names(self, connection, form: str, ids: list[int]) -> dict[int, str]:
        target = self._display_field(form)
        if target is None:
            return {}
        table, shown, shown_type = target
        rows = connection.execute(
            sa.select(table.c.id, table.c[shown.key]).where(table.c.id.in_(ids))
        )
        return {row[0]: shown_type.display(shown, row[1]) for row in rows if row[1] is not None}

    # -- name -> id ---------------------------------------------------------
    def reverse_context(self, wanted: Mapping[Any, Iterable[str]]) -> ExcelContext:
        """An ExcelContext whose ``reverse_names`` holds every unambiguous name."""
        reverse: dict[Any, int] = {}
        with self.service.workspace.reader() as connection:
            for kind, names in wanted.items():
                pending = sorted({name.strip() for name in names if name and name.strip()})
                for chunk in _chunks(pending):
                    for name, ident in self._lookup_ids(connection, kind, chunk).items():
                        reverse[(kind, name)] = ident
        return ExcelContext(reverse_names=reverse)

    def _lookup_ids(self, connection, kind: Any, names: list[str]) -> dict[str, int]:
        matches: dict[str, set[int]] = {}
        if kind == "user":
            table = users_table
            rows = connection.execute(
                sa.select(table.c.id, table.c.display_name, table.c.username).where(
                    table.c.display_name.in_(names) | table.c.username.in_(names)
                )
            )
            for row in rows:
                for text in (row.display_name, row.username):
                    if text in names:
                        matches.setdefault(text, set()).add(row.id)
        elif kind == "department":
            table = departments_table
            rows = connection.execute(
                sa.select(table.c.id, table.c.name, table.c.code).where(
                    table.c.name.in_(names) | table.c.code.in_(names)
                )
            )
            for row in rows:
                for text in (row.name, row.code):
                    if text in names:
                        matches.setdefault(text, set()).add(row.id)
        else:
            matches = self._record_ids(connection, kind[1], names)
        result = {}
        for name, ids in matches.items():
            if len(ids) == 1:
                result[name] = next(iter(ids))
            else:
                self.ambiguous.add((kind, name))
        return result

    def _record_ids(self, connection, form: str, names: list[str]) -> dict[str, set[int]]:
        target = self._display_field(form)
        if target is None:
            return {}
        table, shown, shown_type = target
        by_value: dict[Any, list[str]] = {}
        for name in names:
            try:
                value = shown_type.parse(shown, name)
            except FieldValueError:
                continue
            if value is not None and not isinstance(value, (list, dict)):
                by_value.setdefault(value, []).append(name)
        if not by_value:
            return {}
        column = table.c[shown.key]
        rows = connection.execute(
            sa.select(table.c.id, column).where(
                column.in_(list(by_value)), table.c.deleted_at.is_(None)
            )
        )
        matches: dict[str, set[int]] = {}
        for row in rows:
            for name in by_value.get(row[1], []):
                matches.setdefault(name, set()).add(row[0])
        return matches
