"""Test set-up shared by every test: Qt runs offscreen with real widgets."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

import pytest

# Must be set before anything imports Qt: with no display and no platform plugin,
# Qt aborts the whole pytest process instead of failing one test.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
# The user's data folder (PostgreSQL upgrade backups, via platformdirs) is a private
# one per test run: tests never write into the real home, nor share it between runs.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="formwright-tests-data-")
atexit.register(shutil.rmtree, os.environ["XDG_DATA_HOME"], ignore_errors=True)

#: A PostgreSQL server the tests may create databases in (CI starts or finds one).
POSTGRES_ADMIN_URL = os.environ.get(
    "FORMWRIGHT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"fw_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is needed at {POSTGRES_ADMIN_URL} (set FORMWRIGHT_TEST_POSTGRES): {error}"
        )
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(autouse=True)
def _messages_in_english() -> Iterator[None]:
    """Service messages are English in every test unless the test switches them; a
    test that switched the UI to Chinese must not leave them Chinese."""
    yield
    from resources.messages import message_language, use_language

    if message_language() != "en":
        use_language("en")


@pytest.fixture(scope="session", autouse=True)
def _clipboard_released_before_exit() -> Iterator[None]:
    """Qt destroys clipboard data after Python has shut down; data a test put there
    would then crash the process at exit (see designer.clipboard.release_clipboard)."""
    yield
    import sys

    if "PySide6.QtWidgets" in sys.modules:
        from PySide6.QtWidgets import QApplication

        if QApplication.instance() is not None:
            QApplication.clipboard().clear()
            QApplication.processEvents()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> Iterator[str]:
    """The URL of an empty workspace database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'workspace.sqlite'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_database()


@pytest.fixture(scope="session")
def private_postgres():
    """A PostgreSQL cluster of this test session's own (tests/postgres_servers.py),
    started on first use: tests may stop and start it (``with server.stopped():``)."""
    from tests.postgres_servers import PrivateServer

    server = PrivateServer()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def pgbouncer():
    """PgBouncer in transaction mode in front of the test PostgreSQL server (failed
    in CI when it is not installed, skipped elsewhere)."""
    from tests.postgres_servers import PgBouncer

    bouncer = PgBouncer(POSTGRES_ADMIN_URL)
    yield bouncer
    bouncer.close()


@pytest.fixture
def workspace(db_url):
    """An open, empty workspace on SQLite and on PostgreSQL."""
    from runtime.store.workspace import Workspace

    opened = Workspace.open(db_url)
    yield opened
    opened.dispose()
