"""Pieces shared by Excel/CSV export, import and templates (Qt-free).

Long-running work (export, import) is a generator of
:class:`~runtime.services.progress.Progress` steps whose return value is the
result (see :mod:`runtime.services.progress`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

# Re-exported until every caller imports them from runtime.services.progress
# (runtime/cli_excel.py, moved by the CLI restructuring, still imports them here).
from runtime.store.query import AllOf, AnyOf, Condition, Filter
from widgets.base import FieldSpecBase, FieldType
from widgets.registry import FieldTypeRegistry

#: Header of the column that links subtable rows to their record.
RECORD_ID_LABEL = "Record ID"
RECORD_ID_NAMES = frozenset({"record id", "id", "记录id", "记录 id"})
#: Characters that make a spreadsheet treat text as a formula (CSV injection).
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limit of characters in one cell.
EXCEL_CELL_LIMIT = 32767
MAX_COLUMN_WIDTH = 60
WIDTH_SAMPLE_ROWS = 1000


class ExcelError(Exception):
    """A problem to show the user as one clear sentence (``message``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalize_label(text: Any) -> str:
    """A header or label for matching: NFKC, case-folded, inner whitespace collapsed,
    a trailing required-marker ``*`` dropped."""
    if text is None:
        return ""
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    folded = " ".join(folded.split())
    return folded.rstrip("* ").strip()


def text_width(text: str) -> int:
    """Display width in Excel character units: CJK/full-width characters count double."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def is_dangerous(text: str) -> bool:
    return text.startswith(DANGEROUS_PREFIXES)


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_title(text: str, taken: Iterable[str] = ()) -> str:
    """A valid, unique worksheet name (31 characters, no []:*?/\\)."""
    base = _SHEET_BAD.sub("_", text).strip("'") or "Sheet"
    base = base[:31]
    used = {name.casefold() for name in taken}
    candidate, number = base, 2
    while candidate.casefold() in used:
        suffix = f" ({number})"
        candidate = base[: 31 - len(suffix)] + suffix
        number += 1
    return candidate


def sibling_temp(path: Path) -> Path:
    """A temporary file name in the same folder (so ``os.replace`` is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


class GuardedFile:
    """A file for a zip writer that fails once, then stays quiet.

    When the disk fills while xlsxwriter's ``ZipFile`` writes, the error ends the
    export; the ``ZipFile`` left behind would try to write its directory again when
    it is collected and print a traceback (``Exception ignored in ZipFile.__del__``).
    After the first failed write this file drops every later write, and
    :meth:`discard` closes it without raising.
    """

    def __init__(self, path: Path) -> None:
        self.handle = open(path, "wb")  # noqa: SIM115 - closed by close()/discard()
        self.failed = False

    def write(self, data: bytes) -> int:
        if self.failed:
            return len(data)
        try:
            return self.handle.write(data)
        except OSError:
            self.failed = True
            raise

    def flush(self) -> None:
        if not self.failed:
            try:
                self.handle.flush()
            except OSError:
                self.failed = True
                raise

    def seek(self, offset: int, whence: int = 0) -> int:
        return offset if self.failed else self.handle.seek(offset, whence)

    def tell(self) -> int:
        return 0 if self.failed else self.handle.tell()

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        """Write what is buffered and close; a full disk raises here, once."""
        if self.failed:
            self.discard()
            return
        try:
            self.handle.close()
        except OSError:
            self.discard()
            raise

    def discard(self) -> None:
        """Close without writing anything more and without raising."""
        self.failed = True
        with contextlib.suppress(OSError, ValueError):
            self.handle.close()  # the descriptor is closed even when the flush fails


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during one step of long work (never across a
    yield: the caller's code between steps runs with the collector as it was).

    A step of an export or import makes 100,000s of short-lived lists, dicts and
    values, all freed by reference counting; the collector would walk every live
    object again and again to find nothing (a twentieth of an export's time, a
    fifth of an import's).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def removing_on_failure(*paths: Path | Callable[[], Iterable[Path]]):
    """Delete ``paths`` if the block fails or the generator around it is closed.

    A callable is asked for its paths at that moment (files created inside the block).
    """
    try:
        yield
    except BaseException:
        for item in paths:
            for path in item() if callable(item) else [item]:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        raise


def value_fields(form_fields: Iterable[FieldSpecBase], registry: FieldTypeRegistry):
    """(spec, type) of the top-level fields that hold a value, in form order."""
    for spec in form_fields:
        field_type = registry.of(spec)
        if field_type.has_value:
            yield spec, field_type


def subtable_children(field_type: FieldType, spec: FieldSpecBase, registry: FieldTypeRegistry):
    """(child spec, child type) of a field with nested columns (a subtable)."""
    return [
        (child, registry.of(child))
        for child in field_type.children(spec)
        if registry.of(child).has_value
    ]


def filter_fields(node: Filter | None) -> set[str]:
    """Every field key a filter looks at."""
    found: set[str] = set()
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, Condition):
            found.add(current.field)
        elif isinstance(current, (AllOf, AnyOf)):
            stack.extend(current.parts)
    return found


# -- cell values (by the Python type of a value a FieldType produced) ------------------

#: Number formats for date-like cells whose field type names none.
DEFAULT_FORMATS: dict[type, str] = {
    dt.date: "yyyy-mm-dd",
    dt.datetime: "yyyy-mm-dd hh:mm",
    dt.time: "hh:mm",
}


def cell_text(value: Any) -> str:
    """A cell value (as ``FieldType.to_excel`` gives it) as plain CSV text."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is dt.datetime:
        return value.strftime("%Y-%m-%d %H:%M")
    if kind is dt.time:
        return value.strftime("%H:%M")
    if kind is dt.date:
        return value.isoformat()
    if kind is Decimal:
        return format(value, "f")
    return str(value)
