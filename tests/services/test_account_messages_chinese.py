"""The account, organisation and audit services speak the UI's language: a login
refused, a password the policy rejects, an administrator-only change, a department
that cannot be added, a workbook's row problems and a broken audit chain come out in
Chinese when the messages are Chinese, and in the unchanged English otherwise."""

from __future__ import annotations

from datetime import datetime

import pytest
from argon2 import PasswordHasher
from openpyxl import Workbook

from resources.messages import use_language
from runtime.services.accounts.service import (
    AccountError,
    AccountLocked,
    AccountService,
    LoginFailed,
    PasswordPolicyError,
    username_problem,
)
from runtime.services.actor import Actor
from runtime.services.audit_log import AuditLog
from runtime.services.errors import PermissionDenied
from runtime.services.org.service import OrgError, OrgImportError, OrgService
from runtime.store.audit import AuditEntry, append
from runtime.store.schema import audit_table

FAST = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
NURSE = Actor(user_id=99, username="zhang.wei", display_name="Zhang Wei")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 8, 0, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def accounts(workspace) -> AccountService:
    return AccountService(workspace, clock=Clock(), hasher=FAST)


@pytest.fixture
def admin(accounts) -> Actor:
    accounts.create_user("admin", "Admin", password="admin pass 1", is_admin=True)
    return accounts.login("admin", "admin pass 1").actor()


@pytest.fixture
def org(workspace) -> OrgService:
    return OrgService(workspace)


def message(call) -> str:
    """The message of the AccountError (or PermissionDenied) ``call`` raises."""
    with pytest.raises((AccountError, PermissionDenied)) as caught:
        call()
    return caught.value.message


def test_login_refusals(accounts, admin):
    accounts.update_settings(actor=admin, lockout_threshold=3)
    accounts.create_user("li", "Li", password="li pass 123", actor=admin)

    with pytest.raises(LoginFailed) as wrong:
        accounts.login("li", "not it")
    assert wrong.value.message == "wrong user name or password"

    use_language("zh_CN")
    with pytest.raises(LoginFailed) as wrong:
        accounts.login("li", "still not it")
    assert wrong.value.message == "用户名或密码错误"
    with pytest.raises(AccountLocked) as locked:
        accounts.login("li", "the third wrong one")
    assert locked.value.message.startswith("账号“li”因登录失败次数过多已被锁定至 ")
    assert "请管理员解锁" in locked.value.message

    use_language("en")
    with pytest.raises(AccountLocked) as locked:
        accounts.login("li", "li pass 123")
    assert locked.value.message.startswith(
        "the account 'li' is locked after too many failed logins until "
    )
    accounts.unlock("li", actor=admin)
    accounts.disable_user("li", actor=admin)
    assert message(lambda: accounts.login("li", "li pass 123")) == (
        "the account 'li' is disabled; ask an administrator"
    )
    use_language("zh_CN")
    assert message(lambda: accounts.login("li", "li pass 123")) == "账号“li”已停用；请联系管理员"


def test_password_policy_and_user_names(accounts, admin):
    def weak():
        return accounts.create_user("wang", password="aaaa", actor=admin)

    with pytest.raises(PasswordPolicyError) as english:
        weak()
    assert english.value.problems == [
        "the password must be at least 8 characters long",
        "the password must not be one character repeated",
    ]
    assert username_problem("wang li") == (
        "the user name must not contain spaces or control characters"
    )

    use_language("zh_CN")
    with pytest.raises(PasswordPolicyError) as chinese:
        weak()
    assert chinese.value.problems == ["密码至少需要 8 个字符", "密码不能是同一个字符的重复"]
    assert accounts.password_problems("wang", "wang") == [
        "密码至少需要 8 个字符",
        "密码不能与用户名相同",
    ]
    assert username_problem("wang li") == "用户名不能包含空格或控制字符"
    assert username_problem("") == "用户名为空"


def test_administrator_only_and_user_admin_errors(accounts, admin, org):
    nurse = accounts.create_user("nurse", password="nurse pass 1", actor=admin)
    actor = Actor(user_id=nurse.id, username="nurse", display_name="nurse")

    assert message(lambda: accounts.create_user("x", actor=actor)) == (
        "only an administrator may create users"
    )
    assert message(lambda: org.add_department("H", "医院", actor=actor)) == (
        "only an administrator may change departments"
    )
    assert message(lambda: accounts.disable_user("admin", actor=admin)) == (
        "you cannot disable your own account"
    )

    use_language("zh_CN")
    assert message(lambda: accounts.create_user("x", actor=actor)) == "只有管理员可以创建用户"
    assert message(lambda: org.add_department("H", "医院", actor=actor)) == (
        "只有管理员可以修改部门"
    )
    assert message(lambda: accounts.disable_user("admin", actor=admin)) == "不能停用自己的账号"
    assert message(lambda: accounts.create_user("NURSE", actor=admin)) == (
        "名为“NURSE”的用户已存在"
    )
    assert message(lambda: accounts.get_user("nobody")) == "没有名为“nobody”的用户"
    assert message(lambda: accounts.assign_role("nurse", "repair", "engineer", actor=admin)) == (
        "此工作区未安装应用“repair”"
    )


def test_department_errors(org, admin):
    org.add_department("H", "人民医院", actor=admin)
    with pytest.raises(OrgError) as english:
        org.add_department("W1", "病区", parent="H", kind="floor", actor=admin)
    assert english.value.message == (
        "'floor' is not a level; use hospital, division, department or ward"
    )

    use_language("zh_CN")
    with pytest.raises(OrgError) as chinese:
        org.add_department("W1", "病区", parent="H", kind="floor", actor=admin)
    assert chinese.value.message.startswith("“floor”不是有效的层级；")
    assert message(lambda: org.add_department("h", "again", actor=admin)) == (
        "编码为“h”的部门已存在"
    )
    assert message(lambda: org.update_department("H", parent="H", actor=admin)) == (
        "“H”就是“H”本身或其下级；部门不能移到自己下面"
    )
    assert message(lambda: org.add_department("W1", "病区", parent="NOPE", actor=admin)) == (
        "没有编码为“NOPE”的部门"
    )


def write_workbook(path) -> str:
    workbook = Workbook()
    workbook.remove(workbook.active)
    sheet = workbook.create_sheet("科室")
    for row in [
        ["编码/code", "名称/name", "上级编码/parent_code"],
        ["A", "甲", "A"],
        ["B", None, None],
    ]:
        sheet.append(row)
    workbook.save(path)
    return str(path)


def import_refusal(org, path: str, admin) -> tuple[list[str], str]:
    """The row problems and the message of an import the workbook makes fail."""
    with pytest.raises(OrgImportError) as refused:
        org.import_xlsx(path, actor=admin)
    return [str(problem) for problem in refused.value.problems], refused.value.message


def test_workbook_row_problems(org, admin, tmp_path):
    path = write_workbook(tmp_path / "org.xlsx")
    assert import_refusal(org, path, admin) == (
        [
            "sheet '科室', row 3, column 名称/name: the name is empty",
            "sheet '科室', row 2, column 上级编码/parent_code: a department cannot be its own parent",
        ],
        "2 problems in the workbook; nothing was imported "
        "(first: sheet '科室', row 3, column 名称/name: the name is empty)",
    )
    use_language("zh_CN")
    assert import_refusal(org, path, admin) == (
        [
            "工作表“科室”第 3 行“名称/name”列：名称为空",
            "工作表“科室”第 2 行“上级编码/parent_code”列：部门不能是自己的上级",
        ],
        "工作簿中有 2 个问题；未导入任何内容（第一个：工作表“科室”第 3 行“名称/name”列：名称为空）",
    )


def test_import_summary(org, admin, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["用户名", "姓名"])
    sheet.append(["li", "李"])
    workbook.save(tmp_path / "users.xlsx")

    result = org.import_xlsx(tmp_path / "users.xlsx", actor=admin, dry_run=True)
    assert result.lines()[0] == (
        "would import 0 new and 0 updated departments, 1 new and 0 updated users"
    )
    assert result.lines()[-1] == "dry run: nothing was changed"
    use_language("zh_CN")
    assert result.lines() == [
        "将导入部门：新增 0 个、更新 0 个；用户：新增 1 个、更新 0 个",
        "1 个新用户没有密码，在管理员设置密码（formwright user passwd NAME）之前无法登录：li",
        "试运行：未做任何更改",
    ]


def test_audit_log_refusal_and_broken_chain(workspace):
    with workspace.engine.begin() as connection:
        ids = [
            append(connection, AuditEntry("login", 1, "admin"), at=datetime(2024, 5, 1, 8, 0)),
            append(connection, AuditEntry("export", 1, "admin"), at=datetime(2024, 5, 1, 9, 0)),
        ]
        connection.execute(
            audit_table.update().where(audit_table.c.id == ids[1]).values(username="mallory")
        )
    administrator = Actor(user_id=1, username="admin", display_name="Admin", is_admin=True)
    log = AuditLog(workspace, administrator)

    assert log.verify().reason == "its content was changed"
    assert message(lambda: AuditLog(workspace, NURSE).verify()) == (
        "only an administrator may read the audit log"
    )
    use_language("zh_CN")
    report = log.verify()
    assert (report.ok, report.broken_id, report.reason) == (False, ids[1], "其内容被修改过")
    assert message(lambda: AuditLog(workspace, NURSE).verify()) == "只有管理员可以查看审计日志"
