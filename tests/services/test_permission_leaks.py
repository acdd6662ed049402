"""Issue #11 §3: the permission leaks of the repro package (tests/services/leak_world.py),
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from runtime.services.errors import PermissionDenied
from runtime.services.permissions import Policy
from runtime.store.query import Condition, RecordQuery
from tests.services.leak_world import LeakWorld, build_leak_world


@pytest.fixture
def leak(db_url) -> Iterator[LeakWorld]:
    world = build_leak_world(db_url)
    yield world
    world.workspace.dispose()


def _refused(call, *args) -> bool:
    try:
        call(*args)
    except PermissionDenied:
        return True
    return False


# -- writing a hidden field is an oracle --


def test_writing_a_hidden_field_is_refused_whatever_the_value(leak: LeakWorld) -> None:
    """A wrong and a right guess of Alice's own hidden diagnosis get the same answer."""
    service, alice = leak.service, leak.alice
    record = service.get("staff", leak.alice_staff, alice)
    for guess in ("cancer", "diabetes", None, ""):
        assert _refused(
            service.update, "staff", leak.alice_staff, {"diagnosis": guess}, record.version, alice
        ), guess
    for salary in (Decimal("1"), Decimal("5000"), None):
        assert _refused(
            service.update, "staff", leak.alice_staff, {"salary": salary}, record.version, alice
        ), salary
    stored = service.get("staff", leak.alice_staff, leak.admin).values
    assert stored["diagnosis"] == "diabetes" and stored["salary"] == Decimal("5000")


def test_writing_a_readonly_field_is_refused_whatever_the_value(leak: LeakWorld) -> None:
    service, alice = leak.service, leak.alice
    record = service.get("staff", leak.alice_staff, alice)
    for bonus in (Decimal("500"), Decimal("1"), None):
        assert _refused(
            service.update, "staff", leak.alice_staff, {"bonus": bonus}, record.version, alice
        ), bonus


def test_creating_with_an_empty_hidden_field_is_refused(leak: LeakWorld) -> None:
    """Present means refused, even empty: single and bulk creates."""
    service, alice = leak.service, leak.alice
    for value in (None, "", "flu"):
        values = {"name": "Carol", "code": f"C{value!r}", "diagnosis": value}
        assert _refused(service.create, "staff", values, alice), value
        assert _refused(service.bulk_create, "staff", [values], alice), value
        assert _refused(service.bulk_create, "staff", [values], alice, "import"), value
    assert service.count("staff", None, leak.admin) == 2


def test_writing_only_editable_fields_still_works(leak: LeakWorld) -> None:
    service, alice = leak.service, leak.alice
    record = service.get("staff", leak.alice_staff, alice)
    updated = service.update("staff", leak.alice_staff, {"name": "Alice B."}, record.version, alice)
    assert updated.values["name"] == "Alice B."
    created = service.create("staff", {"name": "Carol", "code": "S3"}, alice)
    assert created.values["name"] == "Carol"


# -- a formula shows its hidden inputs --


def test_a_formula_over_a_hidden_field_is_hidden(leak: LeakWorld) -> None:
    service, alice = leak.service, leak.alice
    policy = Policy(service.spec, alice, service.registry)
    assert policy.field_mode("staff", "bonus") == "hidden"
    assert "bonus" not in policy.visible_fields("staff")
    assert "bonus" not in service.get("staff", leak.alice_staff, alice).values
    page = service.page("staff", RecordQuery(), actor=alice)
    assert all("bonus" not in record.values for record in page.records)


def test_filtering_on_a_formula_over_a_hidden_field_is_refused(leak: LeakWorld) -> None:
    """``--where 'bonus > 800'`` would probe the salary."""
    service, alice = leak.service, leak.alice
    query = RecordQuery(filter=Condition("bonus", "gt", Decimal("400")))
    assert _refused(service.page, "staff", query, None, 100, alice)
    assert _refused(service.count, "staff", query, alice)
