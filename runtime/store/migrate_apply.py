"""Applying an upgrade plan's changes to the tables, inside the caller's transaction.

:class:`_Applier` turns the steps of a :class:`~runtime.store.migrate_plan.MigrationPlan`
into DDL and data moves: a retyped column is renamed to its kept name, the
tables and columns the new spec wants are created, every kept value is converted
to the new type (or listed as :class:`~runtime.store.migrate_plan.Unconverted`),
a unique field whose converted values collide becomes a blocker, and the indexes
are brought in line with the spec.

It is separate from the planning because it is the only part that writes, and
from ``runtime.store.migrate`` because that module owns the transaction around it
(the lock, the backup-safe rollback, the recorded version).
``retired_columns_in`` lives here too: the kept columns of an installed app,
which the new table models must carry along.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from resources.messages import tr, untranslated
from runtime.spec.models import AppSpec
from runtime.store.migrate_plan import Step, Unconverted
from runtime.store.schema import SYSTEM_COLUMN_NAMES, build_app_tables, table_name
from widgets.base import FieldSpecBase, FieldValueError


@dataclass(frozen=True)
class _Retype:
    """A ``retype`` step's names: it always has its field and the kept column."""

    form: str
    field: str
    kept_column: str
    subtable: str | None

    @classmethod
    def of(cls, step: Step) -> _Retype:
        assert step.field is not None and step.kept_column is not None, step
        return cls(step.form, step.field, step.kept_column, step.subtable)


class _Applier:
    """Carries out a plan's steps on ``connection``; the caller commits or rolls back."""

    def __init__(self, workspace, connection: Connection, old: AppSpec, new: AppSpec, plan):
        self.workspace = workspace
        self.registry = workspace.registry
        self.connection = connection
        self.old, self.new, self.plan = old, new, plan
        self.preparer = connection.dialect.identifier_preparer
        retired = retired_columns_in(connection, new)
        self.new_tables = build_app_tables(new, self.registry, retired, connection.dialect.name)

    def inspector(self):
        return sa.inspect(self.connection)

    def table_of(self, step: _Retype) -> str:
        return table_name(self.new.id, step.form, *([step.subtable] if step.subtable else []))

    def run(self) -> None:
        retypes = [_Retype.of(step) for step in self.plan.steps if step.kind == "retype"]
        for step in retypes:
            self.retype(step)
        existing = set(self.inspector().get_table_names())
        for tables in self.new_tables.forms.values():
            for table in [tables.table, *tables.children.values()]:
                if table.name not in existing:
                    table.create(self.connection)
                    existing.add(table.name)
                else:
                    self.add_missing_columns(table)
        for step in retypes:
            self.convert(step)
        for step in retypes:
            self.check_still_unique(step)
        if self.plan.blockers:
            return
        for tables in self.new_tables.forms.values():
            self.sync_indexes(tables.table, set(tables.columns))

    def check_still_unique(self, step: _Retype) -> None:
        """A unique field whose values collide once converted ("1" and "1.0" both
        become 1) cannot get its unique index: name the values, as a blocker, instead
        of failing on the database's error."""
        item = self.new_field(step)
        field_type = self.registry.of(item)
        if step.subtable or not (item.unique or field_type.always_unique):
            return
        table = self.new_tables.forms[step.form].table
        column = table.c[step.field]
        collisions = self.connection.execute(
            sa.select(column)
            .where(table.c.deleted_at.is_(None), column.isnot(None))
            .group_by(column)
            .having(sa.func.count() > 1)
            .order_by(column)
            .limit(6)
        ).scalars()
        shown = [_display(field_type, item, value) for value in collisions]
        if shown:
            examples = ", ".join(shown[:5]) + (", …" if len(shown) > 5 else "")
            text = tr(
                "{form}.{field} cannot stay unique as {type}: after conversion these values "
                "are used by more than one record: {examples}; correct them first"
            )
            self.plan.blockers.append(
                text.format(form=step.form, field=step.field, type=item.type, examples=examples)
            )

    def add_missing_columns(self, table: sa.Table) -> None:
        present = {c["name"] for c in self.inspector().get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                self.add_column(table.name, column.name, column.type)

    def add_column(self, table: str, column: str, column_type) -> None:
        ddl = column_type.compile(dialect=self.connection.dialect)
        self.connection.exec_driver_sql(
            f"ALTER TABLE {self.preparer.quote(table)} ADD COLUMN {self.preparer.quote(column)} {ddl}"
        )

    def drop_index(self, name: str) -> None:
        self.connection.exec_driver_sql(f"DROP INDEX IF EXISTS {self.preparer.quote(name)}")

    def sync_indexes(self, table: sa.Table, fields: set[str]) -> None:
        """Create the indexes the spec asks for; drop unique ones it no longer wants."""
        present = {index["name"]: index for index in self.inspector().get_indexes(table.name)}
        wanted = {index.name: index for index in table.indexes}
        for name, index in present.items():
            columns = set(index["column_names"])
            model = wanted.get(name)
            if model is None:
                if index["unique"] and columns and columns <= fields:
                    self.drop_index(name)
            elif bool(index["unique"]) != bool(model.unique) or columns != {
                column.name for column in model.columns
            }:
                self.drop_index(name)
        for index in table.indexes:
            index.create(self.connection, checkfirst=True)

    def retype(self, step: _Retype) -> None:
        """Keep the old column under a versioned name; the new one is added after."""
        table = self.table_of(step)
        for index in self.inspector().get_indexes(table):
            if step.field in index["column_names"]:
                self.drop_index(index["name"])
        self.connection.exec_driver_sql(
            f"ALTER TABLE {self.preparer.quote(table)} RENAME COLUMN "
            f"{self.preparer.quote(step.field)} TO {self.preparer.quote(step.kept_column)}"
        )

    def new_field(self, step: _Retype) -> FieldSpecBase:
        """The field's spec in the new app (the plan found it there)."""
        form = self.new.form(step.form)
        item = form.field(step.subtable or step.field) if form is not None else None
        assert item is not None, step
        if step.subtable:
            children = self.registry.of(item).children(item)
            item = next(child for child in children if child.key == step.field)
        return item

    def convert(self, step: _Retype) -> None:
        """Fill the new column from the kept one, value by value through the types."""
        old_spec = self.plan.sources.get((step.form, step.subtable, step.field))
        if old_spec is None:
            return  # the kept column's type is unknown: its values stay where they are
        new_spec = self.new_field(step)
        old_type, new_type = self.registry.of(old_spec), self.registry.of(new_spec)
        kept = sa.Column(step.kept_column, old_type.sql_type(old_spec))
        target = sa.Column(step.field, new_type.sql_type(new_spec))
        owner = "parent_id" if step.subtable else "id"
        columns = {"id", owner}
        source = sa.table(self.table_of(step), *(sa.column(name) for name in columns), kept, target)
        rows = self.connection.execute(
            sa.select(source.c.id, source.c[owner], kept).where(kept.isnot(None))
        )
        path = f"{step.subtable}.{step.field}" if step.subtable else step.field
        for row_id, record_id, raw in rows.all():
            try:
                old_value = old_type.coerce(old_spec, raw)
                value = _convert_value(old_type, old_spec, new_type, new_spec, old_value)
            except FieldValueError as error:
                text = _display(old_type, old_spec, raw)
                self.plan.unconverted.append(
                    Unconverted(step.form, path, record_id, text, error.message)
                )
                continue
            self.connection.execute(
                source.update().where(source.c.id == row_id).values({step.field: value})
            )


def _display(field_type, spec, raw: Any) -> str:
    try:
        return field_type.display(spec, field_type.coerce(spec, raw))
    except (FieldValueError, TypeError, ValueError):
        return str(raw)


def _convert_value(old_type, old_spec, new_type, new_spec, value: Any) -> Any:
    """The new type's value for an old value: directly, else through its text (in
    English: a checkbox retyped to text stores "Yes" whatever the admin's language)."""
    try:
        converted = new_type.coerce(new_spec, value)
    except (FieldValueError, TypeError, ValueError):
        with untranslated():
            converted = new_type.parse(new_spec, old_type.display(old_spec, value))
    if converted is not None:
        new_type.validate(new_spec, converted)
    return converted


def retired_columns_in(connection: Connection, spec: AppSpec) -> dict:
    """Kept columns of each form's installed table that ``spec`` no longer names:
    form key → {column name → database type}."""
    inspector = sa.inspect(connection)
    existing = set(inspector.get_table_names())
    retired: dict[str, dict] = {}
    for form in spec.forms:
        name = table_name(spec.id, form.key)
        if name in existing:
            known = {item.key for item in form.fields} | SYSTEM_COLUMN_NAMES
            columns = {
                c["name"]: c["type"] for c in inspector.get_columns(name) if c["name"] not in known
            }
            if columns:
                retired[form.key] = columns
    return retired
