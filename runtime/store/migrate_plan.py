"""Planning an upgrade: comparing the installed spec with a new one, step by step.

:func:`plan_upgrade` reads the workspace but changes nothing. It walks the new
spec against the installed one and writes down, as :class:`Step` objects, every
form, field and subtable that is added, added back, retired, relabelled or
retyped, plus the :attr:`MigrationPlan.blockers` that stop it (a version that is
not higher, duplicates under a new unique rule). A retype records in
:attr:`MigrationPlan.sources` which field spec the kept values have, so the apply
(``migrate_apply``) knows how to convert them.

This module also holds the plan's data (:class:`MigrationPlan`, :class:`Step`,
:class:`Unconverted`) and its ``describe()`` lines for the admin who confirms it.
``runtime.store.migrate`` re-exports the public names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from resources.messages import tr
from runtime.spec.load import parse_app_spec
from runtime.spec.models import AppSpec, FormSpec
from runtime.spec.problems import SpecError
from runtime.store.engine import WorkspaceError
from runtime.store.schema import app_history_table, table_name
from widgets.base import FieldSpecBase

if TYPE_CHECKING:
    from runtime.store.workspace import Workspace


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
    """Compares the installed spec ``old`` with ``new`` into the steps of one plan."""

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
    """What installing or upgrading to ``new`` would do (nothing is changed).

    A SQLite file found damaged (when it was opened; a large file's check may still
    run, and then its first write waits for it) is neither planned nor upgraded:
    DamagedDatabase. An upgrade itself checks the file again first (apply_upgrade).
    """
    workspace.integrity.refuse_if_known_damaged()
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
