"""The store's name directory (runtime/store/names.py): one mapping from a kind to
where its names live."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runtime.store.names import DEPARTMENTS, NAME_TABLES, USERS
from tests.services.leak_world import LeakWorld, build_leak_world
from widgets.references import DEPARTMENT, USER, RecordRef, ReferenceKind


def test_every_reference_kind_has_its_name_table() -> None:
    assert set(ReferenceKind._by_tag.values()) <= set(NAME_TABLES)


@pytest.fixture
def leak(db_url) -> Iterator[LeakWorld]:
    world = build_leak_world(db_url)
    yield world
    world.workspace.dispose()


def test_the_directory_finds_each_kinds_table(leak: LeakWorld) -> None:
    directory = leak.service.repository.names
    assert directory.table(USER) is USERS and directory.table(DEPARTMENT) is DEPARTMENTS
    named = directory.table(RecordRef("staff", "diagnosis"))
    assert (named.form, named.display_key) == ("staff", "diagnosis")
    # A kind without its display field is named by the first lookup of its form.
    assert directory.table(RecordRef("staff")).display_key == "diagnosis"
    assert directory.table(RecordRef("staff", "no_such_field")).display_key is None
    assert directory.table(RecordRef("no_such_form", "name")) is None
    with leak.workspace.reader() as connection:
        names = named.names(connection, [leak.alice_staff, leak.bob_staff], None)
        assert names == {leak.alice_staff: "diabetes", leak.bob_staff: "schizophrenia"}
        assert named.unnamed().names(connection, [leak.alice_staff], None) == {}
        assert named.ids_named(connection, ["diabetes", "flu"], None) == {
            "diabetes": {leak.alice_staff}
        }
        assert USERS.ids_named(connection, ["alice", "Bob"], None) == {
            "alice": {leak.alice.user_id},
            "Bob": {leak.bob.user_id},
        }
