"""How an import turns the cells of one column into field values, fast.

Every cell goes through its field type's ``from_excel`` and ``validate``. Doing
that one cell at a time through the general path is what makes an import slow, so
the pieces here let :class:`~runtime.services.excel.importer._Import` convert a whole
column of a batch at once:

- :func:`cell_converter` — ``from_excel`` of one column, bound to its spec and the
  batch's reverse names (the general path);
- :func:`fast_converter` — a shortcut that converts *and* validates a cell in one
  call, for the types where that is safe; it answers :data:`MISS` for anything it
  leaves to the general path;
- :func:`remembered` — values already converted for a repeated cell (options,
  dates, small numbers: a column's memo holds at most
  :data:`~runtime.services.records.checks.MEMO_SIZE`);
- :class:`Findings` — the problems a batch's columns found, for the row checks.

They are plain functions and closures: the import calls them once per column and
batch, and the closures they return run once per cell with everything they need
bound to local names (no attribute look-ups, no dispatch per cell). A column's
values are then checked by the records' own rule, as a save checks them
(:func:`runtime.services.records.checks.value_check`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from resources.messages import tr
from runtime.services.names import NameResolver
from widgets.base import ExcelContext, FieldType, FieldValueError
from widgets.types._shared import StringFieldType
from widgets.types.date import TemporalFieldType, is_number

if TYPE_CHECKING:  # the mapping module converts subtable sheets with these functions
    from runtime.services.excel.mapping import ImportColumn

#: What the shortcut and the memo answer for a cell they leave to the general path.
MISS = object()


class Findings:
    """Per batch: cells that could not be converted, and values that fail their
    field's rules, by row position in the batch."""

    def __init__(self) -> None:
        self.bad: dict[int, set[str]] = {}
        self.problems: dict[int, dict[str, str]] = {}

    def problem(self, position: int, key: str, message: str) -> None:
        self.problems.setdefault(position, {})[key] = message


def transpose(rows: list[list[Any]], width: int) -> list[tuple]:
    """Rows → columns (``width`` of them at least; short rows padded with None)."""
    padded = [row if len(row) >= width else row + [None] * (width - len(row)) for row in rows]
    columns = list(zip(*padded, strict=False)) if padded else []
    return columns if columns else [()] * width


def reverse_context(
    resolver: NameResolver, columns: Iterable[ImportColumn], rows: Sequence[list]
) -> ExcelContext:
    """The ids of every name that the reference columns of ``rows`` mention."""
    wanted: dict[Any, set[str]] = {}
    for column in columns:
        if column.kind is None:
            continue
        bucket = wanted.setdefault(column.kind, set())
        for row in rows:
            cell = row[column.index] if column.index < len(row) else None
            if type(cell) is str:
                bucket.update(part.strip() for part in _split_names(cell))
    return resolver.reverse_context(wanted) if wanted else ExcelContext()


def cell_converter(
    column: ImportColumn, context: ExcelContext, text_only: bool
) -> Callable[[Any], Any]:
    """``from_excel`` of one column bound to its spec and the batch's names."""
    assert column.field_type is not None  # a field's column, not the record id's
    from_excel, spec = column.field_type.from_excel, column.spec
    if not text_only:
        return lambda cell: from_excel(spec, cell, context)

    def convert(cell: Any) -> Any:
        if type(cell) is str and cell.startswith("'"):
            cell = cell[1:]  # the CSV text marker written by export (see excel_export)
        return from_excel(spec, cell, context)

    return convert


def cell_message(
    resolver: NameResolver, column: ImportColumn, cell: Any, error: FieldValueError
) -> str:
    """What to tell the user about a cell its field type refused."""
    if column.kind is not None and type(cell) is str:
        names = [n.strip() for n in _split_names(cell)]
        if any((column.kind, n) in resolver.ambiguous for n in names):
            return tr("'{cell}' names more than one; write #id instead").format(cell=cell)
    return error.message


def fast_converter(column: ImportColumn, text_only: bool) -> Callable[[Any], Any] | None:
    """A column's shortcut for cells that convert to a valid, non-empty value, or
    None: ``from_excel`` then ``validate`` in one call of the type's own
    :meth:`~widgets.base.FieldType.cell_checker` (coerce, then validate).

    It returns :data:`MISS` for anything else — blank results, values the checker
    refuses, cells the type reads its own way — and those take the general path,
    which reports the very same messages. Only for types whose ``from_excel`` is
    ``parse`` of the trimmed text for a text cell and ``coerce`` for any other
    (temporal types: except numbers, which are Excel serials), and never for
    references (their names depend on the batch).
    """
    field_type, spec = column.field_type, column.spec
    assert field_type is not None  # a field's column, not the record id's
    kind = type(field_type)
    from_excel = kind.from_excel
    temporal = from_excel is TemporalFieldType.from_excel
    if column.kind is not None or not (from_excel is FieldType.from_excel or temporal):
        return None
    checker, is_empty = field_type.cell_checker(spec), field_type.is_empty
    text = kind.parse in (FieldType.parse, StringFieldType.parse)
    marked = text_only  # the CSV text marker: the general path removes it

    def fast(cell: Any) -> Any:
        cls = cell.__class__
        if cls is str:
            if not text or (marked and cell.startswith("'")):
                return MISS
            cell = cell.strip()
            if not cell:
                return MISS
        elif isinstance(cell, str) or (temporal and is_number(cell)):
            return MISS  # a str subclass; an Excel serial
        try:
            value = checker(cell)
        except FieldValueError:
            return MISS
        return MISS if value is None or is_empty(value) else value

    return fast


def remembered(memo: dict | None, cells: Sequence[Any]) -> list:
    """Remembered values of ``cells``; ``None`` for blank cells, :data:`MISS` for others."""
    if memo is None:
        return [None if cell is None else MISS for cell in cells]
    get = memo.get
    return [None if cell is None else get((cell.__class__, cell), MISS) for cell in cells]


def _split_names(text: str) -> list[str]:
    from widgets.types.user import SPLIT_RE

    return [part for part in SPLIT_RE.split(text) if part.strip()] or [text]
