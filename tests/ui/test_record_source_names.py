"""A list page names its linked records through the one resolver, in one batch.

Issue #11 §3: the list shows ``#id`` for a linked record the user may not read
(outside the row scope, or named by a hidden field), and resolves the names of a
whole page with one look-up per kind, not one per row.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from runtime.services.records.references import WorkspaceReferences
from runtime.store.query import RecordQuery
from runtime.ui.record_source import RecordSource, list_columns
from tests.services.leak_world import LeakWorld, build_leak_world


@pytest.fixture
def leak(db_url) -> Iterator[LeakWorld]:
    world = build_leak_world(db_url)
    yield world
    world.workspace.dispose()


def _source(world: LeakWorld, actor) -> RecordSource:
    form = world.service.spec.form("visit")
    columns = [c for c in list_columns(form, world.service.registry) if c.spec is not None]
    references = WorkspaceReferences(world.service, actor)
    return RecordSource(world.service, actor, form, columns, RecordQuery(), references)


def test_list_names_follow_scope_and_field_modes(leak: LeakWorld) -> None:
    own = leak.service.create(
        "visit", {"patient": leak.alice_staff, "colleague": leak.alice_staff}, leak.alice
    )
    rows = {row.id: row.texts for row in _source(leak, leak.alice).load(None, 50).rows}
    assert rows[leak.visit][:2] == (f"#{leak.bob_staff}", f"#{leak.bob_staff}")
    assert rows[own.id][:2] == (f"#{leak.alice_staff}", "Alice")
    rows = {row.id: row.texts for row in _source(leak, leak.admin).load(None, 50).rows}
    assert rows[leak.visit][:2] == ("schizophrenia", "Bob")


def test_a_page_resolves_its_names_in_a_batch(leak: LeakWorld) -> None:
    """40 visits linking 40 staff records: the statements a page load runs do not
    grow with its rows."""
    service = leak.service
    staff = service.bulk_create(
        "staff", [{"name": f"N{n}", "code": f"K{n}"} for n in range(40)], leak.alice
    )
    assert staff == 40
    ids = [r.id for r in service.page("staff", RecordQuery(), limit=100, actor=leak.alice).records]
    for ident in [i for i in ids if i != leak.alice_staff]:
        service.create("visit", {"patient": ident, "colleague": ident}, leak.alice)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    source = _source(leak, leak.alice)
    sa.event.listen(leak.workspace.engine, "before_cursor_execute", count)
    try:
        page = source.load(None, 100)
    finally:
        sa.event.remove(leak.workspace.engine, "before_cursor_execute", count)
    assert len(page.rows) == 41
    assert sum(row.texts[1] == f"#{leak.bob_staff}" for row in page.rows) == 1
    assert sum(row.texts[1].startswith("N") for row in page.rows) == 40
    assert len(statements) <= 8, statements
