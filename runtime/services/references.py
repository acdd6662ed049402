"""What editors and lists ask about people, departments, records and files.

The runtime's windows and editors only see the :class:`widgets.base.ReferenceSource`
interface; this is its implementation over one workspace, as one user (record
searches and names go through the record service, so row scopes apply).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from runtime.services.actor import Actor
from runtime.services.files import FileStore
from runtime.services.records import NotFound, RecordService
from runtime.store.query import Condition, RecordQuery
from runtime.store.repository import escape_like
from runtime.store.schema import departments_table, users_table
from widgets.base import ReferenceSource


class WorkspaceReferences(ReferenceSource):
    """Names and searches for one app in one workspace, as one user; names are cached."""

    def __init__(self, records: RecordService, actor: Actor) -> None:
        self.records = records
        self.actor = actor
        self._names: dict[Any, str] = {}
        self._lock = threading.Lock()

    # -- searches -----------------------------------------------------------
    def search_users(self, text: str, limit: int = 50) -> list[tuple[int, str]]:
        table = users_table
        match = _like(table.c.display_name, text) | _like(table.c.username, text)
        query = sa.select(table.c.id, table.c.display_name).where(table.c.active, match)
        return self._rows(query.order_by(table.c.display_name).limit(limit))

    def search_departments(self, text: str, limit: int = 50) -> list[tuple[int, str]]:
        table = departments_table
        query = sa.select(table.c.id, table.c.name).where(table.c.active, _like(table.c.name, text))
        return self._rows(query.order_by(table.c.name).limit(limit))

    def search_records(
        self, form: str, display_field: str, text: str, limit: int = 50
    ) -> list[tuple[int, str]]:
        condition = Condition(display_field, "contains", text) if text else None
        query = RecordQuery(filter=condition, columns=(display_field,))
        page = self.records.page(form, query, limit=limit, actor=self.actor)
        return [(r.id, str(r.values.get(display_field) or f"#{r.id}")) for r in page.records]

    def _rows(self, query) -> list[tuple[int, str]]:
        with self.records.workspace.reader() as connection:
            return [(row[0], row[1]) for row in connection.execute(query)]

    # -- names --------------------------------------------------------------
    def name_of(self, kind: Any, ident: int) -> str:
        key = (kind, ident)
        with self._lock:
            cached = self._names.get(key)
        if cached is None:
            cached = self._lookup_name(kind, ident)
            with self._lock:
                self._names[key] = cached
        return cached

    def forget_names(self) -> None:
        """Drop cached names (after a record or a user was renamed)."""
        with self._lock:
            self._names.clear()

    def _lookup_name(self, kind: Any, ident: int) -> str:
        if kind in ("user", "department"):
            table = users_table if kind == "user" else departments_table
            column = table.c.display_name if kind == "user" else table.c.name
            rows = self._rows(sa.select(table.c.id, column).where(table.c.id == ident))
            return rows[0][1] if rows else f"#{ident}"
        if isinstance(kind, tuple) and kind[0] == "record":
            return self._record_name(kind[1], ident)
        return f"#{ident}"

    def _record_name(self, form: str, ident: int) -> str:
        display = self._display_field(form)
        try:
            record = self.records.get(form, ident, self.actor)
        except NotFound:
            return f"#{ident}"
        value = record.values.get(display) if display else None
        return str(value) if value not in (None, "") else f"#{ident}"

    def _display_field(self, form: str) -> str | None:
        """The display field the app's lookups use for a form (the first one found)."""
        for form_spec in self.records.spec.forms:
            for spec in form_spec.fields:
                if getattr(spec, "form", None) == form and getattr(spec, "display_field", ""):
                    return spec.display_field
        return None

    # -- the session ----------------------------------------------------------
    def current_user(self) -> tuple[int, str] | None:
        if self.actor.user_id is None:
            return None
        return self.actor.user_id, self.actor.display_name or self.actor.username

    def current_department(self) -> tuple[int, str] | None:
        ident = self.actor.primary_department
        return None if ident is None else (ident, self.name_of("department", ident))

    def read_file(self, sha256: str) -> bytes | None:
        return FileStore(self.records.workspace).read_file(sha256)


def _like(column, text: str):
    return column.ilike(f"%{escape_like(text)}%", escape="\\")


class NameMap(Mapping):
    """``ExcelContext.names`` that asks a ReferenceSource for names it has not seen."""

    def __init__(self, references: ReferenceSource) -> None:
        self.references = references

    def __getitem__(self, key: Any) -> str:
        kind, ident = key
        return self.references.name_of(kind, ident)

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0
