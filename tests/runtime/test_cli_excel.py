"""`formwright export`, `import` and `template`: files, exit codes, one-line errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from runtime.api import open_workspace
from runtime.cli import main
from runtime.store.workspace import Workspace
from tests.store.conftest import add_department

ROOT = Path(__file__).resolve().parents[2]
REPAIR = str(ROOT / "sample_apps" / "equipment_repair")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def installed(db_url, capsys):
    assert run(capsys, "upgrade", REPAIR, "--db", db_url)[0] == 0
    _department(db_url)
    with open_workspace(db_url) as workspace:
        app = workspace.app("equipment_repair")
        for number in range(1, 4):
            app.create(
                "device",
                {
                    "asset_no": f"EQ-000{number}",
                    "name": f"输液泵 {number}",
                    "purchased": dt.date(2024, 1, number),
                    "price": f"{number}00.50",
                    "in_service": number != 2,
                    "owner_dept": 1,
                },
            )
    return db_url


def _department(url: str) -> None:
    workspace = Workspace.open(url)
    add_department(workspace, "设备科", "eq")
    workspace.dispose()


def test_export_where_columns_and_import_into_a_new_workspace(installed, capsys, tmp_path):
    out = tmp_path / "devices.xlsx"
    code, stdout, err = run(
        capsys,
        "export",
        REPAIR,
        "--db",
        installed,
        "--form",
        "device",
        "-o",
        str(out),
        "--where",
        "AND(in_service, price >= 200)",
        "--columns",
        "asset_no,name,price",
    )
    assert (code, err) == (0, "")
    assert stdout.strip() == f"exported 1 records to {out}"
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[1][1:] == ("EQ-0003", "输液泵 3", 300.5)

    csv_out = tmp_path / "all.csv"
    assert (
        run(capsys, "export", REPAIR, "--db", installed, "--form", "device", "-o", str(csv_out))[0]
        == 0
    )
    target = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    assert run(capsys, "upgrade", REPAIR, "--db", target)[0] == 0
    _department(target)
    code, stdout, _ = run(
        capsys, "import", REPAIR, "--db", target, "--form", "device", str(csv_out), "--dry-run"
    )
    assert code == 0 and "3 of 3 rows are valid; nothing was written" in stdout
    code, stdout, _ = run(
        capsys, "import", REPAIR, "--db", target, "--form", "device", str(csv_out)
    )
    assert code == 0 and stdout.startswith("imported 3 new and 0 updated records")
    argv = ["import", REPAIR, "--db", target, "--form", "device", str(csv_out)]
    code, _stdout, err = run(capsys, *argv, "--errors")
    assert code == 1 and "already imported" in err and "--allow-duplicates" in err
    code, _stdout, err = run(capsys, *argv, "--errors", "--allow-duplicates")
    assert code == 1
    lines = err.strip().splitlines()
    assert (
        lines[0] == "all: row 2, column B (资产编号): 'EQ-0001' is already used by another record"
    )
    assert lines[-1].startswith("formwright: 3 problems in")
    assert (tmp_path / "all.errors.xlsx").exists()


def test_where_errors_are_one_line(installed, capsys, tmp_path):
    for expression, message in [
        ("price + 1 > 2", "--where supports only simple conditions"),
        ("nothing = 1", "--where: no field 'nothing' you may filter on"),
        ('price = "abc"', "--where: price: please enter a number"),
        ("AND(", "--where:"),
    ]:
        code, _out, err = run(
            capsys,
            "export",
            REPAIR,
            "--db",
            installed,
            "--form",
            "device",
            "-o",
            str(tmp_path / "x.xlsx"),
            "--where",
            expression,
        )
        assert code == 1 and err.startswith(message) and err.count("\n") == 1, err
    assert not (tmp_path / "x.xlsx").exists()


def test_unknown_form_and_not_installed(installed, capsys, tmp_path):
    code, _out, err = run(
        capsys,
        "export",
        REPAIR,
        "--db",
        installed,
        "--form",
        "nope",
        "-o",
        str(tmp_path / "x.xlsx"),
    )
    assert code == 1 and "has no form 'nope'" in err
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    code, _out, err = run(
        capsys, "export", REPAIR, "--db", empty, "--form", "device", "-o", str(tmp_path / "x.xlsx")
    )
    assert code == 1 and "is not installed" in err


def test_template(capsys, tmp_path):
    out = tmp_path / "t.xlsx"
    code, stdout, _ = run(capsys, "template", REPAIR, "--form", "request", "-o", str(out))
    assert code == 0 and stdout.strip() == f"template written to {out}"
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[-1] == "Help"
    data = book.worksheets[0]
    header = [cell.value for cell in data[1]]
    assert header[0] == "Record ID" and "紧急程度" in header
    validations = data.data_validations.dataValidation
    assert any(v.formula1 == '"一般,紧急,危急（影响抢救）"' for v in validations)


def test_user_needs_a_password(installed, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("FORMWRIGHT_PASSWORD", raising=False)
    code, _out, err = run(
        capsys,
        "export",
        REPAIR,
        "--db",
        installed,
        "--form",
        "device",
        "-o",
        str(tmp_path / "x.xlsx"),
        "--user",
        "li",
    )
    assert code == 1 and "FORMWRIGHT_PASSWORD" in err


def test_user_exports_only_fields_they_see(installed, capsys, tmp_path, monkeypatch):
    from runtime.services.accounts.service import AccountService

    workspace = Workspace.open(installed)
    AccountService(workspace).create_user("admin", "Admin", password="a long pass 1", is_admin=True)
    workspace.dispose()
    monkeypatch.setenv("FORMWRIGHT_PASSWORD", "a long pass 1")
    out = tmp_path / "admin.xlsx"
    code, _out, err = run(
        capsys,
        "export",
        REPAIR,
        "--db",
        installed,
        "--form",
        "device",
        "-o",
        str(out),
        "--user",
        "admin",
    )
    assert (code, err) == (0, "")
    monkeypatch.setenv("FORMWRIGHT_PASSWORD", "wrong password")
    code, _out, err = run(
        capsys,
        "export",
        REPAIR,
        "--db",
        installed,
        "--form",
        "device",
        "-o",
        str(out),
        "--user",
        "admin",
    )
    assert code == 1 and err.startswith("formwright:") and err.count("\n") == 1


def test_cli_export_is_audited_and_cannot_probe_a_hidden_formula(
    db_url, capsys, tmp_path, monkeypatch
):
    """Issue #11 §3 with the repro package: ``--where 'bonus > 800'`` is refused
    (bonus is computed from the hidden salary), and an export writes an audit row
    naming the user, form, filter, columns, row count and file."""
    import json

    import sqlalchemy as sa

    from runtime.store.schema import audit_table
    from tests.services.leak_world import PASSWORD, build_leak_world, leak_app

    world = build_leak_world(db_url)
    world.workspace.dispose()
    package = tmp_path / "leak"
    package.mkdir()
    (package / "app.json").write_text(json.dumps(leak_app()), encoding="utf-8")
    monkeypatch.setenv("FORMWRIGHT_PASSWORD", PASSWORD)
    base = ["export", str(package), "--db", db_url, "--form", "staff", "--user", "alice"]
    code, _out, err = run(
        capsys, *base, "-o", str(tmp_path / "probe.csv"), "--where", "bonus > 800"
    )
    assert code != 0 and "bonus" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "probe.csv").exists()
    target = tmp_path / "mine.csv"
    code, _out, err = run(capsys, *base, "-o", str(target), "--where", 'name = "Alice"')
    assert code == 0, err
    workspace = Workspace.open(db_url)
    try:
        with workspace.reader() as connection:
            rows = (
                connection.execute(sa.select(audit_table).where(audit_table.c.action == "export"))
                .mappings()
                .all()
            )
    finally:
        workspace.dispose()
    assert len(rows) == 1
    details = json.loads(rows[0]["details"])
    assert rows[0]["username"] == "alice" and rows[0]["form"] == "staff"
    assert details["file"] == str(target) and details["rows"] == 1
    assert details["columns"] == ["name", "code"]
    assert details["filter"] == {"field": "name", "op": "eq", "value": "Alice"}
