"""A workspace behind PgBouncer in transaction mode (``?pgbouncer=true``): every
path works when each transaction may run on another server connection, whose
session is reset after it (tests/postgres_servers.py: nothing of a session
survives, so relying on it fails every time)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from runtime.cli import main
from runtime.services.actor import SYSTEM
from runtime.services.excel.importer import import_records
from runtime.services.progress import run_steps
from runtime.store.engine import WorkspaceError
from runtime.store.query import RecordQuery, Sort
from runtime.store.workspace import Workspace
from tests.services.import_support import FORM, visit_service, write_visits

pytestmark = pytest.mark.postgres

#: More than psycopg's prepare threshold (5): a statement run this often would be
#: prepared on the server (and be missing in the next transaction) if the URL did
#: not say PgBouncer.
REPEATS = 12


@pytest.fixture
def bounced_url(pgbouncer, postgres_url) -> str:
    return pgbouncer.url_for(postgres_url)


def test_saves_an_import_pages_and_the_audit_check_through_pgbouncer(bounced_url, tmp_path):
    service = visit_service(bounced_url)  # installs the app through PgBouncer
    try:
        created = [service.create(FORM, {"patient": f"Q{n:02d}"}) for n in range(REPEATS)]
        for record in created:
            service.update(FORM, record.id, {"ward": "ICU"}, record.version)
        for record in created[: REPEATS // 2]:
            service.delete(FORM, record.id)
        path = write_visits(tmp_path / "visits.xlsx", 300)
        fields = ["patient", "ward", "amount"]
        run_steps(
            import_records(service, FORM, path, actor=SYSTEM, visible_fields=fields, batch_size=50)
        )
        query = RecordQuery(sort=Sort("patient"))
        patients, cursor = [], None
        while True:
            page = service.page(FORM, query, after=cursor, limit=25)
            patients += [record.values["patient"] for record in page.records]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        kept = [f"Q{n:02d}" for n in range(REPEATS // 2, REPEATS)]
        assert patients == sorted([f"P{n:05d}" for n in range(300)] + kept)
        assert service.count(FORM, query) == 300 + REPEATS // 2
        marks = service.position_marks(FORM, query, every=100)  # one REPEATABLE READ walk
        assert [mark.id for mark in marks] == [
            service.page(FORM, query, limit=100 * n).records[-1].id for n in (1, 2, 3)
        ]
        assert {service.get(FORM, record.id).values["ward"] for record in created[-3:]} == {"ICU"}
    finally:
        service.workspace.dispose()
    assert main(["audit", "verify", "--db", bounced_url]) == 0


def test_without_the_url_setting_pgbouncer_is_refused_with_what_to_do(pgbouncer, postgres_url):
    """The server settings travel in the startup packet, which PgBouncer refuses:
    the workspace does not open, and the message says what to add."""
    url = sa.engine.make_url(pgbouncer.url_for(postgres_url)).difference_update_query(["pgbouncer"])
    with pytest.raises(WorkspaceError) as refused:
        Workspace.open(url.render_as_string(hide_password=False))
    assert refused.value.message.endswith(
        "the database server refused the connection (unsupported startup parameter: "
        "options); behind PgBouncer, add ?pgbouncer=true to the database address"
    )
