"""The organisation on both engines: the department tree, heads, memberships and
the Excel import (validate every row, then write all or nothing)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from openpyxl import Workbook

from runtime.services.accounts.service import AccountError, AccountService, LoginFailed
from runtime.services.actor import Actor
from runtime.services.org.service import (
    Department,
    OrgDirectory,
    OrgError,
    OrgImportError,
    OrgService,
)
from runtime.spec import parse_app_spec
from runtime.store.schema import audit_table, departments_table, users_table

FAST = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@pytest.fixture
def accounts(workspace):
    return AccountService(workspace, hasher=FAST)


@pytest.fixture
def admin(accounts) -> Actor:
    accounts.create_user("admin", "Admin", password="admin pass 1", is_admin=True)
    return accounts.login("admin", "admin pass 1").actor()


@pytest.fixture
def org(workspace):
    return OrgService(workspace)


def build_tree(org: OrgService, admin: Actor) -> dict[str, int]:
    org.add_department("H", "人民医院", kind="医院", actor=admin)
    org.add_department("SURG", "外科", parent="H", kind="division", actor=admin)
    org.add_department("GS", "普外科", parent="SURG", kind="科室", actor=admin)
    org.add_department("GS-W1", "普外一病区", parent="GS", kind="病区", actor=admin)
    org.add_department("GS-W2", "普外二病区", parent="GS", kind="ward", actor=admin)
    org.add_department("MED", "内科", parent="H", actor=admin)
    directory = org.directory()
    return {d.code: d.id for d in directory}


def test_tree_and_descendants(org, admin):
    ids = build_tree(org, admin)
    directory = org.directory()
    assert len(directory) == 6
    assert [d.code for d in directory.roots()] == ["H"]
    assert sorted(d.code for d in directory.children(ids["H"])) == ["MED", "SURG"]
    assert directory.descendants([ids["SURG"]]) == {
        ids["SURG"],
        ids["GS"],
        ids["GS-W1"],
        ids["GS-W2"],
    }
    assert directory.descendants([ids["SURG"]], include_self=False) == {
        ids["GS"],
        ids["GS-W1"],
        ids["GS-W2"],
    }
    assert directory.descendants([ids["GS-W1"], ids["MED"]]) == {ids["GS-W1"], ids["MED"]}
    assert directory.descendants([]) == set()
    assert directory.descendants([9999]) == set()
    assert [d.code for d in directory.ancestors(ids["GS-W1"])] == ["GS", "SURG", "H"]
    assert directory.path(ids["GS-W1"]) == "人民医院 / 外科 / 普外科 / 普外一病区"
    assert directory.get(ids["H"]).kind == "hospital"
    assert directory.get(ids["GS-W1"]).kind == "ward"
    assert directory.by_code("gs-w1").id == ids["GS-W1"]
    with pytest.raises(OrgError, match="already exists"):
        org.add_department("gs", "again", actor=admin)
    with pytest.raises(OrgError, match="no department with the code 'NOPE'"):
        org.add_department("X", "x", parent="NOPE", actor=admin)
    with pytest.raises(OrgError, match="not a level"):
        org.add_department("X", "x", kind="floor", actor=admin)
    with pytest.raises(AccountError, match="only an administrator"):
        org.add_department("X", "x", actor=Actor(user_id=5, username="li"))


def test_moves_refuse_cycles(org, admin):
    ids = build_tree(org, admin)
    with pytest.raises(OrgError, match="cannot be moved under itself"):
        org.update_department("SURG", parent="GS-W1", actor=admin)
    with pytest.raises(OrgError, match="cannot be moved under itself"):
        org.update_department("SURG", parent="SURG", actor=admin)
    moved = org.update_department("GS-W2", parent="MED", name="内科病区", actor=admin)
    assert moved.parent_id == ids["MED"] and moved.name == "内科病区"
    root = org.update_department("MED", parent=None, actor=admin)
    assert root.parent_id is None
    assert sorted(d.code for d in org.directory().roots()) == ["H", "MED"]
    # A cycle that got into the data anyway does not hang the directory.
    cyclic = OrgDirectory([Department(1, "A", "A", 2, None), Department(2, "B", "B", 1, None)])
    assert cyclic.descendants([1]) == {1, 2}
    assert [d.id for d in cyclic.ancestors(1)] == [2]


def test_heads_and_memberships(org, admin, accounts):
    ids = build_tree(org, admin)
    accounts.create_user("zhang", "张主任", password="zhang pass 1", actor=admin)
    accounts.create_user("li", "李护士", password="li pass 12", actor=admin)
    org.set_head("GS", "ZHANG", actor=admin)
    org.set_head("SURG", "zhang", actor=admin)
    directory = org.directory()
    zhang = accounts.get_user("zhang").id
    assert directory.head_of(ids["GS"]) == zhang
    assert directory.head_of(ids["GS-W1"]) is None
    assert directory.head_of(ids["GS-W1"], inherited=True) == zhang
    assert directory.head_of(ids["MED"], inherited=True) is None
    assert sorted(d.code for d in directory.headed_by(zhang)) == ["GS", "SURG"]
    org.set_head("SURG", None, actor=admin)
    assert org.directory().head_of(ids["SURG"]) is None
    with pytest.raises(OrgError, match="no user named 'ghost'"):
        org.set_head("GS", "ghost", actor=admin)

    org.set_user_departments("li", ["GS-W1", "GS-W2"], primary="GS-W2", actor=admin)
    assert [d.code for d in org.user_departments("li")] == ["GS-W2", "GS-W1"]
    assert org.members("GS-W2") == [(accounts.get_user("li").id, "li", True)]
    session = accounts.login("li", "li pass 12")
    assert session.primary_department == ids["GS-W2"]
    assert session.department_tree_ids == {ids["GS-W1"], ids["GS-W2"]}
    with pytest.raises(OrgError, match="not among the departments"):
        org.set_user_departments("li", ["GS-W1"], primary="MED", actor=admin)
    org.set_user_departments("li", ["GS"], actor=admin)
    session = accounts.login("li", "li pass 12")
    assert session.department_ids == {ids["GS"]}
    assert session.department_tree_ids == {ids["GS"], ids["GS-W1"], ids["GS-W2"]}


# -- Excel import ------------------------------------------------------------------
def write_workbook(path, departments=None, users=None, extra_sheets=()):
    workbook = Workbook()
    workbook.remove(workbook.active)
    if departments is not None:
        sheet = workbook.create_sheet("科室")
        for row in departments:
            sheet.append(row)
    if users is not None:
        sheet = workbook.create_sheet("人员")
        for row in users:
            sheet.append(row)
    for title, rows in extra_sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


DEPARTMENTS = [
    ["编码/code", "名称/name", "上级编码/parent_code", "负责人/head", "类型"],
    # Children before parents: the order of rows does not matter.
    ["GS-W1", "普外一病区", "GS", "", "病区"],
    ["GS", "普外科", "SURG", "wangli", "科室"],
    ["SURG", "外科", "H", "", "大科"],
    ["H", "人民医院", None, "admin", "医院"],
    [1001, "药剂科", "H", None, None],  # a numeric code
]
USERS = [
    ["用户名", "姓名", "科室编码", "角色"],
    ["wangli", "王丽", "GS、GS-W1", "repairs:clerk"],
    ["ZhaoMin", "赵敏", "GS-W1,1001", "repairs:clerk, repairs:engineer"],
    ["chen", "陈晨", "", ""],
]


def install_repairs(workspace):
    workspace.install(
        parse_app_spec(
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
                "roles": [
                    {"key": "clerk", "title": "Clerk", "grants": {}},
                    {"key": "engineer", "title": "Engineer", "grants": {}},
                ],
            }
        )
    )


def snapshot(workspace):
    with workspace.engine.connect() as connection:
        return (
            connection.execute(sa.select(sa.func.count()).select_from(departments_table)).scalar(),
            connection.execute(sa.select(sa.func.count()).select_from(users_table)).scalar(),
        )


def test_import_departments_and_users(tmp_path, workspace, org, admin, accounts):
    install_repairs(workspace)
    path = write_workbook(tmp_path / "org.xlsx", DEPARTMENTS, USERS)
    dry = org.import_xlsx(path, actor=admin, dry_run=True)
    assert (dry.departments_created, dry.users_created) == (5, 3)
    assert snapshot(workspace) == (0, 1)  # the dry run wrote nothing

    result = org.import_xlsx(path, actor=admin)
    assert (result.departments_created, result.departments_updated) == (5, 0)
    assert (result.users_created, result.users_updated) == (3, 0)
    assert result.users_without_password == ["wangli", "ZhaoMin", "chen"]
    text = "\n".join(result.lines())
    assert "no password" in text and "formwright user passwd" in text

    directory = org.directory()
    gs = directory.by_code("GS")
    assert directory.path(directory.by_code("GS-W1").id) == "人民医院 / 外科 / 普外科 / 普外一病区"
    assert directory.get(directory.by_code("1001").parent_id).code == "H"
    assert gs.kind == "department"
    assert gs.head_user_id == accounts.get_user("wangli").id
    assert directory.by_code("H").head_user_id == admin.user_id
    assert [d.code for d in org.user_departments("zhaomin")] == ["GS-W1", "1001"]
    assert [d.code for d in org.user_departments("wangli")] == ["GS", "GS-W1"]
    assert org.user_departments("chen") == []
    assert accounts.roles_of("zhaomin") == {"repairs": {"clerk", "engineer"}}
    # Imported users have no password until an administrator sets one.
    assert not accounts.get_user("chen").has_password
    with pytest.raises(LoginFailed):
        accounts.login("chen", "")
    accounts.set_password("chen", "chen pass 12", actor=admin)
    assert accounts.login("chen", "chen pass 12").display_name == "陈晨"
    with workspace.engine.connect() as connection:
        actions = [
            row.action
            for row in connection.execute(sa.select(audit_table.c.action, audit_table.c.details))
        ]
        summary = connection.execute(
            sa.select(audit_table.c.details).where(audit_table.c.action == "import")
        ).scalar_one()
    assert actions.count("department_created") == 5
    assert actions.count("user_created") == 4  # admin + 3 imported
    assert json.loads(summary)["users_created"] == 3

    # Importing again updates in place (same codes and user names).
    changed = [row[:] for row in DEPARTMENTS]
    changed[5] = [1001, "药学部", "", "", ""]
    again = org.import_xlsx(write_workbook(tmp_path / "again.xlsx", changed, USERS), actor=admin)
    assert (again.departments_created, again.departments_updated) == (0, 5)
    assert (again.users_created, again.users_updated) == (0, 3)
    assert again.users_without_password == []
    pharmacy = org.directory().by_code("1001")
    assert pharmacy.name == "药学部" and pharmacy.parent_id is None
    assert accounts.login("chen", "chen pass 12")  # the password was kept


def test_import_reports_every_problem_and_writes_nothing(tmp_path, workspace, org, admin):
    install_repairs(workspace)
    departments = [
        ["编码", "名称", "上级编码", "负责人"],
        ["A", "科室A", "B", ""],  # 2: A → B → C → A: a cycle
        ["B", "科室B", "C", ""],  # 3
        ["C", "科室C", "A", ""],  # 4
        ["D", "", "NOPE", "ghost"],  # 5: no name, unknown parent, unknown head
        ["A", "又一个A", "", ""],  # 6: duplicate code
        ["E", "科室E", "E", ""],  # 7: its own parent
        ["OK", "好科室", "", ""],  # 8: fine
    ]
    users = [
        ["username", "display_name", "department_codes", "roles"],
        ["li", "李", "OK", "repairs:boss"],  # 2: undefined role
        ["LI", "李二", "OK", ""],  # 3: duplicate (case-insensitive)
        ["wu", "", "ZZZ", "pharmacy:clerk"],  # 4: empty name, bad code, app missing
        ["zhou ping", "周", "", "repairs"],  # 5: bad user name, not app:role
        ["ok", "好人", "OK", "repairs:clerk"],  # 6: fine
    ]
    path = write_workbook(tmp_path / "bad.xlsx", departments, users)
    before = snapshot(workspace)
    with pytest.raises(OrgImportError) as caught:
        org.import_xlsx(path, actor=admin)
    assert snapshot(workspace) == before
    problems = {(p.sheet, p.row, p.column): p.message for p in caught.value.problems}
    assert "cycle: A → B → C → A" in problems[("科室", 2, "上级编码")]
    assert "cycle" in problems[("科室", 3, "上级编码")]
    assert "cycle" in problems[("科室", 4, "上级编码")]
    assert problems[("科室", 5, "名称")] == "the name is empty"
    # Row 5 was invalid, so its parent and head are not checked further.
    assert "appears again (first in row 2)" in problems[("科室", 6, "编码")]
    assert problems[("科室", 7, "上级编码")] == "a department cannot be its own parent"
    assert "defines no role 'boss'" in problems[("人员", 2, "roles")]
    assert "appears again (first in row 2)" in problems[("人员", 3, "username")]
    assert problems[("人员", 4, "display_name")] == "the name is empty"
    assert "'ZZZ'" in problems[("人员", 4, "department_codes")]
    assert "not installed" in problems[("人员", 4, "roles")]
    assert "spaces" in problems[("人员", 5, "username")]
    assert "not app:role" in problems[("人员", 5, "roles")]
    assert not any(row in (8,) for _sheet, row, _column in problems if _sheet == "科室")
    assert "nothing was imported" in caught.value.message
    text = str(caught.value.problems[0])
    assert text.startswith("sheet '") and "row" in text and "column" in text
    # A dry run reports the same.
    with pytest.raises(OrgImportError):
        org.import_xlsx(path, actor=admin, dry_run=True)


def test_import_checks_references_to_unknown_parents_and_heads(tmp_path, org, admin):
    departments = [
        ["code", "name", "parent_code", "head"],
        ["D", "D", "NOPE", "ghost"],
    ]
    with pytest.raises(OrgImportError) as caught:
        org.import_xlsx(write_workbook(tmp_path / "d.xlsx", departments), actor=admin)
    messages = {p.column: p.message for p in caught.value.problems}
    assert "no department with the code 'NOPE'" in messages["parent_code"]
    assert "no user named 'ghost'" in messages["head"]


def test_import_refuses_a_password_column(tmp_path, org, admin, workspace):
    users = [["用户名", "姓名", "初始密码"], ["li", "李", "123456"]]
    with pytest.raises(OrgImportError) as caught:
        org.import_xlsx(write_workbook(tmp_path / "p.xlsx", users=users), actor=admin)
    (problem,) = caught.value.problems
    assert problem.column == "初始密码" and "passwords cannot be imported" in problem.message
    assert snapshot(workspace) == (0, 1)


def test_import_needs_recognisable_sheets(tmp_path, org, admin):
    path = write_workbook(tmp_path / "x.xlsx", extra_sheets=[("说明", [["请填写"], ["..."]])])
    with pytest.raises(OrgImportError, match="no sheet of departments"):
        org.import_xlsx(path, actor=admin)
    missing = write_workbook(tmp_path / "m.xlsx", users=[["用户名"], ["li"]])
    with pytest.raises(OrgImportError) as caught:
        org.import_xlsx(missing, actor=admin)
    assert caught.value.problems[0].message == "this column is missing"
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(OrgError):
        org.import_xlsx(tmp_path / "broken.xlsx", actor=admin)
    with pytest.raises(AccountError, match="only an administrator"):
        org.import_xlsx(missing, actor=Actor(user_id=9, username="li"))
