"""Rows of an import identical to records already in the form.

Importing a corrected copy of a file after a finished import would add every row
a second time; the import counts the rows that would create a record whose values
in the file's columns equal those of a live record, and asks before writing them
(``allow_duplicates``). Only records the importing user may read are compared, and
nothing is compared when a column fills a field the user may not read: the count
would tell what those records hold.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from runtime.services.excel.checks import CheckedRow
from runtime.services.excel.mapping import RECORD_ID, ImportColumn
from runtime.services.permissions import Policy
from runtime.services.records.service import RecordService


class RowsInForm:
    """The form's readable records as tuples of the compared fields, read once (at
    the first batch; an empty form costs one empty query)."""

    def __init__(
        self,
        service: RecordService,
        form: str,
        policy: Policy,
        columns: Sequence[ImportColumn],
    ) -> None:
        self.service = service
        self.form = form
        self.policy = policy
        columns_of_form = service.form_tables(form).columns
        self.keys = [c.key for c in columns if c.key != RECORD_ID and c.key in columns_of_form]
        self._existing: set[tuple] | None = None

    def count(self, rows: Sequence[CheckedRow]) -> int:
        """How many of ``rows`` would create a record identical to one in the form."""
        if self._existing is None:
            self._existing = self._read()
        existing, keys = self._existing, self.keys
        if not existing:
            return 0
        return sum(
            1
            for row in rows
            if row.target is None and frozen(tuple(row.values.get(k) for k in keys)) in existing
        )

    def _read(self) -> set[tuple]:
        readable = set(self.policy.visible_fields(self.form))
        if not self.keys or not set(self.keys) <= readable:
            return set()
        rows = self.service.value_rows(self.form, self.keys, self.policy)
        return {frozen(row) for row in rows}


def frozen(values: tuple) -> tuple:
    """A row's values as a set member: lists and dicts (JSON values) as their text."""
    try:
        hash(values)
    except TypeError:
        return tuple(
            json.dumps(v, sort_keys=True, default=str) if isinstance(v, list | dict) else v
            for v in values
        )
    return values
