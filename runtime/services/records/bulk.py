"""Bulk rows as canonical tuples: the per-cell converter of ``bulk_create``.

``RecordWriter.bulk_create`` (:mod:`runtime.services.records.writer`) checks the
permissions, assigns serial numbers, checks references and unique values per
chunk and writes; each row's values go through the converter made here, tuned
for throughput (seeding, benchmarks): it runs for every cell.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from runtime.services.records.checks import CellCheck
from runtime.services.records.form_logic import FormLogic
from widgets.base import FieldSpecBase, FieldValueError


def _row_converter(
    registry,
    columns: dict[str, FieldSpecBase],
    logic: FormLogic,
    encoders: list[Callable[[Any], Any] | None] | None = None,
    dialect: str = "",
) -> Callable[[dict[str, Any]], tuple]:
    """A function from one row dict to its values in column order: canonical values,
    or with ``encoders`` (per column, see ``BulkInsert.cell_encoders``) the driver
    parameters themselves, each cell checked and encoded in one step.

    It raises FieldValueError naming the field. Without formulas or visibility
    rules (the common case) it is one pass of per-column checkers straight into
    a tuple — it runs for every imported cell, so it is kept tight.
    """
    checks = [(key, CellCheck(spec, registry.of(spec))) for key, spec in columns.items()]
    if logic.formulas or logic.visibility:
        if encoders is not None:
            raise ValueError("rows with formulas or visibility rules are encoded by arrange")
        return lambda row: _row_with_rules(checks, logic, row)
    keys = [key for key, _check in checks]
    if encoders is None:
        fast = [check.fast for _key, check in checks]
    else:
        fast = [
            check.field_type.stored_cell_checker(check.spec, check.fast, encode, dialect)
            for (_key, check), encode in zip(checks, encoders, strict=True)
        ]

    def convert(row: dict[str, Any]) -> tuple:
        get = row.get
        try:  # map() keeps the per-cell loop in C: this runs for every cell
            return tuple(map(operator.call, fast, map(get, keys)))
        except FieldValueError:
            for key, check in checks:  # again, slowly, to name the field
                check(get(key))
            raise

    return convert


def _row_with_rules(checks, logic: FormLogic, row: dict[str, Any]) -> tuple:
    """Formulas and visible_when apply as in a single save (hidden is not required)."""
    values = {key: check.coerce(row.get(key)) for key, check in checks}
    values = logic.compute(values)
    hidden = logic.hidden_fields(values)
    for key, check in checks:
        check.validate(values[key], key not in hidden)
    return tuple(values.values())
