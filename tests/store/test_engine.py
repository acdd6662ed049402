"""Engines and workspaces: SQLite settings, refused databases, several apps, long names."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

import runtime.store.engine as engine_module
from runtime.services.actor import SYSTEM
from runtime.services.records.references import WorkspaceReferences
from runtime.services.records.service import RecordService
from runtime.services.settings import WorkspaceSettings
from runtime.store.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    WorkspaceError,
    create_engine,
    describe_url,
    filesystem_type,
    is_network_path,
)
from runtime.store.schema import (
    MAX_IDENTIFIER,
    STORE_SCHEMA_VERSION,
    audit_table,
    meta_table,
    system_metadata,
    table_name,
)
from runtime.store.workspace import Workspace
from tests.store.conftest import add_department, add_user, load_sample, make_spec


def test_sqlite_pragmas_are_in_effect(tmp_path):
    workspace = Workspace.open(f"sqlite:///{tmp_path / 'ws.sqlite'}")
    try:
        with workspace.engine.connect() as connection:

            def pragma(name):
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("synchronous") == 2  # FULL
            assert pragma("busy_timeout") == SQLITE_BUSY_TIMEOUT_MS
        assert (tmp_path / "ws.sqlite").exists()
    finally:
        workspace.dispose()


def test_sqlite_readers_do_not_wait_for_a_writer(tmp_path):
    """Writers take the lock at BEGIN; list and record reads go past them (WAL)."""
    workspace = Workspace.open(f"sqlite:///{tmp_path / 'ws.sqlite'}")
    spec = load_sample("equipment_repair")
    workspace.install(spec)
    service = RecordService(workspace, spec)
    department = add_department(workspace, "ICU")
    device = service.create(
        "device", {"asset_no": "EQ-0001", "name": "n", "owner_dept": department}
    )
    try:
        with workspace.engine.begin() as writer:  # holds the write lock
            writer.execute(meta_table.insert().values(key="busy", value="1"))
            started = time.monotonic()
            assert service.get("device", device.id).values["asset_no"] == "EQ-0001"
            assert service.count("device") == 1
            assert [r.id for r in service.page("device").records] == [device.id]
            # the reads around a list too: names, saved settings, the app's spec
            references = WorkspaceReferences(service, SYSTEM)
            assert references.name_of("department", department) == "ICU"
            assert WorkspaceSettings(workspace).get("user:1", "list.widths") is None
            assert workspace.installed_spec(spec.id) == spec
            assert time.monotonic() - started < 2
    finally:
        workspace.dispose()


def test_sqlite_writers_queue_instead_of_failing(tmp_path):
    url = f"sqlite:///{tmp_path / 'ws.sqlite'}"
    first, second = Workspace.open(url), Workspace.open(url)
    errors = []

    def write(workspace, name):
        try:
            with workspace.engine.begin() as connection:
                connection.execute(sa.select(meta_table)).all()  # read, then write
                time.sleep(0.3)
                connection.execute(meta_table.insert().values(key=name, value="1"))
        except Exception as error:  # pragma: no cover - the failure being tested for
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=(ws, n)) for ws, n in ((first, "a"), (second, "b"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with first.engine.connect() as connection:
            keys = set(connection.execute(sa.select(meta_table.c.key)).scalars())
        assert {"a", "b"} <= keys
    finally:
        first.dispose()
        second.dispose()


# -- network drives ------------------------------------------------------------------------


@pytest.fixture
def fake_mounts(tmp_path) -> tuple[Path, Path]:
    root = tmp_path.resolve()
    for folder in ("nfs/local", "smb share", "disk"):
        (root / folder).mkdir(parents=True)
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw,relatime 0 0\n"
        "proc /proc proc rw 0 0\n"
        f"server:/export {root}/nfs nfs4 rw,vers=4.2 0 0\n"
        f"/dev/sdb1 {root}/nfs/local ext4 rw 0 0\n"
        f"//filer/ward {root}/smb\\040share cifs rw 0 0\n"
        f"/dev/sdc1 {root}/disk xfs rw 0 0\n"
        "garbage\n",
        encoding="utf-8",
    )
    return root, mounts


def test_filesystem_type_reads_the_longest_matching_mount(fake_mounts):
    root, mounts = fake_mounts
    table = mounts.read_text(encoding="utf-8")  # /proc/mounts format is read too
    assert filesystem_type(root / "nfs" / "ws.sqlite", table) == "nfs4"
    assert filesystem_type(root / "nfs" / "new" / "dir" / "ws.sqlite", table) == "nfs4"
    assert filesystem_type(root / "nfs" / "local" / "ws.sqlite", table) == "ext4"
    assert filesystem_type(root / "smb share" / "ws.sqlite", table) == "cifs"
    assert filesystem_type(root / "disk" / "ws.sqlite", table) == "xfs"
    assert filesystem_type(root / "nfsother" / "ws.sqlite", table) == "ext4"
    assert filesystem_type(root / "x", "") is None
    assert is_network_path(root / "nfs" / "ws.sqlite", table)
    assert is_network_path(root / "smb share" / "ws.sqlite", table)
    assert not is_network_path(root / "nfs" / "local" / "ws.sqlite", table)
    assert not is_network_path(root / "disk" / "ws.sqlite", table)


def test_sqlite_on_a_network_drive_is_refused(fake_mounts, monkeypatch):
    root, mounts = fake_mounts
    monkeypatch.setattr(engine_module, "read_mountinfo", lambda: mounts.read_text("utf-8"))
    with pytest.raises(WorkspaceError) as refused:
        Workspace.open(f"sqlite:///{root / 'smb share' / 'ws.sqlite'}")
    assert "network drive" in refused.value.message
    assert "PostgreSQL" in refused.value.message
    assert not (root / "smb share" / "ws.sqlite").exists()
    workspace = Workspace.open(f"sqlite:///{root / 'disk' / 'ws.sqlite'}")
    workspace.dispose()


# -- refused databases ----------------------------------------------------------------------


def test_a_newer_database_is_refused(db_url):
    workspace = Workspace.open(db_url)
    with workspace.engine.begin() as connection:
        connection.execute(
            meta_table.update().where(meta_table.c.key == "schema_version").values(value="99")
        )
    workspace.dispose()
    with pytest.raises(WorkspaceError) as refused:
        Workspace.open(db_url)
    assert "newer" in refused.value.message
    assert "99" in refused.value.message


def test_an_older_workspace_gets_the_missing_system_tables(db_url):
    workspace = Workspace.open(db_url)
    with workspace.engine.begin() as connection:
        connection.execute(
            meta_table.update().where(meta_table.c.key == "schema_version").values(value="0")
        )
        connection.execute(sa.text("DROP TABLE fw_settings"))
    workspace.dispose()
    workspace = Workspace.open(db_url)
    try:
        assert "fw_settings" in sa.inspect(workspace.engine).get_table_names()
        with workspace.engine.connect() as connection:
            stored = connection.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).scalar()
        assert stored == str(STORE_SCHEMA_VERSION)
    finally:
        workspace.dispose()


#: The system tables of each schema version. Opening a workspace at the current
#: version skips creating system tables, so a change to them must come with a new
#: STORE_SCHEMA_VERSION (older workspaces then get the new tables on open).
SYSTEM_SCHEMA_FINGERPRINTS = {
    1: "cd98a4fb4fdc5339b4916000c852614b8f14c66b52d1104e5996207ccf054d58",
    2: "9633550ae02fad253b6f64a4df1554eb5eb22b08ffef2953e557311298fa617d",  # audit indexes
    3: "a4ad8e41877544c6b2d82e506b57ce2557673157c8afb01a5419b9a6064ed587",  # audit signing, import owners
    4: "955ad2fa5437051e2a3812148f0ab82872d4356f5fb385224c403f18fcc31538",  # audit chains
}


def test_changed_system_tables_come_with_a_new_schema_version():
    parts = []
    for table in system_metadata.sorted_tables:
        for dialect in (sqlite.dialect(), postgresql.dialect()):
            parts.append(str(CreateTable(table).compile(dialect=dialect)))
            indexes = sorted(table.indexes, key=lambda index: index.name)
            parts += [str(CreateIndex(index).compile(dialect=dialect)) for index in indexes]
    fingerprint = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    assert SYSTEM_SCHEMA_FINGERPRINTS.get(STORE_SCHEMA_VERSION) == fingerprint, (
        "the system tables changed: raise STORE_SCHEMA_VERSION and add its fingerprint "
        f"{fingerprint}"
    )


@pytest.mark.parametrize(
    "url",
    [
        "nonsense",
        "mysql://user@host/db",
        "oracle://user@host/db",
        "postgresql+nodriver://user:secret@host/db",
        "sqlite+nodriver:///x.sqlite",
    ],
)
def test_bad_urls_are_workspace_errors(url):
    with pytest.raises(WorkspaceError) as refused:
        Workspace.open(url)
    assert refused.value.message
    assert "secret" not in refused.value.message


def test_unreachable_postgresql_is_a_clear_error():
    started = time.monotonic()
    with pytest.raises(WorkspaceError) as refused:
        Workspace.open("postgresql+psycopg://nurse:s3cret@127.0.0.1:1/formwright")
    message = refused.value.message
    assert message.startswith("cannot open the database PostgreSQL 127.0.0.1:1/formwright")
    assert "s3cret" not in message
    assert "Traceback" not in message and "[SQL" not in message
    assert time.monotonic() - started < 10


def test_missing_postgresql_database_is_a_clear_error(postgres_url):
    url = sa.engine.make_url(postgres_url).set(database="fw_no_such_database")
    with pytest.raises(WorkspaceError) as refused:
        Workspace.open(url.render_as_string(hide_password=False))
    assert "fw_no_such_database" in refused.value.message


def test_describe_url_hides_passwords():
    assert describe_url("postgresql+psycopg://u:pw@db.example:6543/ward") == (
        "PostgreSQL db.example:6543/ward"
    )
    assert describe_url("sqlite:////data/ws.sqlite") == "SQLite /data/ws.sqlite"


def test_plain_postgresql_url_uses_psycopg():
    engine = create_engine("postgresql://u@localhost/db")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


# -- apps in a workspace -----------------------------------------------------------------------


def test_installing_an_app_twice_is_refused(workspace):
    spec = load_sample("equipment_repair")
    workspace.install(spec)
    with pytest.raises(WorkspaceError) as refused:
        workspace.install(spec)
    assert "already installed" in refused.value.message
    assert workspace.installed_apps() == [("equipment_repair", 1)]
    assert workspace.installed_spec("equipment_repair") == spec


def test_two_apps_share_users_and_departments(workspace):
    repair_spec, events_spec = load_sample("equipment_repair"), load_sample("adverse_event")
    workspace.install(repair_spec)
    workspace.install(events_spec)
    assert workspace.installed_apps() == [("adverse_event", 1), ("equipment_repair", 1)]
    icu = add_department(workspace, "ICU", "icu")
    nurse = add_user(workspace, "zhang", "张伟", icu)
    repair, events = RecordService(workspace, repair_spec), RecordService(workspace, events_spec)
    device = repair.create(
        "device", {"asset_no": "EQ-0001", "name": "泵", "owner_dept": icu}, nurse
    )
    request = repair.create(
        "request",
        {"device": device.id, "reporter": nurse.user_id, "reported_on": "2024-03-05 08:00",
         "urgency": "normal", "fault": "坏了", "status": "open"},
        nurse,
    )  # fmt: skip
    event = events.create(
        "event_report",
        {"reporter": nurse.user_id, "reporting_dept": icu, "occurred_on": "2024-03-05",
         "patient_name": "李四", "category": "fall", "severity": "none", "description": "x"},
        nurse,
    )  # fmt: skip
    assert request.values["reporter"] == event.values["reporter"] == nurse.user_id
    assert event.values["reporting_dept"] == device.values["owner_dept"] == icu
    with workspace.engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit_table.c.app_id, audit_table.c.form, audit_table.c.user_id)
            .where(audit_table.c.action == "create")
            .order_by(audit_table.c.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("equipment_repair", "device", nurse.user_id),
        ("equipment_repair", "request", nurse.user_id),
        ("adverse_event", "event_report", nurse.user_id),
    ]


def test_long_table_names_are_shortened_identically(workspace):
    app_id = "a" + "p" * 39
    form_key = "f" + "o" * 39
    other_form = "f" + "o" * 38 + "x"
    sub_key = "s" + "u" * 39
    long_name = table_name(app_id, form_key, sub_key)
    assert len(long_name) == MAX_IDENTIFIER
    assert long_name == table_name(app_id, form_key, sub_key)  # stable
    assert table_name(app_id, form_key) != table_name(app_id, other_form)
    assert table_name("short", "name") == "short__name"
    spec = make_spec(
        app_id,
        [
            {"key": form_key, "title": "Long", "fields": [
                {"key": "c" * 40, "type": "text", "label": "Code", "unique": True},
                {"key": sub_key, "type": "subtable", "label": "Rows",
                 "fields": [{"key": "item", "type": "text", "label": "Item"}]},
            ]},
            {"key": other_form, "title": "Other", "fields": [
                {"key": "d" * 40, "type": "user", "label": "Who"}]},
        ],
    )  # fmt: skip
    workspace.install(spec)
    with workspace.engine.connect() as connection:
        inspector = sa.inspect(connection)
        names = set(inspector.get_table_names())
        expected = {
            table_name(app_id, form_key),
            table_name(app_id, other_form),
            table_name(app_id, form_key, sub_key),
        }
        assert expected <= names
        assert all(len(name) <= MAX_IDENTIFIER for name in names)
        index_names = {
            index["name"] for index in inspector.get_indexes(table_name(app_id, form_key))
        }
        assert table_name("ix", table_name(app_id, form_key), "c" * 40) in index_names
    service = RecordService(workspace, spec)
    record = service.create(form_key, {"c" * 40: "A-1", sub_key: [{"item": "x"}, {"item": "y"}]})
    assert service.get(form_key, record.id).values[sub_key] == [{"item": "x"}, {"item": "y"}]
    with pytest.raises(Exception, match="already used"):
        service.create(form_key, {"c" * 40: "A-1"})


def test_an_older_workspace_gets_the_indexes_of_the_new_schema(tmp_path):
    """Schema 1 had no audit-viewer indexes: opening such a workspace adds them and
    records the new version; the audit rows are kept."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    workspace = Workspace.open(url)
    with workspace.engine.begin() as connection:
        for name in ("ix_fw_audit_at", "ix_fw_audit_username", "ix_fw_audit_action"):
            connection.exec_driver_sql(f"DROP INDEX {name}")
        connection.execute(
            meta_table.update().where(meta_table.c.key == "schema_version").values(value="1")
        )
        audit_rows = connection.execute(
            sa.select(sa.func.count()).select_from(audit_table)
        ).scalar()
    workspace.dispose()
    reopened = Workspace.open(url)
    try:
        with reopened.reader() as connection:
            indexes = {index["name"] for index in sa.inspect(connection).get_indexes("fw_audit")}
            version = connection.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).scalar()
            count = connection.execute(sa.select(sa.func.count()).select_from(audit_table)).scalar()
        assert {"ix_fw_audit_at", "ix_fw_audit_username", "ix_fw_audit_action"} <= indexes
        assert version == str(STORE_SCHEMA_VERSION) == "4"
        assert count == audit_rows
    finally:
        reopened.dispose()


def test_a_schema_2_workspace_gets_the_new_columns_of_its_imports(db_url):
    """Schema 3 added the owner, heartbeat and undo progress of an import to
    ``fw_imports``: opening an older workspace adds the columns and keeps its rows
    (an old running import, without an owner, is then unfinished)."""
    from runtime.services.excel.journal import status
    from runtime.store.imports import imports_of

    workspace = Workspace.open(db_url)
    with workspace.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE fw_imports")
        connection.exec_driver_sql(
            "CREATE TABLE fw_imports (import_id VARCHAR(36) PRIMARY KEY, app_id VARCHAR(40) "
            "NOT NULL, form VARCHAR(40) NOT NULL, source_sha256 VARCHAR(64) NOT NULL, "
            "rows_done INTEGER NOT NULL, rows_total INTEGER NOT NULL, state VARCHAR(16) "
            "NOT NULL, started_at TIMESTAMP NOT NULL)"
        )
        connection.exec_driver_sql(
            "INSERT INTO fw_imports VALUES ('0123456789', 'ward', 'patient', 'ab', 20, 35, "
            "'running', '2026-01-02 03:04:05')"
        )
        connection.execute(
            meta_table.update().where(meta_table.c.key == "schema_version").values(value="2")
        )
    workspace.dispose()
    reopened = Workspace.open(db_url)
    try:
        with reopened.reader() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("fw_imports")}
            indexes = {i["name"] for i in sa.inspect(connection).get_indexes("fw_imports")}
            [entry] = imports_of(connection, "ward", "patient")
        assert {"host", "pid", "heartbeat_at", "file_name", "rows_undone"} <= columns
        assert "ix_fw_imports_form" in indexes
        assert (entry.rows_done, entry.rows_total, entry.state) == (20, 35, "running")
        assert status(entry) == "unfinished"
    finally:
        reopened.dispose()
