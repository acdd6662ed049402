"""An import killed with ``kill -9`` mid-way: listed as unfinished, blocking new
imports into its form, resumed only with the same file, or undone (audited).
Importing a file or rows already imported asks for confirmation."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from resources.messages import use_language
from runtime.services.actor import SYSTEM
from runtime.services.excel.common import ExcelError
from runtime.services.excel.importer import import_records
from runtime.services.excel.journal import (
    STALE_AFTER,
    DuplicateImport,
    ImportInProgress,
    ImportJournal,
    UnfinishedImport,
    status,
)
from runtime.services.progress import run_steps
from runtime.services.records.service import RecordService
from runtime.spec import parse_app_spec
from runtime.store.audit import utc_now, verify_chain
from runtime.store.query import RecordQuery
from runtime.store.schema import audit_table, imports_table
from runtime.store.workspace import Workspace
from tests.services.excel_support import do_import
from tests.services.import_support import (
    FORM,
    import_and_kill,
    visit_rows,
    visit_service,
    visit_spec,
    write_visits,
)
from tests.store.conftest import add_user

ROWS = 3000


def _visits(service, trash: bool = False) -> list[tuple]:
    query = RecordQuery(trash=trash)
    return sorted(
        (r.values["patient"], r.values["ward"], str(r.values["amount"]))
        for r in service.iter_records(FORM, query)
    )


def _expected(count: int, edited: bool = False) -> list[tuple]:
    return sorted((p, w, a) for p, w, a in visit_rows(count, edited))


def _audit(service, action: str) -> list[dict]:
    with service.workspace.reader() as connection:
        texts = connection.execute(
            sa.select(audit_table.c.details)
            .where(audit_table.c.action == action)
            .order_by(audit_table.c.id)
        ).scalars()
        return [json.loads(text) for text in texts]


@pytest.fixture
def killed(db_url, tmp_path):
    """A workspace with one hand-made visit and an import of 3,000 rows killed with
    kill -9 after at least 100 committed rows: (service, file, rows committed)."""
    service = visit_service(db_url)
    service.create(FORM, {"patient": "HAND-1", "ward": "ICU"})
    path = write_visits(tmp_path / "visits.xlsx", ROWS)
    done = import_and_kill(db_url, path)
    assert done < ROWS
    yield service, path, done
    service.workspace.dispose()


def test_killed_import_is_unfinished_refuses_an_edited_copy_and_resumes(killed, tmp_path):
    service, path, done = killed
    journal = ImportJournal(service)
    [entry] = journal.imports(FORM)
    assert status(entry) == "unfinished"  # its process is gone
    assert (entry.file_name, entry.rows_done, entry.rows_total) == ("visits.xlsx", done, ROWS)
    assert entry.started_by_name == "system" and entry.host and entry.pid
    assert journal.open_import(FORM) == entry
    edited = write_visits(tmp_path / "visits (corrected).xlsx", ROWS, edited=True)
    with pytest.raises(UnfinishedImport) as refused:
        do_import(service, FORM, edited)
    message = refused.value.message
    assert "unfinished import" in message and "'visits.xlsx'" in message
    assert f"{done:,} of 3,000 rows committed" in message and "by system" in message
    assert "resume it with the same file, or undo it" in message
    with pytest.raises(UnfinishedImport, match="an edited copy cannot resume"):
        do_import(service, FORM, edited, resume=True)
    with pytest.raises(UnfinishedImport):  # the same file too, unless it resumes
        do_import(service, FORM, path)
    checked = do_import(service, FORM, edited, dry_run=True)  # a check still runs
    assert checked.open_import == entry and checked.created == 0
    assert len(_visits(service)) == done + 1
    result = do_import(service, FORM, path, resume=True, batch_size=500)
    assert result.resumed_from == done and result.created == ROWS - done
    assert _visits(service) == sorted([*_expected(ROWS), ("HAND-1", "ICU", "None")])
    [entry] = journal.imports(FORM)
    assert status(entry) == "done" and entry.rows_done == ROWS and entry.finished_at
    created = [i for batch in _audit(service, "import_batch") for i in batch["created"]]
    assert len(created) == len(set(created)) == ROWS


def test_undo_moves_exactly_the_created_records_to_the_trash(killed):
    service, path, done = killed
    journal = ImportJournal(service)
    [entry] = journal.imports(FORM)
    created = sorted(i for batch in _audit(service, "import_batch") for i in batch["created"])
    assert len(created) == done
    # an undo interrupted after its first batch (closed, as a cancel does) ...
    steps = journal.undo(entry.import_id[:8], SYSTEM)
    next(steps)
    steps.close()
    [entry] = journal.imports(FORM)
    assert entry.state == "undoing" and status(entry) == "unfinished"
    assert 0 < entry.rows_undone < entry.rows_done + 1
    with pytest.raises(UnfinishedImport, match="undo it again"):
        do_import(service, FORM, path)
    # ... is finished by running it again
    result = run_steps(journal.undo(entry.import_id, SYSTEM))
    assert result.entry.state == "undone" and result.updated_kept == 0
    assert _visits(service) == [("HAND-1", "ICU", "None")]
    assert _visits(service, trash=True) == _expected(done)
    moved = sorted(i for batch in _audit(service, "undo_import_batch") for i in batch["trashed"])
    assert moved == created  # every created record once, nothing else
    [event] = _audit(service, "undo_import")
    assert event["import_id"] == entry.import_id and event["file"] == "visits.xlsx"
    with service.workspace.reader() as connection:
        assert verify_chain(connection).ok
    again = run_steps(journal.undo(entry.import_id, SYSTEM))  # idempotent
    assert again.already_undone and len(_audit(service, "undo_import")) == 1
    # the form is free again: the whole file imports (its rows are no longer live)
    result = do_import(service, FORM, path, batch_size=1000)
    assert result.created == ROWS and result.duplicates == 0


def test_an_import_whose_owner_is_alive_elsewhere_is_in_progress(killed):
    service, path, done = killed
    journal = ImportJournal(service)
    [entry] = journal.imports(FORM)
    with service.workspace.engine.begin() as connection:
        connection.execute(imports_table.update().values(host="ward-7-pc", heartbeat_at=utc_now()))
    [entry] = journal.imports(FORM)
    assert status(entry) == "in progress"
    with pytest.raises(ImportInProgress, match=r"in progress.*on ward-7-pc"):
        do_import(service, FORM, path)
    with pytest.raises(ImportInProgress):
        do_import(service, FORM, path, resume=True)
    with pytest.raises(ImportInProgress):
        run_steps(journal.undo(entry.import_id, SYSTEM))
    stale = utc_now() - STALE_AFTER - timedelta(seconds=5)
    with service.workspace.engine.begin() as connection:
        connection.execute(imports_table.update().values(heartbeat_at=stale))
    [entry] = journal.imports(FORM)
    assert status(entry) == "unfinished"  # silent too long: that workstation died
    result = do_import(service, FORM, path, resume=True, batch_size=1000)
    assert result.created == ROWS - done


def test_the_same_rows_again_ask_for_confirmation(db_url, tmp_path):
    service = visit_service(db_url)
    path = write_visits(tmp_path / "visits.xlsx", 40)
    first = do_import(service, FORM, path)
    assert first.created == 40 and first.duplicates == 0 and first.same_file is None
    # the same file: refused at once, a dry run says why
    with pytest.raises(DuplicateImport, match=r"'visits\.xlsx' was already imported") as refused:
        do_import(service, FORM, path)
    assert refused.value.entry.import_id == first.import_id
    checked = do_import(service, FORM, path, dry_run=True)
    assert checked.same_file.import_id == first.import_id and checked.duplicates == 40
    # a copy with 1 changed row and 5 new rows: 39 rows are already there
    copy = tmp_path / "visits copy.xlsx"
    write_visits(copy, 45, edited=True)
    checked = do_import(service, FORM, copy, dry_run=True)
    assert checked.same_file is None and checked.duplicates == 39
    with pytest.raises(DuplicateImport, match=r"39 rows of 'visits copy\.xlsx' are identical"):
        do_import(service, FORM, copy)
    assert len(_visits(service)) == 40
    result = do_import(service, FORM, copy, allow_duplicates=True)
    assert result.created == 45 and len(_visits(service)) == 85


def test_resume_needs_an_unfinished_import(db_url, tmp_path):
    service = visit_service(db_url)
    path = write_visits(tmp_path / "visits.xlsx", 5)
    with pytest.raises(ExcelError, match="no unfinished import into 'visit' to resume"):
        do_import(service, FORM, path, resume=True)


def test_rows_and_files_of_others_the_user_cannot_read_are_not_counted(tmp_path):
    """A clerk who sees only her own records learns nothing from the duplicate
    checks about what another clerk imported."""
    data = visit_spec().to_json_dict()
    fields = {"patient": "edit", "ward": "edit", "amount": "edit"}
    grant = {"actions": ["create", "read", "import"], "scope": "own", "fields": fields}
    data["roles"] = [{"key": "clerk", "title": "Clerk", "grants": {FORM: grant}}]
    spec = parse_app_spec(data)
    workspace = Workspace.open(f"sqlite:///{tmp_path / 'ws.sqlite'}")
    workspace.install(spec)
    service = RecordService(workspace, spec)
    roles = {spec.id: frozenset({"clerk"})}
    wang = replace(add_user(workspace, "wang", "Wang"), roles=roles, is_admin=False)
    li = replace(add_user(workspace, "li", "Li"), roles=roles, is_admin=False)
    path = write_visits(tmp_path / "visits.xlsx", 12)

    def check(actor, **options):
        steps = import_records(
            service, FORM, path, actor=actor, visible_fields=list(fields), **options
        )
        return run_steps(steps)

    assert check(wang).created == 12
    seen_by_li = check(li, dry_run=True)
    assert seen_by_li.same_file is None and seen_by_li.duplicates == 0
    seen_by_wang = check(wang, dry_run=True)
    assert seen_by_wang.same_file is not None and seen_by_wang.duplicates == 12
    assert check(li).created == 12  # not refused: she cannot know
    workspace.dispose()


def test_the_refusals_are_chinese(db_url, tmp_path):
    service = visit_service(db_url)
    path = write_visits(tmp_path / "visits.xlsx", 5)
    do_import(service, FORM, path)
    use_language("zh_CN")
    try:
        with pytest.raises(DuplicateImport) as refused:
            do_import(service, FORM, path)
        with pytest.raises(ExcelError) as nothing:
            do_import(service, FORM, path, resume=True)
    finally:
        use_language("en")
    assert refused.value.message.startswith("“visits.xlsx”已导入过“visit”：“visits.xlsx”（导入 ")
    assert "已提交 5 行中的 5 行" in refused.value.message
    assert nothing.value.message == "“visit”没有可继续的未完成导入"


def test_an_owner_whose_import_was_taken_over_stops_without_writing(db_url, tmp_path):
    """A workstation silent for too long may be taken over; if it wakes up, its next
    batch is refused and rolled back instead of writing the rows a second time."""
    service = visit_service(db_url)
    path = write_visits(tmp_path / "visits.xlsx", 50)
    steps = import_records(
        service, FORM, path, actor=SYSTEM, visible_fields=["patient", "ward"], batch_size=10
    )
    while next(steps).message != "importing":
        pass  # the first batch is written
    with service.workspace.engine.begin() as connection:
        connection.execute(imports_table.update().values(host="ward-7-pc", pid=4242))
    with pytest.raises(ExcelError, match="another workstation took this import over"):
        next(steps)
    [entry] = ImportJournal(service).imports(FORM)
    assert entry.rows_done == 10 and service.count(FORM) == 10
    assert (entry.host, entry.pid) == ("ward-7-pc", 4242)  # still the new owner's
