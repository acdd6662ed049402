"""Migrations that keep every value: a plan from the installed spec to a new one.

Rules (DESIGN.md section 4): adding a field adds a column; a label change
changes nothing; removing a field or form keeps its column/table and data; a type
change renames the old column to ``<key>__v<version>`` (kept), adds the new one
and converts every value it can, listing every value it cannot. Adding back a
removed field (or form, or subtable column) reuses its kept column when the type
is the same, and otherwise treats it as a type change from the type it had. A
plan runs in one transaction after an automatic backup, and one workstation at a
time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from resources.messages import tr, untranslated
from runtime.spec.load import parse_app_spec
from runtime.spec.models import AppSpec, FormSpec
from runtime.spec.problems import SpecError
from runtime.store.audit import AuditEntry, append, utc_now
from runtime.store.engine import WorkspaceError
from runtime.store.schema import (
    SYSTEM_COLUMN_NAMES,
    app_history_table,
    apps_table,
    build_app_tables,
    table_name,
)
from widgets.base import FieldSpecBase, FieldValueError

if TYPE_CHECKING:
    from runtime.store.workspace import Workspace

#: Advisory lock key so only one workstation migrates at a time (PostgreSQL).
MIGRATION_LOCK_KEY = 0x4D696772  # "Migr"


@dataclass
class Step:
    """One change of the plan, described for the admin who confirms it."""

    kind: str
    form: str
    description: str
    field: str | None = None
    #: Whether it changes the database (adds a table, column or index).
    ddl: bool = False
    #: The subtable whose column ``field`` is (``None`` for a field of the form).
    subtable: str | None = None
    #: For a type change: where the old values are kept.
    kept_column: str | None = None


@dataclass
class Unconverted:
    """A value that could not be converted to a field's new type (kept in the old column)."""

    form: str
    field: str
    record_id: int
    value: str
    reason: str


@dataclass
class MigrationPlan:
    app_id: str
    from_version: int | None
    to_version: int
    steps: list[Step] = field(default_factory=list)
    #: Reasons the plan cannot run (e.g. duplicates block a new unique rule).
    blockers: list[str] = field(default_factory=list)
    #: Filled in by a dry run or the apply: values that do not convert.
    unconverted: list[Unconverted] = field(default_factory=list)
    #: The automatic backup taken before the upgrade ran, if one could be made.
    backup_path: Path | None = None
    #: (form, subtable, key) of a type change → the field spec the values have now.
    sources: dict[tuple[str, str | None, str], FieldSpecBase | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def is_install(self) -> bool:
        return self.from_version is None

    @property
    def changes_anything(self) -> bool:
        return bool(self.steps) or self.from_version != self.to_version

    def describe(self) -> list[str]:
        """Lines for the CLI and the upgrade dialog."""
        if self.is_install:
            head = tr("{app}: not installed → version {new}")
        else:
            head = tr("{app}: version {old} → version {new}")
        lines = [head.format(app=self.app_id, old=self.from_version, new=self.to_version)]
        lines += [f"  {step.description}" for step in self.steps] or [
            "  " + tr("no changes to the data")
        ]
        lines += [f"  ! {blocker}" for blocker in self.blockers]
        text = tr(
            "{form}.{field} record {id}: '{value}' cannot become the new type ({reason}); "
            "it is kept in the old column"
        )
        for item in self.unconverted[:50]:
            values = {"form": item.form, "field": item.field, "id": item.record_id}
            lines.append("  ? " + text.format(**values, value=item.value, reason=item.reason))
        if len(self.unconverted) > 50:
            more = tr("… and {count} more values that cannot convert")
            lines.append("  ? " + more.format(count=len(self.unconverted) - 50))
        return lines


# -- planning -----------------------------------------------------------------


class _Planner:
    def __init__(self, workspace: Workspace, old: AppSpec, new: AppSpec) -> None:
        self.workspace = workspace
        self.registry = workspace.registry
        self.dialect = workspace.engine.dialect
        self.old, self.new = old, new
        self.plan = MigrationPlan(new.id, old.version, new.version)
        inspector = sa.inspect(workspace.engine)
        self.existing = {
            name: {column["name"] for column in inspector.get_columns(name)}
            for name in inspector.get_table_names()
            if name.startswith(f"{new.id}__")
        }
        self._history: list[AppSpec] | None = None

    def add(self, kind: str, form: str, description: str, key: str | None = None, ddl=False):
        step = Step(kind, form, description, key, ddl)
        self.plan.steps.append(step)
        return step

    def run(self) -> MigrationPlan:
        for form in self.new.forms:
            previous = self.old.form(form.key)
            if previous is not None:
                self.compare_form(previous, form)
            elif table_name(self.new.id, form.key) in self.existing:
                self.add(
                    "restore_form",
                    form.key,
                    tr("add back form '{title}' (with its kept table and data)").format(
                        title=form.title
                    ),
                    ddl=True,
                )
                self.compare_fields(form, None, {}, self.value_fields(form.fields))
                self.compare_subtables(form, {})
            else:
                text = tr("add form '{title}' (new table)").format(title=form.title)
                self.add("add_form", form.key, text, ddl=True)
        for form in self.old.forms:
            if self.new.form(form.key) is None:
                text = tr("remove form '{title}' from the app (its table and data are kept)")
                self.add("retire_form", form.key, text.format(title=form.title))
        if self.old.views != self.new.views:
            self.add("views", "", tr("update list views and their indexes"), ddl=True)
        if self.old.roles != self.new.roles:
            self.add("roles", "", tr("update roles and permissions"))
        return self.plan

    def value_fields(self, fields) -> dict[str, FieldSpecBase]:
        """Fields stored in a column (subtables and layout items excluded), by key."""
        return {
            item.key: item
            for item in fields
            if self.registry.of(item).has_value and not self.registry.of(item).children(item)
        }

    def subtables(self, form: FormSpec) -> dict[str, FieldSpecBase]:
        return {item.key: item for item in form.fields if self.registry.of(item).children(item)}

    def compare_form(self, old: FormSpec, new: FormSpec) -> None:
        if old.title != new.title:
            text = tr("rename form '{old}' to '{new}'").format(old=old.title, new=new.title)
            self.add("relabel", new.key, text)
        old_fields = {item.key: item for item in old.fields}
        new_keys = {item.key for item in new.fields}
        for item in new.fields:
            before = old_fields.get(item.key)
            field_type = self.registry.of(item)
            if before is not None and self.registry.of(before).children(before):
                if not field_type.children(item):
                    # a subtable became a field: keep the child table, start a column
                    self.add_field(new, item, None)
            elif not field_type.has_value:
                self.compare_layout(new, before, item)
            elif field_type.children(item):
                pass  # compared below
            elif before is None or not self.registry.of(before).has_value:
                self.add_field(new, item, None)
            else:
                self.compare_field(new, None, before, item)
        self.compare_subtables(new, self.subtables(old))
        for key, item in old_fields.items():
            if key not in new_keys and self.registry.of(item).has_value:
                text = tr("{form}: remove field '{label}' (its column and data are kept)")
                self.add("retire_field", new.key, text.format(form=new.key, label=item.label), key)
        if [i.key for i in old.fields if i.key in new_keys] != [
            i.key for i in new.fields if i.key in old_fields
        ]:
            self.add("reorder", new.key, tr("{form}: new field order").format(form=new.key))

    def compare_layout(self, form: FormSpec, before: FieldSpecBase | None, item) -> None:
        """Sections and notes hold no data: only the layout changes (no DDL)."""
        if before is None:
            text = tr("{form}: add '{label}' to the layout")
            self.add("layout", form.key, text.format(form=form.key, label=item.label))
        elif self.registry.of(before).has_value:
            text = tr("{form}: '{label}' becomes a layout item (its column and data are kept)")
            text = text.format(form=form.key, label=before.label)
            self.add("retire_field", form.key, text, item.key)
        elif before.model_dump() != item.model_dump():
            text = tr("{form}: update '{label}' in the layout")
            self.add("layout", form.key, text.format(form=form.key, label=item.label))

    def compare_subtables(self, new: FormSpec, old_subtables: dict) -> None:
        for key, item in self.subtables(new).items():
            child_table = table_name(self.new.id, new.key, key)
            before = old_subtables.get(key)
            if before is None and child_table not in self.existing:
                text = tr("{form}: add table '{label}'").format(form=new.key, label=item.label)
                self.add("add_subtable", new.key, text, key, True)
                continue
            if before is None:
                text = tr("{form}: add back table '{label}' (with its kept rows)")
                text = text.format(form=new.key, label=item.label)
                self.add("restore_subtable", new.key, text, key, True)
                old_children = {}
            else:
                if before.label != item.label:
                    text = tr("{form}: rename table '{label}'")
                    self.add("relabel", new.key, text.format(form=new.key, label=item.label), key)
                old_children = self.value_fields(self.registry.of(before).children(before))
            new_children = self.value_fields(self.registry.of(item).children(item))
            self.compare_fields(new, key, old_children, new_children)
            for child_key, child in old_children.items():
                if child_key not in new_children:
                    text = tr(
                        "{form}: remove column '{column}' of table '{table}' (its data is kept)"
                    )
                    text = text.format(form=new.key, column=child.label, table=item.label)
                    step = self.add("retire_field", new.key, text, child_key)
                    step.subtable = key

    def compare_fields(self, form: FormSpec, subtable, old_fields: dict, new_fields: dict) -> None:
        for key, item in new_fields.items():
            if key in old_fields:
                self.compare_field(form, subtable, old_fields[key], item)
            else:
                self.add_field(form, item, subtable)

    def add_field(self, form: FormSpec, item: FieldSpecBase, subtable: str | None) -> None:
        """A field new to the spec: a new column, or the kept column of an earlier one."""
        name = table_name(self.new.id, form.key, *([subtable] if subtable else []))
        where = f"{form.key}.{subtable}" if subtable else form.key
        if item.key not in self.existing.get(name, set()):
            text = tr("{where}: add field '{label}'").format(where=where, label=item.label)
            step = self.add("add_field", form.key, text, item.key, True)
            step.subtable = subtable
            return
        earlier = self.earlier_field(form.key, subtable, item.key)
        if earlier is not None and self.storage(earlier) == self.storage(item):
            text = tr("{where}: add back field '{label}' (with its kept values)")
            text = text.format(where=where, label=item.label)
            step = self.add("restore_field", form.key, text, item.key)
            step.subtable = subtable
            if item.unique:
                self.check_unique_possible(form, item, subtable)
                self.add_unique(form, item, subtable)
            return
        self.add_retype(form, subtable, earlier, item, readded=True)
        if item.unique:
            self.add_unique(form, item, subtable)

    def earlier_field(self, form: str, subtable: str | None, key: str) -> FieldSpecBase | None:
        """The field ``key`` as the latest installed version that had it defined it."""
        if self._history is None:
            query = (
                sa.select(app_history_table.c.spec_json)
                .where(app_history_table.c.app_id == self.new.id)
                .order_by(app_history_table.c.id.desc())
            )
            with self.workspace.reader() as connection:
                documents = connection.execute(query).scalars().all()
            self._history = []
            for document in documents:
                try:
                    self._history.append(parse_app_spec(json.loads(document), self.registry))
                except (SpecError, ValueError):  # a spec this runtime cannot read: skip it
                    continue
        for spec in self._history:
            form_spec = spec.form(form)
            if form_spec is None:
                continue
            item = form_spec.field(subtable or key)
            if item is not None and subtable:
                children = self.registry.of(item).children(item)
                item = next((child for child in children if child.key == key), None)
            if item is not None and self.registry.of(item).has_value:
                return item
        return None

    def compare_field(self, form: FormSpec, subtable, old: FieldSpecBase, new: FieldSpecBase):
        where = f"{form.key}.{subtable}" if subtable else form.key
        if self.storage(old) != self.storage(new):
            self.add_retype(form, subtable, old, new)
        elif old.model_dump() != new.model_dump():
            what = "relabel" if old.label != new.label else "attributes"
            text = tr("{where}: update '{label}' ({changes})")
            text = text.format(where=where, label=new.label, changes=self.changed(old, new))
            step = self.add(what, form.key, text, new.key)
            step.subtable = subtable
        if new.unique and not old.unique:
            if self.storage(old) == self.storage(new):
                self.check_unique_possible(form, new, subtable)
            self.add_unique(form, new, subtable)
        elif old.unique and not new.unique and not subtable:
            text = tr("{where}: '{label}' no longer unique").format(where=where, label=new.label)
            self.add("not_unique", form.key, text, new.key, True)

    def add_unique(self, form: FormSpec, item: FieldSpecBase, subtable) -> None:
        if subtable:
            return  # subtable columns have no unique index
        text = tr("{form}: '{label}' must be unique").format(form=form.key, label=item.label)
        self.add("unique", form.key, text, item.key, True)

    def add_retype(
        self, form: FormSpec, subtable, old: FieldSpecBase | None, new, readded=False
    ) -> None:
        name = table_name(self.new.id, form.key, *([subtable] if subtable else []))
        columns = self.existing.get(name, set())
        kept = f"{new.key}__v{self.old.version}"
        counter = 1
        while kept in columns:
            counter += 1
            kept = f"{new.key}__v{self.old.version}_{counter}"
        where = f"{form.key}.{subtable}" if subtable else form.key
        if old is None and readded:
            text = tr(
                "{where}: add back '{label}' from an earlier type to {type} "
                "(old values kept in column {kept})"
            )
        elif old is None:
            text = tr(
                "{where}: change '{label}' from an earlier type to {type} "
                "(old values kept in column {kept})"
            )
        elif readded:
            text = tr(
                "{where}: add back '{label}' from {before} to {type} "
                "(old values kept in column {kept})"
            )
        else:
            text = tr(
                "{where}: change '{label}' from {before} to {type} "
                "(old values kept in column {kept})"
            )
        values = {"where": where, "label": new.label, "type": new.type, "kept": kept}
        text = text.format(**values, before=old.type if old is not None else "")
        step = self.add("retype", form.key, text, new.key, True)
        step.subtable, step.kept_column = subtable, kept
        self.plan.sources[(form.key, subtable, new.key)] = old

    def storage(self, item: FieldSpecBase) -> str:
        """How a field is stored: a change means a new column.

        The dialect's DDL alone is not enough: on SQLite a number with decimals is
        a scaled BIGINT, like a whole number, but the stored integers mean
        different values, so the type's own parameters are part of it too.
        """
        field_type = self.registry.of(item)
        children = field_type.children(item)
        if children:
            return "table:" + ",".join(f"{c.key}={self.storage(c)}" for c in children)
        column_type = field_type.sql_type(item) if field_type.has_value else None
        if column_type is None:
            return ""
        return f"{column_type.compile(dialect=self.dialect)} {column_type!r}"

    @staticmethod
    def changed(old: FieldSpecBase, new: FieldSpecBase) -> str:
        before, after = old.model_dump(), new.model_dump()
        return ", ".join(sorted(k for k in after if before.get(k) != after.get(k)))

    def check_unique_possible(self, form: FormSpec, item: FieldSpecBase, subtable=None) -> None:
        if subtable or self.old.form(form.key) is None:
            if subtable or table_name(self.new.id, form.key) not in self.existing:
                return
            table = sa.table(
                table_name(self.new.id, form.key), sa.column(item.key), sa.column("deleted_at")
            )
        else:
            table = self.workspace.tables(self.old).forms[form.key].table
        if item.key not in table.c:
            return
        column = table.c[item.key]
        duplicates = (
            sa.select(column)
            .where(table.c.deleted_at.is_(None), column.isnot(None))
            .group_by(column)
            .having(sa.func.count() > 1)
        )
        with self.workspace.reader() as connection:
            found = connection.execute(
                sa.select(sa.func.count()).select_from(duplicates.subquery())
            )
            count = found.scalar_one()
        if count:
            text = tr(
                "{form}.{field} cannot become unique: {count} values are used by "
                "more than one record; correct them first"
            )
            self.plan.blockers.append(text.format(form=form.key, field=item.key, count=count))


def plan_upgrade(workspace: Workspace, new: AppSpec) -> MigrationPlan:
    """What installing or upgrading to ``new`` would do (nothing is changed)."""
    old = workspace.installed_spec(new.id)
    if old is None:
        plan = MigrationPlan(new.id, None, new.version)
        for form in new.forms:
            text = tr("add form '{title}' (new table)").format(title=form.title)
            plan.steps.append(Step("add_form", form.key, text, ddl=True))
        return plan
    if new.version < old.version:
        text = tr(
            "the workspace has version {old} of '{app}', newer than this "
            "package (version {new}); use the newer package"
        )
        raise WorkspaceError(text.format(old=old.version, app=new.id, new=new.version))
    plan = _Planner(workspace, old, new).run()
    if plan.changes_anything and new.version == old.version:
        text = tr(
            "the package changes the app but keeps version {version}; publish it "
            "with a higher version number"
        )
        plan.blockers.append(text.format(version=new.version))
    return plan


# -- applying -----------------------------------------------------------------


def apply_upgrade(
    workspace: Workspace, new: AppSpec, user_id: int | None = None, dry_run: bool = False
) -> MigrationPlan:
    """Install or upgrade an app in one transaction; with ``dry_run`` roll back.

    A dry run still converts values (inside the rolled-back transaction) so the
    plan lists every value that would not convert. A package that changes
    nothing (same version, same spec) writes nothing.
    """
    plan = plan_upgrade(workspace, new)
    if plan.blockers:
        return plan
    if plan.is_install:
        if not dry_run:
            workspace.install(new, user_id)
        return plan
    if not plan.changes_anything:
        return plan
    old = workspace.installed_spec(new.id)
    connection = workspace.engine.connect()
    transaction = connection.begin()
    try:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        current = workspace.installed_spec(new.id, connection)
        if current is not None and current.version != old.version:
            raise WorkspaceError(tr("another workstation upgraded this app just now; try again"))
        _Applier(workspace, connection, old, new, plan).run()
        if plan.blockers:  # found by converting values: nothing is changed
            transaction.rollback()
        else:
            _record_version(connection, new, plan, user_id)
            if dry_run:
                transaction.rollback()
            else:
                transaction.commit()
    except BaseException:
        transaction.rollback()
        raise
    finally:
        connection.close()
    workspace.forget_tables(new.id)
    return plan


class _Applier:
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

    def table_of(self, step: Step) -> str:
        return table_name(self.new.id, step.form, *([step.subtable] if step.subtable else []))

    def run(self) -> None:
        retypes = [step for step in self.plan.steps if step.kind == "retype"]
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

    def check_still_unique(self, step: Step) -> None:
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

    def retype(self, step: Step) -> None:
        """Keep the old column under a versioned name; the new one is added after."""
        table = self.table_of(step)
        for index in self.inspector().get_indexes(table):
            if step.field in index["column_names"]:
                self.drop_index(index["name"])
        self.connection.exec_driver_sql(
            f"ALTER TABLE {self.preparer.quote(table)} RENAME COLUMN "
            f"{self.preparer.quote(step.field)} TO {self.preparer.quote(step.kept_column)}"
        )

    def new_field(self, step: Step) -> FieldSpecBase:
        item = self.new.form(step.form).field(step.subtable or step.field)
        if step.subtable:
            children = self.registry.of(item).children(item)
            item = next(child for child in children if child.key == step.field)
        return item

    def convert(self, step: Step) -> None:
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


def _record_version(connection: Connection, new: AppSpec, plan: MigrationPlan, user_id) -> None:
    now = utc_now()
    spec_json = json.dumps(new.to_json_dict(), ensure_ascii=False)
    connection.execute(
        apps_table.update()
        .where(apps_table.c.app_id == new.id)
        .values(version=new.version, spec_json=spec_json, installed_at=now, installed_by=user_id)
    )
    plan_json = json.dumps([step.description for step in plan.steps], ensure_ascii=False)
    connection.execute(
        app_history_table.insert().values(
            app_id=new.id,
            version=new.version,
            spec_json=spec_json,
            installed_at=now,
            installed_by=user_id,
            plan_json=plan_json,
        )
    )
    details = {
        "from": plan.from_version,
        "to": plan.to_version,
        "unconverted": len(plan.unconverted),
    }
    append(connection, AuditEntry("upgrade_app", user_id=user_id, app_id=new.id, details=details))
