"""Bulk creation of records: many rows, each validated like a single save, inserted
at driver speed in one transaction.

``RecordService.bulk_create`` delegates here. It is separate from the service
because its shape is different: rows stream through a per-row generator and a
per-cell converter tuned for throughput (seeding, benchmarks, Excel imports),
while the service's other use cases work on one record at a time. Permissions,
serial numbers, unique-value races and the audit row go through the service's
own helpers, so a bulk row is treated exactly as a single save would be.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from resources.messages import tr
from runtime.services.actor import Actor
from runtime.services.errors import PermissionDenied
from runtime.services.records.checks import BulkChecks, CellCheck, row_key
from runtime.services.records.errors import ValidationFailed
from runtime.services.records.form_logic import FormLogic
from runtime.store.audit import utc_now
from runtime.store.audit_seals import InsertSealer
from widgets.base import FieldSpecBase, FieldValueError

if TYPE_CHECKING:
    from runtime.services.records.service import RecordService


def bulk_create(
    service: RecordService,
    form: str,
    rows: Iterable[dict[str, Any]],
    actor: Actor,
    action: str,
) -> int:
    """Insert ``rows`` into ``form`` for ``actor``; see ``RecordService.bulk_create``."""
    policy = service.policy(actor, form)
    policy.require(form, action)
    tables = service.repository.form_tables(form)
    keys = list(tables.columns)
    logic = service.logic(form)
    writable = (
        set(tables.columns) if policy.full_access else set(policy.writable_fields(form, action))
    )

    assigns = any(service.registry.of(spec).assigns_on_create for spec in tables.columns.values())

    def tuples(connection: Connection, now: datetime, convert) -> Iterable[tuple]:
        known = tables.columns.keys()
        for number, row in enumerate(rows, start=1):
            if not row.keys() <= writable:  # writable fields are known ones: one test
                _refuse_unwritable(policy, form, action, row, known, writable, number)
                if not row.keys() <= known:
                    unknown = sorted(set(row) - set(known))[0]
                    message = tr("this form has no field '{key}' to fill in here")
                    raise ValidationFailed({row_key(number): message.format(key=unknown)})
            if assigns:
                row = dict(row)
                service._assign(connection, form, row, now)
            try:
                yield convert(row)
            except FieldValueError as error:
                raise ValidationFailed({row_key(number): error.message}) from None

    def work(connection: Connection) -> int:
        now = utc_now()
        system = actor.new_record_columns(now)
        repository = service.repository
        statement = repository.prepare_bulk_insert(connection, form, keys, system)
        checks = BulkChecks(repository, service.registry, form, keys)
        # Without checks against the database or form rules, each cell is checked and
        # encoded for the driver in one step and the row goes out as it is; else the
        # checks and rules see canonical rows, then the statement arranges them.
        plain = not (checks or logic.formulas or logic.visibility)
        encoders = statement.cell_encoders if plain else None
        convert = _row_converter(
            service.registry, tables.columns, logic, encoders, connection.dialect.name
        )
        rows = tuples(connection, now, convert)
        if checks:  # references or unique values: checked chunk by chunk
            rows = checks.passed(connection, rows)
        if encoders is None:
            rows = map(statement.arrange, rows)
        sealer = InsertSealer(connection, tables, keys)
        count = service._write(
            lambda: repository.send_bulk_insert(connection, statement, rows, sealer.add)
        )
        details = {"rows": count}
        service._audit(connection, actor, "bulk_create", form, None, details, sealer.seals())
        return count

    return service.transaction(work)


def _refuse_unwritable(policy, form, action, row, known, writable, number) -> None:
    """A bulk row may name only fields the actor may set (even empty: a refusal
    that depended on the value would tell whether a hidden value is empty)."""
    refused = [key for key in row if key in known and key not in writable]
    if refused:
        try:
            policy.check_writes(form, refused, action)
        except PermissionDenied as error:
            raise PermissionDenied(
                tr("row {row}: {problem}").format(row=number, problem=error.message)
            ) from None


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
