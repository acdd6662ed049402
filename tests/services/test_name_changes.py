"""Names follow renames (issue #12): the resolver's cache forgets the names of a
table once a commit updated or deleted its rows, whoever wrote them.

A list's names are cached by its ``WorkspaceReferences`` for the whole session;
before, a record's display field, a user's or a department's name changed under
it kept showing the old name.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from runtime.services.org.service import OrgService
from runtime.services.records.references import WorkspaceReferences
from runtime.store.names import name_changes
from runtime.store.query import RecordQuery
from runtime.store.schema import users_table
from runtime.ui.record_source import RecordSource, list_columns
from tests.services.leak_world import LeakWorld, build_leak_world
from widgets.references import DEPARTMENT, USER


@pytest.fixture
def leak(db_url) -> Iterator[LeakWorld]:
    world = build_leak_world(db_url)
    yield world
    world.workspace.dispose()


def _visit_list(world: LeakWorld, references: WorkspaceReferences) -> RecordSource:
    form = world.service.spec.form("visit")
    columns = [c for c in list_columns(form, world.service.registry) if c.spec is not None]
    return RecordSource(world.service, world.admin, form, columns, RecordQuery(), references)


def _colleague(source: RecordSource, visit: int) -> str:
    rows = {row.id: row.texts for row in source.load(None, 50).rows}
    return rows[visit][1]


def _rename_staff(world: LeakWorld, record_id: int, name: str) -> None:
    record = world.service.get("staff", record_id, world.admin)
    world.service.update("staff", record_id, {"name": name}, record.version, world.admin)


def test_a_list_shows_a_linked_record_renamed(leak: LeakWorld) -> None:
    source = _visit_list(leak, WorkspaceReferences(leak.service, leak.admin))
    assert _colleague(source, leak.visit) == "Bob"
    _rename_staff(leak, leak.bob_staff, "Robert")
    assert _colleague(source, leak.visit) == "Robert"


def test_an_export_shows_a_linked_record_renamed(leak: LeakWorld, tmp_path) -> None:
    from tests.services.test_permission_leaks import _export_rows

    before = _export_rows(leak, leak.admin, "visit", tmp_path / "before.xlsx")
    _rename_staff(leak, leak.bob_staff, "Robert")
    after = _export_rows(leak, leak.admin, "visit", tmp_path / "after.xlsx")
    assert "Bob" in before[1] and "Robert" not in before[1]
    assert "Robert" in after[1] and "Bob" not in after[1]


def test_users_and_departments_renamed_are_named_anew(leak: LeakWorld) -> None:
    references = WorkspaceReferences(leak.service, leak.alice)
    org = OrgService(leak.workspace)
    ward = org.add_department("w1", "Ward one", actor=leak.admin).id
    assert references.name_of(USER, leak.bob.user_id) == "Bob"
    assert references.name_of(DEPARTMENT, ward) == "Ward one"
    leak.accounts.update_user("bob", display_name="Robert", actor=leak.admin)
    org.update_department("w1", name="Cardiology", actor=leak.admin)
    assert references.name_of(USER, leak.bob.user_id) == "Robert"
    assert references.name_of(DEPARTMENT, ward) == "Cardiology"


def test_a_save_elsewhere_keeps_the_cached_names(leak: LeakWorld) -> None:
    """Only the names of the table written are forgotten: saving a visit does not
    make the next cell of a user column ask the database."""
    references = WorkspaceReferences(leak.service, leak.admin)
    assert references.name_of(USER, leak.alice.user_id) == "Alice"
    visit = leak.service.get("visit", leak.visit, leak.admin)
    leak.service.update("visit", leak.visit, {"note": "again"}, visit.version, leak.admin)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    sa.event.listen(leak.workspace.engine, "before_cursor_execute", count)
    try:
        assert references.name_of(USER, leak.alice.user_id) == "Alice"
    finally:
        sa.event.remove(leak.workspace.engine, "before_cursor_execute", count)
    assert statements == []


class Watcher:
    def __init__(self) -> None:
        self.told: list[frozenset[str]] = []

    def names_changed(self, tables: frozenset[str]) -> None:
        self.told.append(tables)


def test_only_committed_updates_and_deletes_are_told(leak: LeakWorld) -> None:
    engine = leak.workspace.engine
    watcher = Watcher()
    name_changes(engine).watch(watcher)
    rename = users_table.update().where(users_table.c.id == leak.bob.user_id)
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(rename.values(display_name="Rolled back"))
        raise RuntimeError("the transaction fails")
    assert watcher.told == []
    with engine.connect() as connection:  # a read tells nobody
        connection.execute(sa.select(users_table.c.id)).all()
        connection.commit()
    assert watcher.told == []
    with engine.begin() as connection:
        connection.execute(rename.values(display_name="Robert"))
    assert watcher.told == [frozenset({users_table.name})]
