"""`formwright imports list|undo` and `import --resume|--allow-duplicates` after an
import killed with kill -9: one-line refusals that name the import and the ways out."""

from __future__ import annotations

import json

import pytest

from runtime.cli import main
from tests.services.import_support import import_and_kill, visit_spec, write_visits

ROWS = 3000


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def package(tmp_path):
    folder = tmp_path / "clinic"
    folder.mkdir()
    text = json.dumps(visit_spec().to_json_dict(), ensure_ascii=False)
    (folder / "app.json").write_text(text, "utf-8")
    return str(folder)


def test_list_refuse_resume_duplicates_and_undo_from_the_command_line(
    db_url, package, tmp_path, capsys
):
    path = write_visits(tmp_path / "visits.xlsx", ROWS)
    done = import_and_kill(db_url, path)
    code, out, _err = run(capsys, "imports", "list", package, "--db", db_url)
    assert code == 0
    [line] = [text for text in out.splitlines() if "visits.xlsx" in text]
    assert "unfinished" in line and f"{done}/{ROWS}" in line and "system" in line
    short_id = line.split()[0]

    edited = write_visits(tmp_path / "visits v2.xlsx", ROWS, edited=True)
    code, out, err = run(capsys, "import", package, "--form", "visit", str(edited), "--db", db_url)
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "unfinished import blocks new imports into 'visit'" in err
    assert f"{done:,} of 3,000 rows committed" in err
    assert f"Resume: formwright import {package} --form visit {path} --resume" in err
    assert f"undo: formwright imports undo {package} {short_id}" in err
    argv = ["import", package, "--form", "visit", "--db", db_url, "--resume"]
    code, _out, err = run(capsys, *argv, str(edited))
    assert code == 1 and "an edited copy cannot resume" in err

    code, out, err = run(capsys, *argv, str(path))
    assert code == 0, err
    assert f"imported {ROWS - done} new and 0 updated records (resumed after row {done})" in out

    argv = ["import", package, "--form", "visit", "--db", db_url, str(path)]
    code, _out, err = run(capsys, *argv)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "'visits.xlsx' was already imported into 'visit'" in err
    assert "add --allow-duplicates to import it anyway" in err
    code, out, err = run(capsys, *argv, "--dry-run")
    assert code == 0 and "dry run: 3000 of 3000 rows are valid" in out
    assert "warning: 'visits.xlsx' was already imported" in err
    assert "warning: 3,000 rows of 'visits.xlsx' are identical to records already in" in err

    code, out, err = run(capsys, "imports", "undo", package, short_id, "--db", db_url)
    assert code == 0, err
    assert f"undid import {short_id} (visits.xlsx): {ROWS} records moved to the trash" in out
    code, out, _err = run(capsys, "imports", "list", package, "--form", "visit", "--db", db_url)
    assert "undone" in out.splitlines()[1]
    code, out, _err = run(capsys, "imports", "undo", package, short_id, "--db", db_url)
    assert code == 0 and "was already undone" in out
    code, out, err = run(capsys, "imports", "undo", package, "zzzz", "--db", db_url)
    assert code == 1 and "no import 'zzzz'" in err
