"""Hostile values (huge numbers, NUL bytes) are field messages on both engines."""

from __future__ import annotations

import pytest

from runtime.services.records.errors import ValidationFailed
from runtime.services.records.service import RecordService
from runtime.store.workspace import Workspace
from tests.services.excel_support import do_import
from tests.store.conftest import make_spec

FIELDS = [
    {"key": "code", "type": "text", "label": "Code", "required": True},
    {"key": "notes", "type": "textarea", "label": "Notes"},
    {"key": "mail", "type": "email", "label": "Mail"},
    {"key": "phone", "type": "phone", "label": "Phone"},
    {
        "key": "ward",
        "type": "select",
        "label": "Ward",
        "options": [{"value": "icu", "label": "ICU"}, {"value": "er", "label": "ER"}],
    },
    {
        "key": "tags",
        "type": "multiselect",
        "label": "Tags",
        "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
    },
    {"key": "price", "type": "number", "label": "Price", "decimals": 2},
    {"key": "count", "type": "number", "label": "Count", "decimals": 0},
    {"key": "total", "type": "formula", "label": "Total", "expression": "price * 2"},
    {
        "key": "lines",
        "type": "subtable",
        "label": "Lines",
        "fields": [
            {"key": "part", "type": "text", "label": "Part"},
            {"key": "qty", "type": "number", "label": "Qty"},
        ],
    },
]
SECRET = "SECRET-Zhang-San"


@pytest.fixture
def service(db_url):
    workspace = Workspace.open(db_url)
    spec = make_spec("hostile", [{"key": "item", "title": "Items", "fields": FIELDS}])
    workspace.install(spec)
    yield RecordService(workspace, spec)
    workspace.dispose()


def _refused(call) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        call()
    assert SECRET not in str(caught.value)
    assert "INSERT" not in str(caught.value) and "\n" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("code", f"{SECRET}\x00"),
        ("notes", f"line 1\n\x00{SECRET}"),
        ("mail", "nurse\x00@hosp.cn"),
        ("phone", "138\x0012345678"),
        ("ward", "icu\x00"),
        ("tags", ["a", "b\x00"]),
        ("lines", [{"part": f"filter\x00{SECRET}", "qty": 1}]),
    ],
)
def test_nul_in_a_text_value_is_a_field_message(service, key, value):
    values = {"code": "C1", key: value}
    error = _refused(lambda: service.create("item", values))
    assert next(iter(error.errors)).startswith(key)
    record = service.create("item", {"code": "C2"})
    _refused(lambda: service.update("item", record.id, {key: value}, version=record.version))
    _refused(lambda: service.bulk_create("item", [{"code": "C3"}, values]))
    assert [r.values["code"] for r in service.iter_records("item")] == ["C2"]


HUGE = ["1e308", "-1e308", "NaN", "inf", "1" * 40, "1e999999999"]


@pytest.mark.parametrize("value", HUGE)
def test_out_of_range_number_is_a_field_message(service, value):
    error = _refused(lambda: service.create("item", {"code": "C1", "price": value}))
    assert list(error.errors) == ["price"]
    error = _refused(lambda: service.create("item", {"code": "C1", "count": value}))
    assert list(error.errors) == ["count"]


def test_tiny_number_rounds_to_zero(service):
    assert service.create("item", {"code": "C1", "price": "1e-400"}).values["price"] == 0


def test_import_reports_each_out_of_range_cell_and_keeps_the_good_rows(service, tmp_path):
    path = tmp_path / "prices.csv"
    lines = ["Code,Price,Count,Notes", "OK1,1.50,1,fine"]
    lines += [f"BAD{n},{value},{n},x" for n, value in enumerate(HUGE)]
    lines += ["OK2,2,2,fine", "BAD9,3,3,a\x00b"]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    result = do_import(service, "item", path, mode="valid_only")
    found = [(error.row, error.column) for error in result.errors]
    assert found == [(3 + n, "B") for n in range(len(HUGE))] + [(10, "D")]
    assert all("\n" not in str(error) for error in result.errors)
    assert result.created == 2
    assert sorted(r.values["code"] for r in service.iter_records("item")) == ["OK1", "OK2"]


def test_search_and_filters_with_nul_find_nothing_and_do_not_fail(service):
    from runtime.store.query import Condition, RecordQuery

    service.create("item", {"code": "C1", "notes": "pump"})
    for query in (
        RecordQuery(search="pu\x00mp"),
        RecordQuery(filter=Condition("notes", "contains", "pu\x00")),
        RecordQuery(filter=Condition("notes", "starts_with", "\x00")),
    ):
        assert service.count("item", query) == 0
    assert (
        service.count("item", RecordQuery(filter=Condition("notes", "not_contains", "\x00"))) == 1
    )


def test_names_of_accounts_and_departments_refuse_nul(service):
    from argon2 import PasswordHasher

    from runtime.services.accounts.service import AccountError, AccountService, LoginFailed
    from runtime.services.org.service import OrgError, OrgService

    accounts = AccountService(
        service.workspace, hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    )
    with pytest.raises(AccountError, match="NUL"):
        accounts.create_user("root", f"Ro\x00ot {SECRET}", password="ward 3 night", is_admin=True)
    accounts.create_user("root", "Root", password="ward 3 night", is_admin=True)
    with pytest.raises(LoginFailed):
        accounts.login("ro\x00ot", "ward 3 night")
    admin = accounts.login("root", "ward 3 night").actor()
    with pytest.raises(AccountError, match="NUL"):
        accounts.update_user("root", display_name="R\x00", actor=admin)
    with pytest.raises(OrgError, match="NUL"):
        OrgService(service.workspace).add_department("w3", "Ward\x003", actor=admin)


def test_a_unique_clash_on_restore_names_no_value_and_no_sql(service):
    """Restoring a record whose unique value is taken meets the unique index."""
    from runtime.services.records.service import RecordService

    unique_spec = make_spec(
        "uniq",
        [
            {
                "key": "item",
                "title": "Items",
                "fields": [{"key": "code", "type": "text", "label": "Code", "unique": True}],
            }
        ],
    )
    service.workspace.install(unique_spec)
    records = RecordService(service.workspace, unique_spec)
    first = records.create("item", {"code": SECRET})
    records.delete("item", first.id)
    records.create("item", {"code": SECRET})
    error = _refused(lambda: records.restore("item", first.id))
    assert "already used" in str(error)
    for word in ("DETAIL", "Key (", "UNIQUE constraint", "uniq__item"):
        assert word not in str(error)


def test_a_database_failure_on_save_is_a_service_message(postgres_url):
    """A read-only database: the screens show a ServiceError's sentence, not the SQL."""
    import sqlalchemy as sa

    from runtime.services.errors import ServiceError

    workspace = Workspace.open(postgres_url)
    spec = make_spec("hostile", [{"key": "item", "title": "Items", "fields": FIELDS}])
    workspace.install(spec)
    name = workspace.engine.url.database
    with workspace.engine.connect() as connection:
        connection.execute(
            sa.text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        )
        connection.commit()
    workspace.engine.dispose()  # new sessions read the setting
    try:
        service = RecordService(workspace, spec)
        with pytest.raises(ServiceError) as caught:
            service.create("item", {"code": SECRET})
        message = caught.value.message
        assert "read-only" in message and SECRET not in message and "INSERT" not in message
    finally:
        workspace.dispose()
