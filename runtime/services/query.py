"""What a screen asks the record services for, and what it gets back.

Plain value types, defined by the store (which turns a query into SQL) and
re-exported here so the screens import services, never the store: a record
list's filters, search, sort and keyset cursor, the operators a filter offers,
and the rows a read returns (a record, one entry of its history).
"""

from __future__ import annotations

from runtime.store.audit import AuditRow
from runtime.store.query import (
    OPERATOR_LABELS,
    OPERATORS_BY_KIND,
    AllOf,
    AnyOf,
    Condition,
    Cursor,
    Filter,
    Operator,
    RecordQuery,
    Sort,
    all_of,
)
from runtime.store.record_pages import Record

__all__ = [
    "OPERATORS_BY_KIND",
    "OPERATOR_LABELS",
    "AllOf",
    "AnyOf",
    "AuditRow",
    "Condition",
    "Cursor",
    "Filter",
    "Operator",
    "Record",
    "RecordQuery",
    "Sort",
    "all_of",
]
