"""``formwright user …`` and ``formwright org import``: first run, passwords from the
environment only, one-line errors."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from openpyxl import Workbook

from runtime.cli import main
from runtime.services.accounts.service import AccountLocked, AccountService, LoginFailed
from runtime.store.workspace import Workspace


@pytest.fixture
def run(db_url, capsys, monkeypatch):
    """Run ``formwright ARGS --db URL``; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("FORMWRIGHT_PASSWORD", "first pass 1")

    def invoke(*args: str, password: str | None = None):
        if password is not None:
            monkeypatch.setenv("FORMWRIGHT_PASSWORD", password)
        code = main([*args, "--db", db_url])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def accounts(db_url):
    workspace = Workspace.open(db_url)
    yield AccountService(workspace, hasher=PasswordHasher(time_cost=2, memory_cost=19456))
    workspace.dispose()


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_first_run_creates_the_administrator(run, accounts):
    code, out, err = run("user", "list")
    assert code == 0 and "no users yet" in out and "user add NAME --admin" in out
    code, out, err = run("user", "add", "nurse1")
    assert code == 1
    assert "create the administrator first" in one_line(err)
    assert accounts.list_users() == []
    code, out, err = run("user", "add", "root", "--admin", "--display-name", "系统管理员")
    assert code == 0, err
    assert "created administrator root (系统管理员)" in out
    assert accounts.login("root", "first pass 1").is_admin
    code, out, err = run(
        "user", "add", "nurse1", "--display-name", "护士一", password="nurse pass 1"
    )
    assert code == 0, err
    assert accounts.login("nurse1", "nurse pass 1").display_name == "护士一"
    code, out, err = run("user", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("nurse1  护士一") and lines[1].startswith(
        "root  系统管理员  [admin]"
    )


def test_password_is_never_an_argument(run, accounts):
    for args in (
        ("user", "add", "root", "--admin", "--password", "first pass 1"),
        ("user", "add", "root", "--admin", "--password=first pass 1"),
        ("user", "passwd", "root", "--password", "x"),
    ):
        code, _out, err = run(*args)
        assert code == 2
        assert "passwords are never taken as arguments" in one_line(err)
        assert "FORMWRIGHT_PASSWORD" in err
    code, _out, err = run("user", "add", "root", "--admin", "secret password")
    assert code == 2 and "unrecognized arguments" in one_line(err)
    assert accounts.list_users() == []


def test_without_environment_and_terminal_the_password_is_refused(run, monkeypatch, accounts):
    monkeypatch.delenv("FORMWRIGHT_PASSWORD")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    code, _out, err = run("user", "add", "root", "--admin")
    assert code == 1 and "set FORMWRIGHT_PASSWORD" in one_line(err)


def test_interactive_prompt_asks_twice(run, monkeypatch, accounts):
    monkeypatch.delenv("FORMWRIGHT_PASSWORD")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    answers = iter(["typed pass 1", "typed pass 2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _out, err = run("user", "add", "root", "--admin")
    assert code == 1 and "the two passwords differ" in one_line(err)
    answers = iter(["typed pass 1", "typed pass 1"])
    code, _out, err = run("user", "add", "root", "--admin")
    assert code == 0, err
    assert accounts.login("root", "typed pass 1")


def test_policy_errors_are_one_line(run):
    code, _out, err = run("user", "add", "root", "--admin", password="short")
    assert code == 1 and "at least 8 characters" in one_line(err)
    code, _out, err = run("user", "add", "administrator", "--admin", password="ADMINISTRATOR")
    assert code == 1 and "must not be the user name" in one_line(err)
    code, _out, err = run("user", "add", "root", "--admin", password="xxxxxxxxxx")
    assert code == 1 and "one character repeated" in one_line(err)


def test_passwd_disable_unlock_and_roles(run, accounts, db_url):
    assert run("user", "add", "root", "--admin")[0] == 0
    assert run("user", "add", "li", password="li pass 123")[0] == 0
    code, out, err = run("user", "passwd", "LI", password="li new pass 9")
    assert code == 0 and "password of li set" in out
    accounts.login("li", "li new pass 9")
    code, out, err = run("user", "passwd", "ghost")
    assert code == 1 and "no user named 'ghost'" in one_line(err)

    for _ in range(5):
        with pytest.raises(LoginFailed):
            accounts.login("li", "wrong password")
    with pytest.raises(AccountLocked):
        accounts.login("li", "li new pass 9")
    code, out, err = run("user", "list")
    assert "locked until" in out
    code, out, err = run("user", "unlock", "li")
    assert code == 0 and "li unlocked" in out
    accounts.login("li", "li new pass 9")
    code, out, err = run("user", "unlock", "li")
    assert code == 0 and "was not locked" in out

    code, out, err = run("user", "disable", "li")
    assert code == 0 and "can no longer log in" in out
    with pytest.raises(LoginFailed, match="disabled"):
        accounts.login("li", "li new pass 9")
    code, out, err = run("user", "list")
    assert "[disabled]" in out
    assert run("user", "enable", "li")[0] == 0
    code, out, err = run("user", "disable", "root")
    assert code == 1 and "at least one active administrator" in one_line(err)

    code, out, err = run("user", "roles", "li", "--app", "repairs", "--add", "clerk")
    assert code == 1 and "not installed" in one_line(err)
    accounts.workspace.install(_repairs_spec())
    code, out, err = run("user", "roles", "li", "--app", "repairs", "--add", "clerk")
    assert code == 0 and "now has the role repairs:clerk" in out
    code, out, err = run("user", "roles", "li", "--app", "repairs", "--add", "boss")
    assert code == 1 and "defines no role 'boss'" in one_line(err)
    code, out, err = run("user", "roles", "li")
    assert out.split() == ["repairs:clerk"]
    code, out, err = run("user", "roles", "li", "--add", "clerk")
    assert code == 2 and "need --app" in one_line(err)
    code, out, err = run("user", "roles", "li", "--app", "repairs", "--remove", "clerk")
    assert code == 0 and "no longer has" in out
    assert accounts.roles_of("li") == {}


def _repairs_spec():
    from runtime.spec import parse_app_spec

    return parse_app_spec(
        {
            "format": "formwright-app",
            "spec_version": 1,
            "id": "repairs",
            "version": 1,
            "title": "Repairs",
            "forms": [
                {
                    "key": "request",
                    "title": "Request",
                    "fields": [{"key": "fault", "type": "text", "label": "Fault"}],
                }
            ],
            "roles": [{"key": "clerk", "title": "Clerk", "grants": {}}],
        }
    )


def workbook(path, departments, users):
    book = Workbook()
    book.active.title = "departments"
    for row in departments:
        book.active.append(row)
    sheet = book.create_sheet("users")
    for row in users:
        sheet.append(row)
    book.save(path)
    return str(path)


def test_org_import(run, accounts, tmp_path):
    assert run("user", "add", "root", "--admin")[0] == 0
    good = workbook(
        tmp_path / "org.xlsx",
        [
            ["编码", "名称", "上级编码", "负责人"],
            ["H", "医院", "", "root"],
            ["W1", "一病区", "H", ""],
        ],
        [["用户名", "姓名", "科室编码"], ["li", "李", "W1"]],
    )
    code, out, err = run("org", "import", good, "--dry-run")
    assert code == 0, err
    assert "would import 2 new" in out and "dry run: nothing was changed" in out
    assert [u.username for u in accounts.list_users()] == ["root"]
    code, out, err = run("org", "import", good)
    assert code == 0, err
    assert "imported 2 new and 0 updated departments, 1 new and 0 updated users" in out
    assert "no password" in out and "formwright user passwd" in out
    code, out, err = run("org", "list")
    assert out.splitlines() == ["H  医院  head root", "  W1  一病区"]
    code, out, err = run("user", "list")
    assert "li  李  departments W1  [no password]" in out

    bad = workbook(
        tmp_path / "bad.xlsx",
        [["编码", "名称", "上级编码"], ["A", "甲", "B"], ["B", "乙", "A"]],
        [["用户名", "姓名", "科室编码"], ["wu", "", "ZZ"]],
    )
    code, out, err = run("org", "import", bad)
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[-1] == "formwright: 4 problems found; nothing was imported"
    assert any("row 2, column 上级编码: the parent codes form a cycle" in line for line in lines)
    assert any("sheet 'users', row 2, column 科室编码" in line for line in lines)
    code, out, err = run("org", "import", str(tmp_path / "missing.xlsx"))
    assert code == 1 and "does not exist" in one_line(err)
