"""The stores of settings, files and the audit viewer's reads, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import datetime

from runtime.store.audit import AuditEntry, append
from runtime.store.audit_reads import (
    AuditSelection,
    audit_count,
    audit_page,
    audit_values,
)
from runtime.store.files import add_file, file_content, stored_hashes
from runtime.store.settings import read_setting, settings_in_scope, write_setting

NOW = datetime(2024, 5, 1, 8, 0)


def test_a_setting_is_written_once_and_replaced(workspace):
    with workspace.engine.begin() as connection:
        assert read_setting(connection, "accounts", "lockout_minutes") is None
        write_setting(connection, "accounts", "lockout_minutes", "15")
        write_setting(connection, "accounts", "lockout_minutes", "30")
        write_setting(connection, "accounts", "lockout_threshold", "5")
        write_setting(connection, "runtime", "idle_minutes", "10")
    with workspace.reader() as connection:
        assert read_setting(connection, "accounts", "lockout_minutes") == "30"
        assert settings_in_scope(connection, "accounts") == {
            "lockout_minutes": "30",
            "lockout_threshold": "5",
        }
        assert settings_in_scope(connection, "user:7") == {}


def test_a_file_stored_twice_is_kept_once_and_the_transaction_goes_on(workspace):
    data = b"%PDF-1.4 repair report"
    digest = hashlib.sha256(data).hexdigest()
    with workspace.engine.begin() as connection:
        assert stored_hashes(connection, [digest]) == set()
        add_file(connection, digest, data, "application/pdf", NOW)
        add_file(connection, digest, data, "application/pdf", NOW)  # a duplicate key: skipped
        write_setting(connection, "runtime", "after", "1")  # the transaction is still usable
    with workspace.reader() as connection:
        assert stored_hashes(connection, iter([digest, "0" * 64])) == {digest}
        assert file_content(connection, digest) == data
        assert file_content(connection, "0" * 64) is None
        assert read_setting(connection, "runtime", "after") == "1"


def test_audit_reads_select_by_column_and_half_open_time_bounds(workspace):
    with workspace.engine.begin() as connection:
        ids = [
            append(connection, AuditEntry("login", 1, "admin"), at=datetime(2024, 5, 1, 0, 0)),
            append(connection, AuditEntry("create", 2, "li", "repair"), at=datetime(2024, 5, 1, 9)),
            append(connection, AuditEntry("login", 2, "li"), at=datetime(2024, 5, 2, 0, 0)),
        ]
    day_one = AuditSelection(since=datetime(2024, 5, 1), before=datetime(2024, 5, 2))
    with workspace.reader() as connection:
        assert [row.id for row in audit_page(connection, day_one, None, 10)] == ids[1::-1]
        assert audit_count(connection, day_one) == 2
        assert audit_count(connection, AuditSelection(username="li", action="login")) == 1
        assert audit_count(connection, AuditSelection(username="", app_id="")) == 3
        newest = audit_page(connection, AuditSelection(), ids[2], 1)
        assert [row.id for row in newest] == [ids[1]]
        assert (newest[0].app_id, newest[0].form, newest[0].action) == ("repair", None, "create")
        assert audit_page(connection, AuditSelection(), ids[0], 10) == []
        assert audit_values(connection, "username") == ["admin", "li"]
        assert audit_values(connection, "app_id") == ["repair"]
