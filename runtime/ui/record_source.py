"""The Qt-free half of the record table: what to read and how rows are shown.

Worker threads call :class:`RecordSource` to read a page and turn it into display
text, so the GUI thread only looks strings up. Names of users, departments and
linked records are resolved here too (cached by the ReferenceSource).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from runtime.services.actor import Actor
from runtime.services.query import Cursor, Record, RecordQuery
from runtime.services.records.references import NameMap
from runtime.services.records.service import RecordService
from runtime.spec.models import FormSpec
from runtime.ui.history import local_time_text
from widgets.base import ExcelContext, FieldSpecBase, ReferenceSource
from widgets.registry import FieldTypeRegistry

#: System columns a list may show besides the fields, with their labels.
SYSTEM_COLUMNS = {"id": "No.", "created_at": "Created", "updated_at": "Last changed"}


@dataclass(frozen=True)
class Column:
    """A list column: a field (``spec``) or a system column (``spec`` is None)."""

    key: str
    label: str
    spec: FieldSpecBase | None = None


@dataclass(frozen=True)
class Row:
    """One loaded row: its id and version, and the text of each visible column."""

    id: int
    version: int
    texts: tuple[str, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True)
class LoadedPage:
    rows: list[Row]
    #: Cursor after the last row, None when this is the last page.
    next_cursor: Cursor | None


def list_columns(form: FormSpec, registry: FieldTypeRegistry) -> list[Column]:
    """Every column a list of this form can show: stored fields, then system columns."""
    columns = [
        Column(spec.key, spec.label, spec)
        for spec in form.fields
        if registry.of(spec).has_value and registry.of(spec).sql_type(spec) is not None
    ]
    return columns + [Column(key, label) for key, label in SYSTEM_COLUMNS.items()]


class RecordSource:
    """Reads pages of one form's records for one query, as one user."""

    def __init__(
        self,
        records: RecordService,
        actor: Actor,
        form: FormSpec,
        columns: list[Column],
        query: RecordQuery,
        references: ReferenceSource,
    ) -> None:
        self.records = records
        self.actor = actor
        self.form = form
        self.columns = columns
        self.references = references
        self.context = ExcelContext(names=NameMap(references))
        field_keys = {c.key for c in list_columns(form, records.registry) if c.spec}
        wanted = [c.key for c in columns if c.spec is not None]
        if query.sort.field in field_keys and query.sort.field not in wanted:
            wanted.append(query.sort.field)  # the keyset cursor needs the sort value
        self.query = replace(query, columns=tuple(wanted))

    def count(self) -> int:
        return self.records.count(self.form.key, self.query, self.actor)

    def for_ids(self) -> RecordSource:
        """The same list read without its shown columns: pages of ids (and the sort
        value their cursors need), for work on many rows such as a batch delete."""
        return RecordSource(self.records, self.actor, self.form, [], self.query, self.references)

    def cursor_at(self, row: int, start: Cursor | None = None) -> Cursor | None:
        """The cursor just before row ``row`` counted after ``start`` (None: the top):
        a page read after it starts there (``start`` at row 0, None past the end);
        one narrow query over the sort index."""
        return self.records.cursor_at(self.form.key, self.query, row, self.actor, start)

    def position_marks(self, every: int, stopped: Callable[[], bool]) -> list[Cursor]:
        """The page starts of rows ``every``, 2·``every``, …: one walk of the sort
        index, given up (marks so far) once ``stopped()``."""
        return self.records.position_marks(self.form.key, self.query, every, self.actor, stopped)

    def read(self, after: Cursor | None, limit: int) -> tuple[list[Record], Cursor | None]:
        page = self.records.page(self.form.key, self.query, after, limit, self.actor)
        return page.records, page.next_cursor

    def load(self, after: Cursor | None, limit: int) -> LoadedPage:
        """A page with display text for every visible column."""
        records, next_cursor = self.read(after, limit)
        self.prefetch_names(records)
        return LoadedPage([self.row(record) for record in records], next_cursor)

    def prefetch_names(self, records: list[Record]) -> None:
        """The names of every user, department and linked record the page shows,
        in one look-up per kind (not one per row)."""
        wanted: dict[Any, set[int]] = {}
        registry = self.records.registry
        for column in self.columns:
            if column.spec is None:
                continue
            kind = registry.of(column.spec).reference_kind(column.spec)
            if kind is None:
                continue
            bucket = wanted.setdefault(kind, set())
            for record in records:
                value = record.values.get(column.key)
                if isinstance(value, list):
                    bucket.update(v for v in value if isinstance(v, int))
                elif isinstance(value, int):
                    bucket.add(value)
        wanted = {kind: ids for kind, ids in wanted.items() if ids}
        if wanted:
            self.references.prefetch_names(wanted)

    def row(self, record: Record) -> Row:
        values = tuple(self._value(record, column) for column in self.columns)
        texts = tuple(
            self._text(column, value) for column, value in zip(self.columns, values, strict=True)
        )
        return Row(record.id, record.version, texts, values)

    @staticmethod
    def _value(record: Record, column: Column) -> Any:
        if column.spec is not None:
            return record.values.get(column.key)
        return getattr(record, column.key)

    def _text(self, column: Column, value: Any) -> str:
        if column.spec is None:
            return local_time_text(value) if isinstance(value, datetime) else str(value)
        try:
            return self.records.registry.of(column.spec).display(column.spec, value, self.context)
        except Exception:  # a stored value that no longer fits its type must not break the list
            return "" if value is None else str(value)
