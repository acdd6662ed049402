"""Cursors for jumping far into a list, stored files, and workspace settings."""

from __future__ import annotations

import hashlib
import random

import pytest

from runtime.services.errors import ServiceError
from runtime.services.records.files import FileStore
from runtime.services.records.service import RecordService
from runtime.services.settings import WorkspaceSettings
from runtime.store.query import RecordQuery, Sort


def spec_of_scores():
    form = {
        "key": "entry",
        "title": "Entry",
        "fields": [
            {"key": "score", "type": "number", "label": "Score"},
            {"key": "name", "type": "text", "label": "Name"},
        ],
    }
    from runtime.spec import parse_app_spec

    return parse_app_spec(
        {
            "format": "formwright-app",
            "spec_version": 1,
            "id": "scores",
            "version": 1,
            "title": "Scores",
            "forms": [form],
        }
    )


@pytest.fixture
def scores(workspace) -> RecordService:
    spec = spec_of_scores()
    workspace.install(spec)
    service = RecordService(workspace, spec)
    rng = random.Random(7)
    rows = [{"score": rng.choice([None, *range(40)]), "name": f"n{i}"} for i in range(530)]
    service.bulk_create("entry", rows)
    return service


def test_file_store_keeps_one_copy_and_checks_hashes(workspace):
    files = FileStore(workspace)
    data = b"%PDF-1.4 repair report"
    digest = hashlib.sha256(data).hexdigest()
    files.save_files({digest: data}, {digest: "report.pdf"})
    files.save_files({digest: data})  # the same file again is not an error
    assert files.read_file(digest) == data
    assert files.read_file("0" * 64) is None
    with pytest.raises(ServiceError, match="damaged"):
        files.save_files({"f" * 64: b"other bytes"})


def test_settings_round_trip_per_user_and_workspace(workspace):
    settings = WorkspaceSettings(workspace)
    assert settings.get("runtime", "idle_minutes", 10) == 10
    settings.set("runtime", "idle_minutes", 5)
    settings.set("runtime", "idle_minutes", 7)
    assert settings.get("runtime", "idle_minutes") == 7
    settings.save(3, "repair.request", {"columns": ["device"], "sort": {"field": "id"}})
    assert settings.load(3, "repair.request")["columns"] == ["device"]
    assert settings.load(4, "repair.request") == {}
    assert settings.load(None, "repair.request") == {}


@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("sort", ["id", "score"])
def test_cursor_at_starts_a_page_at_any_row(scores, sort, desc):
    """One index query finds row N; paging from there gives rows N… of the full order."""
    query = RecordQuery(sort=Sort(sort, desc))
    every_row = [record.id for record in scores.iter_records("entry", query, page_size=41)]
    assert scores.cursor_at("entry", query, 0) is None
    assert scores.cursor_at("entry", query, 530) is not None  # the last row
    assert scores.cursor_at("entry", query, 531) is None  # past the end
    for start in (1, 7, 250, 499, 529):
        cursor = scores.cursor_at("entry", query, start)
        page = scores.page("entry", query, after=cursor, limit=20)
        assert [record.id for record in page.records] == every_row[start : start + 20]
