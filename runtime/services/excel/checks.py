"""The rules a row of an import must pass beyond its own cells, as a save would.

The columns' cells are converted and validated column by column
(:mod:`excel_convert`); :class:`RowChecker` then checks what needs the whole row or
the database, the way ``RecordService`` checks a save:

- the record an ``upsert_by`` value names (and whether the actor may change it);
- formulas and visibility (``FormLogic``), and required fields;
- values of fields no column fills (subtables, formulas, values an upsert keeps);
- unique values — in the database and within the file — and that referenced
  records exist, both asked in one query per field and batch, so 100,000 rows stay
  fast.

Kept apart from :mod:`excel_import` because these are the form's rules, not the
file's layout or the writing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from resources.messages import tr
from runtime.services.excel.common import column_letter
from runtime.services.excel.convert import IMMUTABLE_TYPES, MEMO_SIZE, Findings
from runtime.services.excel.errors import CellError
from runtime.services.excel.mapping import Fields, ImportColumn
from runtime.services.permissions import Policy
from runtime.services.records.form_logic import FormLogic
from runtime.services.records.service import RecordService
from runtime.store.schema import FormTables
from widgets.base import FieldValueError


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
        logic: FormLogic,
        tables: FormTables,
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
        self.logic = logic
        self.tables = tables
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
        #: Values of unique fields seen in the file so far -> their data row index.
        self.seen_unique: dict[str, dict[Any, int]] = {}
        self.errors: list[CellError] = []
        self._rules: list | None = None

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
            if target is not None and not target[3]:
                letter, header = letters.get(self.upsert_by, ("", self.upsert_by))
                message = tr(
                    "this record belongs to another department or user; you may not change it"
                )
                self.errors.append(CellError(sheet, number, letter, header, message))
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
        """The checks of RecordService._prepare that need no database and were not
        done with the columns: (values with formulas computed, problems by key)."""
        rules = self._row_rules()
        if self.logic.formulas or self.logic.visibility:
            values = self.logic.compute(values)
            hidden = self.logic.hidden_fields(values)
        elif not rules:
            return values, {}
        else:
            hidden = set()
        problems: dict[str, str] = {}
        for key, spec, field_type, required, passed in rules:
            if key in bad:
                continue
            value = values[key]
            if value is None or field_type.is_empty(value):
                # a hidden field is not required (a value it holds must still fit)
                if required and key not in hidden:
                    problems[key] = tr("is required")
                continue
            if passed is None:  # validated with its column
                continue
            memo = type(value) in IMMUTABLE_TYPES
            if memo and value in passed:
                continue
            try:
                field_type.validate(spec, value)
            except FieldValueError as error:
                problems[key] = error.message
                continue
            if memo and len(passed) < MEMO_SIZE:
                passed.add(value)
        return values, problems

    def _row_rules(self) -> list:
        """(key, spec, type, required, values known to pass) for the per-row checks.

        Columns are validated as they are converted, so here they need only the
        required check that visibility decides (``passed`` None); every other field
        (subtables, formulas, values kept by an upsert) is validated here, each
        distinct value once (``validate`` is pure).
        """
        if self._rules is None:
            columns = {c.key for c in self.columns}
            self._rules = [
                (key, spec, field_type, self.required(key), None if key in columns else set())
                for key, (spec, field_type) in self.fields.items()
                if key not in columns or (self.logic.visibility and self.required(key))
            ]
        return self._rules

    def _upsert_targets(self, converted) -> dict[Any, tuple[int, int, dict, bool]]:
        """Existing records (id, version, values, in update scope) by the upsert key's value."""
        if self.upsert_by is None:
            return {}
        wanted = [
            v[self.upsert_by]
            for _i, _n, v, _b, _p in converted
            if v.get(self.upsert_by) is not None
        ]
        found: dict[Any, tuple[int, int, dict, bool]] = {}
        if not wanted:
            return found
        repository = self.service.repository
        with self.service.workspace.reader() as connection:
            holders = repository.values_in_use(
                connection, self.form, self.upsert_by, sorted(set(wanted), key=str)
            )
            for value, ident in holders.items():
                record = repository.fetch(connection, self.form, ident)
                if record is not None:
                    in_scope = self.policy.row_allowed(
                        self.form, "update", record.created_by, record.owner_department
                    )
                    found[value] = (record.id, record.version, record.values, in_scope)
        return found

    def _batch_checks(self, checks, letters, sheet) -> set[int]:
        """Unique values (database and file) and references, per batch; failed indexes."""
        failed: set[int] = set()
        repository = self.service.repository
        number_of = {index: self.data_start + index + 1 for index, *_ in checks}
        with self.service.workspace.reader() as connection:
            for key, (spec, field_type) in self.fields.items():
                if key not in self.tables.columns:
                    continue
                unique = spec.unique or field_type.always_unique
                kind = field_type.reference_kind(spec)
                if not unique and kind is None:
                    continue
                present = [
                    (i, v[key], t)
                    for i, v, skip, t in checks
                    if v.get(key) is not None and key not in skip
                ]
                if not present:
                    continue
                letter, header = letters.get(key, ("", spec.label))
                if unique:
                    taken = repository.values_in_use(
                        connection, self.form, key, [p[1] for p in present]
                    )
                    seen = self.seen_unique.setdefault(key, {})
                    for index, value, target in present:
                        owner = taken.get(value)
                        if owner is not None and (target is None or owner != target[0]):
                            message = tr("'{value}' is already used by another record").format(
                                value=field_type.display(spec, value)
                            )
                        elif value in seen and seen[value] != index:
                            first = seen[value]
                            message = tr("'{value}' is also in row {row}").format(
                                value=field_type.display(spec, value),
                                row=number_of.get(first, first + self.data_start + 1),
                            )
                        else:
                            seen[value] = index
                            continue
                        self.errors.append(
                            CellError(sheet, number_of[index], letter, header, message)
                        )
                        failed.add(index)
                if kind is not None:
                    ids = {i for _x, v, _t in present for i in (v if isinstance(v, list) else [v])}
                    existing = repository.existing_references(connection, kind, sorted(ids))
                    for index, value, _target in present:
                        for ident in value if isinstance(value, list) else [value]:
                            if ident not in existing:
                                self.errors.append(
                                    CellError(
                                        sheet,
                                        number_of[index],
                                        letter,
                                        header,
                                        tr(
                                            "#{id} does not exist (it may have been deleted)"
                                        ).format(id=ident),
                                    )
                                )
                                failed.add(index)
                                break
        return failed
