"""A runtime keeps working through a restart of its PostgreSQL server: while the
server is away every call says so in one sentence, and the first call after it is
back works, on the same workspace and engine (tests/postgres_servers.py)."""

from __future__ import annotations

import pytest

from runtime.services.accounts.session_guard import session_guard
from runtime.services.errors import DatabaseUnavailable
from runtime.services.records.service import RecordService
from runtime.store.workspace import Workspace
from tests.services.import_support import FORM, visit_spec
from tests.store.conftest import add_department, add_user

pytestmark = pytest.mark.postgres

AWAY = "the database server cannot be reached (it may be restarting, or the network is down)"


@pytest.fixture
def service(private_postgres):
    workspace = Workspace.open(private_postgres.new_database())
    spec = visit_spec()
    workspace.install(spec)
    yield RecordService(workspace, spec)
    workspace.dispose()


def patients(service: RecordService) -> list[str]:
    return [record.values["patient"] for record in service.page(FORM).records]


def test_a_save_while_the_server_is_away_is_refused_and_the_next_one_works(
    service, private_postgres
):
    service.create(FORM, {"patient": "P1"})
    with private_postgres.stopped():
        with pytest.raises(DatabaseUnavailable) as away:
            service.create(FORM, {"patient": "P2"})
        assert away.value.message == f"{AWAY}, so nothing was saved"
        with pytest.raises(DatabaseUnavailable) as reading:
            service.page(FORM)
        assert reading.value.message.startswith(AWAY)
    service.create(FORM, {"patient": "P3"})
    assert patients(service) == ["P1", "P3"]


def test_a_restart_between_two_saves_goes_unnoticed(service, private_postgres):
    """The server ended every session when it stopped: the pool replaces them as
    they leave it, so no call fails."""
    service.create(FORM, {"patient": "P1"})
    assert patients(service) == ["P1"]
    private_postgres.stop()
    private_postgres.start()
    assert patients(service) == ["P1"]
    service.create(FORM, {"patient": "P2"})
    assert patients(service) == ["P1", "P2"]


def test_a_signed_in_user_hears_the_same_while_the_server_is_away(service, private_postgres):
    """A user's calls first ask whether the account may still be used (a read):
    that read is refused in the same sentence, not with the driver's error."""
    workspace = service.workspace
    nurse = add_user(workspace, "li.na", "李娜", add_department(workspace, "ICU"))
    service.create(FORM, {"patient": "P1"}, nurse)
    with private_postgres.stopped():
        session_guard(workspace).forget()  # the next call asks the database
        with pytest.raises(DatabaseUnavailable) as away:
            service.create(FORM, {"patient": "P2"}, nurse)
        assert away.value.message.startswith(AWAY)
    service.create(FORM, {"patient": "P3"}, nurse)
    assert patients(service) == ["P1", "P3"]
