"""The rules a row of an import must pass beyond its own cells, as a save would.

The columns' cells are converted and validated column by column
(:mod:`excel_convert`, with the records' own ``value_check``); :class:`RowChecker`
then checks what needs the whole row or the database with the record writer's
rules for the form (:class:`~runtime.services.records.checks.FormRules`, the
ones every save passes), and reports each problem at its cell:

- the record an ``upsert_by`` value names (and whether the actor may change it,
  and the fields the file fills in it);
- formulas and visibility, and required fields (``RowRules``);
- values of fields no column fills (subtables, formulas, values an upsert keeps);
- unique values — in the database and within the file — and that referenced
  records exist (``DatabaseChecks``), all asked in one statement per batch,
  so 100,000 rows stay fast.

Kept apart from :mod:`excel_import` because this maps the form's rules onto the
file's cells; the rules themselves live with the records.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from resources.messages import tr
from runtime.services.errors import PermissionDenied
from runtime.services.excel.common import column_letter
from runtime.services.excel.convert import Findings
from runtime.services.excel.errors import CellError
from runtime.services.excel.mapping import Fields, ImportColumn
from runtime.services.permissions import Policy
from runtime.services.records.checks import FormRules, Present, RowRules
from runtime.services.records.service import RecordService


class CheckedRow(NamedTuple):
    """A validated row waiting to be written (a tuple: 100,000s of them are made)."""

    source: int  # index among data rows (0-based), for rows_done
    values: dict[str, Any]
    target: tuple[int, int] | None = None  # (record id, version) when upserting


class RowChecker:
    """The row and batch checks of one import into one form.

    :meth:`check` takes a batch's converted rows and answers the valid ones and the
    problems of the others; :meth:`required` tells the column conversion which
    fields need a value.
    """

    def __init__(
        self,
        service: RecordService,
        form: str,
        *,
        policy: Policy,
        rules: FormRules,
        fields: Fields,
        upsert_by: str | None,
        sheet: str,
        columns: list[ImportColumn],
        children: dict[str, Any],
        data_start: int,
        file_errors: list[CellError],
    ) -> None:
        self.service = service
        self.form = form
        self.policy = policy
        self.logic = rules.logic
        #: Unique values and references, asked of the database per batch.
        self.database = rules.database
        #: Every value field of the form (key -> spec, type), in form order.
        self.fields = fields
        self.upsert_by = upsert_by
        #: The main sheet: its name, used columns, subtable rows, first data row.
        self.sheet = sheet
        self.columns = columns
        self.children = children
        self.data_start = data_start
        #: The file's problems: a required field without a column is reported there.
        self.file_errors = file_errors
        #: Values of unique fields seen in the file so far -> their row number.
        self.seen_unique: dict[str, dict[Any, int]] = {}
        self.errors: list[CellError] = []
        self._rules: RowRules | None = None

    def check(self, checks, found: Findings) -> tuple[list[CheckedRow], list[CellError]]:
        """The valid rows of a batch and the problems of the others.

        ``checks``: (data row index, row number, values, keys of bad cells, position
        in the batch) of each row; ``found``: what the columns' checks found.
        """
        self.errors = []
        valid = self._check_rows(checks, found)
        errors, self.errors = self.errors, []
        return valid, errors

    def required(self, key: str) -> bool:
        """Whether a field needs a value (a missing required column is a file error
        already, so its cells are not reported again)."""
        spec, field_type = self.fields[key]
        return (
            spec.required
            and not field_type.computed
            and not field_type.always_unique
            and spec.label not in {e.label for e in self.file_errors}
        )

    def _check_rows(self, checks, found: Findings) -> list[CheckedRow]:
        """Upsert targets, row rules, then the batch's unique and reference checks."""
        sheet = self.sheet
        letters = {c.key: (column_letter(c.index), c.header) for c in self.columns}
        targets = self._upsert_targets(checks)
        batch: list[tuple[int, dict[str, Any], set[str], tuple | None]] = []
        if not (
            self.upsert_by or self.logic.formulas or self.logic.visibility or self._row_rules()
        ):
            # Nothing to merge, compute or check per row: only the columns' problems.
            problems_of = found.problems
            for index, number, values, bad, position in checks:
                problems = problems_of.get(position)
                if problems:
                    for key, message in problems.items():
                        letter, header = letters.get(key, ("", self.fields[key][0].label))
                        self.errors.append(CellError(sheet, number, letter, header, message))
                    batch.append((index, values, set(problems) | bad, None))
                else:
                    batch.append((index, values, bad, None))
            failed = self._batch_checks(batch, letters, sheet)
            return [
                CheckedRow(index, values, None)
                for index, values, skip, _target in batch
                if not skip and index not in failed
            ]
        for index, number, values, bad, position in checks:
            target = targets.get(values.get(self.upsert_by)) if self.upsert_by else None
            refusal = self._refusal(target) if target is not None else None
            if refusal is not None:
                assert self.upsert_by is not None  # only upsert_by finds a target
                letter, header = letters.get(self.upsert_by, ("", self.upsert_by))
                self.errors.append(CellError(sheet, number, letter, header, refusal))
                continue
            if target is not None:
                merged = {**target[2], **{k: v for k, v in values.items() if k in self._mapped()}}
                values = merged
            values, problems = self._check_row(values, bad)
            problems.update(found.problems.get(position, ()))
            for key, message in problems.items():
                letter, header = letters.get(key, ("", self.fields[key][0].label))
                self.errors.append(CellError(sheet, number, letter, header, message))
            # Rows with problems are checked too, so every problem of a row is reported.
            skip = set(problems) | bad
            batch.append((index, values, skip, target[:2] if target else None))
        failed = self._batch_checks(batch, letters, sheet)
        return [
            CheckedRow(index, values, target)
            for index, values, skip, target in batch
            if not skip and index not in failed
        ]

    def _mapped(self) -> set[str]:
        keys = {c.key for c in self.columns}
        return keys | set(self.children)

    def _check_row(self, values: dict[str, Any], bad: set[str]):
        """The row rules of a save that were not checked with the columns: (values
        with formulas computed, problems by key)."""
        rules = self._row_rules()
        if self.logic.formulas or self.logic.visibility:
            values = self.logic.compute(values)
            hidden = self.logic.hidden_fields(values)
        elif not rules:
            return values, {}
        else:
            hidden = set()
        return values, rules.problems(values, bad, hidden)

    def _row_rules(self) -> RowRules:
        """The form's row rules for the fields the columns did not check.

        Columns are validated as they are converted, so here they need only the
        required check that visibility decides; every other field (subtables,
        formulas, values kept by an upsert) is validated here, each distinct value
        once (``validate`` is pure).
        """
        if self._rules is None:
            columns = {c.key for c in self.columns}
            checked = [
                (key, spec, field_type)
                for key, (spec, field_type) in self.fields.items()
                if key not in columns or (self.logic.visibility and self.required(key))
            ]
            required = {key for key in self.fields if self.required(key)}
            self._rules = RowRules(checked, required, checked=columns, remember=True)
        return self._rules

    def _refusal(self, target: tuple) -> str | None:
        """Why the actor may not write an upsert's row over its record, if so: the
        record is outside the update scope, or a field the file fills may not be
        set in it (the writer's per-record field modes)."""
        if not target[3]:
            return tr("this record belongs to another department or user; you may not change it")
        refused = self._mapped() & set(self.fields) - target[4]
        if not refused:
            return None
        try:
            self.policy.check_writes(self.form, sorted(refused), "import", writable=target[4])
        except PermissionDenied as error:
            return error.message
        return None

    def _upsert_targets(self, converted) -> dict[Any, tuple]:
        """Existing records by the upsert key's value: (id, version, values, in
        update scope, the fields the actor may set in it)."""
        if self.upsert_by is None:
            return {}
        wanted = [
            v[self.upsert_by]
            for _i, _n, v, _b, _p in converted
            if v.get(self.upsert_by) is not None
        ]
        if not wanted:
            return {}
        holders = self.service.records_holding(
            self.form, self.upsert_by, sorted(set(wanted), key=str)
        )
        writer, policy, form = self.service.writer, self.policy, self.form
        return {
            value: (
                record.id,
                record.version,
                record.values,
                policy.row_allowed(form, "update", record.created_by, record.owner_department),
                writer.writable(policy, form, record, "import"),
            )
            for value, record in holders.items()
        }

    def _batch_checks(self, checks, letters, sheet) -> set[int]:
        """Unique values (database and file) and references, per batch; failed indexes."""
        if not self.database:
            return set()
        first = self.data_start + 1  # the row number of data row index 0
        present: dict[str, Present] = {
            key: [
                (first + index, values[key], target[0] if target else None)
                for index, values, skip, target in checks
                if values.get(key) is not None and key not in skip
            ]
            for key in self.database.keys
        }
        with self.service.workspace.reader() as connection:
            problems = self.database.problems(connection, present, self.seen_unique)
        failed: set[int] = set()
        for number, key, message in problems:
            letter, header = letters.get(key, ("", self.fields[key][0].label))
            self.errors.append(CellError(sheet, number, letter, header, message))
            failed.add(number - first)
        return failed
