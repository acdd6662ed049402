"""Servers a test starts itself: a private PostgreSQL cluster it may stop and start
again under a running workspace, and PgBouncer in transaction mode.

Both refuse to run as root (CI runs as root): then they run as the ``postgres``
user, which the Debian package creates, in a folder that user owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

POSTGRES_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
PGBOUNCER_PLACES = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def server_user_prefix() -> list[str]:
    """The command prefix that runs a server as an ordinary user: ``runuser -u
    postgres --`` as root, nothing otherwise."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("PostgreSQL and PgBouncer refuse root: create a 'postgres' user")
    return ["runuser", "-u", "postgres", "--"]


def server_folder(prefix: str) -> Path:
    """A new folder the server's user owns (a private one under /tmp)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        os.chown(folder, pwd.getpwnam("postgres").pw_uid, -1)
    return folder


class PrivateServer:
    """A PostgreSQL cluster of its own (trust authentication, no fsync) on a free
    port: :meth:`stop` and :meth:`start` restart it under running workspaces."""

    def __init__(self) -> None:
        if not POSTGRES_BINARIES:
            pytest.fail("PostgreSQL's server binaries are needed (apt install postgresql)")
        self.bin = POSTGRES_BINARIES[-1].parent
        self.folder = server_folder("formwright-pg-")
        self.port = free_port()
        self.prefix = server_user_prefix()
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        self.start()

    @property
    def data(self) -> str:
        return str(self.folder / "data")

    def _run(self, program: str, *args: str) -> None:
        command = [*self.prefix, str(self.bin / program), *args]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "log")
        self._run("pg_ctl", "-D", self.data, "-w", "-l", log, "-o", options, "start")

    def stop(self) -> None:
        """A fast shutdown, as a restart by an administrator: sessions are ended."""
        self._run("pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop")

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """The server stopped for the block, started again after it (whatever happens)."""
        self.stop()
        try:
            yield
        finally:
            if not self.is_running():
                self.start()

    def is_running(self) -> bool:
        status = subprocess.run(
            [*self.prefix, str(self.bin / "pg_ctl"), "-D", self.data, "status"],
            stdout=subprocess.DEVNULL,
        )
        return status.returncode == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """The URL of a new empty database on this server."""
        name = f"fw_test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        return self.url(name)

    def remove(self) -> None:
        if self.is_running():
            self._run("pg_ctl", "-D", self.data, "-w", "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def pgbouncer_binary() -> str:
    """PgBouncer's program. CI installs it (.ci/run), so there a missing one fails
    the test; elsewhere the test is skipped, saying why."""
    found = shutil.which("pgbouncer") or next(
        (place for place in PGBOUNCER_PLACES if os.access(place, os.X_OK)), None
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("pgbouncer is not installed: .ci/run installs it (apt install pgbouncer)")
        pytest.skip("pgbouncer is not installed (apt install pgbouncer); CI runs this test")
    return found


class PgBouncer:
    """PgBouncer in transaction mode in front of ``server_url``'s server.

    After every transaction the server connection is reset (``DISCARD ALL``, also
    in transaction mode): whatever a client left in a session — prepared
    statements, settings, temporary tables, session locks, held cursors — is gone
    before its next transaction, so relying on it fails every time, not by chance.
    """

    def __init__(self, server_url: str) -> None:
        server = sa.engine.make_url(server_url)
        self.user = server.username or "postgres"
        self.folder = server_folder("formwright-pgbouncer-")
        self.port = free_port()
        users = self.folder / "users.txt"
        users.write_text(f'"{self.user}" "{server.password or ""}"\n')
        config = self.folder / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {users}\n"
            "pool_mode = transaction\ndefault_pool_size = 3\nmax_client_conn = 200\n"
            "server_reset_query = DISCARD ALL\nserver_reset_query_always = 1\n"
            "idle_transaction_timeout = 60\n"
            f"logfile = {self.folder / 'pgbouncer.log'}\n"
        )
        for path in (users, config):
            path.chmod(0o644)
        command = [*server_user_prefix(), pgbouncer_binary(), "-q", str(config)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for_port(self.port)
        except OSError:
            pytest.fail(f"PgBouncer did not start:\n{self.log()}")

    def url_for(self, database_url: str) -> str:
        """``database_url`` reached through PgBouncer, with ``?pgbouncer=true``."""
        url = sa.engine.make_url(database_url).set(host="127.0.0.1", port=self.port)
        url = url.update_query_dict({"pgbouncer": "true"})
        return url.render_as_string(hide_password=False)

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)
