"""Excel, store and package messages follow the UI language (``resources.messages``).

Each check runs the real code path twice — in Simplified Chinese, then in English —
and the English text must be exactly what it always was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import openpyxl
import pytest

from resources.messages import load_strings, use_language
from runtime.package import PackageError, read_package
from runtime.services.excel.common import (
    RECORD_ID_LABEL,
    RECORD_ID_NAMES,
    ExcelError,
    normalize_label,
)
from runtime.services.excel.filter import WhereError, filter_from_expression
from runtime.services.excel.safety import UnsafeWorkbook, check_workbook
from runtime.services.excel.template import write_template
from runtime.store.engine import WorkspaceError
from runtime.store.schema import meta_table
from runtime.store.workspace import Workspace
from tests.services.excel_support import (
    do_import,
    export,
    sample_record,
    seeded_service,
    simple_service,
)
from tests.store.test_migrations import spec_of, text

T = TypeVar("T")


def in_language(language: str, call: Callable[[], T]) -> T:
    """``call()`` with messages in ``language`` (English again afterwards)."""
    use_language(language)
    try:
        return call()
    finally:
        use_language("en")


def refusal(error: type[Exception], call: Callable[[], object]) -> str:
    with pytest.raises(error) as raised:
        call()
    return raised.value.message


# -- import problems ------------------------------------------------------------------


def _bad_file(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Code", "Name", "Age"])
    sheet.append(["A1", "王芳", 34])  # row 2: fine
    sheet.append(["A1", None, 5])  # row 3: duplicate code, name missing
    book.save(path)
    return path


def test_import_row_problems_and_error_workbook_are_chinese(tmp_path):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    source = _bad_file(tmp_path / "bad.xlsx")

    def problems(name: str):
        result = do_import(service, "patient", source, error_workbook=tmp_path / name)
        sheet = openpyxl.load_workbook(result.error_workbook).active
        return [str(error) for error in result.errors], sheet.cell(1, 4).value

    chinese, header = in_language("zh_CN", lambda: problems("zh.errors.xlsx"))
    assert chinese == [
        "Sheet：第 3 行，A 列（Code）：“A1”在第 2 行也出现了",
        "Sheet：第 3 行，B 列（Name）：为必填项",
    ]
    assert header == "错误"
    english, header = problems("en.errors.xlsx")
    assert english == [
        "Sheet: row 3, column A (Code): 'A1' is also in row 2",
        "Sheet: row 3, column B (Name): is required",
    ]
    assert header == "errors"
    assert service.count("patient") == 0


def test_a_missing_required_column_is_a_chinese_file_problem(tmp_path):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    path = tmp_path / "no_name.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Code", "Age"])
    book.active.append(["A1", 3])
    book.save(path)

    def file_problems() -> list[str]:
        return [str(error) for error in do_import(service, "patient", path).errors]

    assert in_language("zh_CN", file_problems) == ["Sheet：文件（Name）：文件中没有此必填字段的列"]
    assert file_problems() == ["Sheet: file (Name): no column for this required field"]


def test_refused_workbooks_say_why_in_chinese(tmp_path):
    old = tmp_path / "病区.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    assert in_language("zh_CN", lambda: refusal(UnsafeWorkbook, lambda: check_workbook(old))) == (
        "“病区.xls”是旧版二进制工作簿（.xls/.xlsb），请先另存为 .xlsx（Excel 工作簿）"
    )
    assert refusal(UnsafeWorkbook, lambda: check_workbook(old)) == (
        "'病区.xls' is an old binary (.xls/.xlsb) workbook; "
        "please save it as .xlsx (Excel Workbook) first"
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")

    def nothing() -> str:
        return refusal(ExcelError, lambda: do_import(service, "patient", empty))

    assert in_language("zh_CN", nothing) == "“empty.csv”中没有可导入的行"
    assert nothing() == "'empty.csv' has no rows to import"


# -- export, template, filters ---------------------------------------------------------


def test_the_record_id_header_is_translated_and_still_imports(tmp_path):
    assert RECORD_ID_LABEL in load_strings("zh_CN")
    chinese = load_strings("zh_CN")[RECORD_ID_LABEL]
    assert normalize_label(chinese) in RECORD_ID_NAMES

    service = seeded_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    service.create("every", sample_record(0))
    path = tmp_path / "every.xlsx"
    in_language("zh_CN", lambda: export(service, "every", path))
    book = openpyxl.load_workbook(path)
    assert [sheet.cell(1, 1).value for sheet in book.worksheets] == [chinese, chinese]
    # a Chinese export links its subtable rows in an English session too (the only
    # problem: the record's serial number is taken, by the record itself)
    result = do_import(service, "every", path, dry_run=True)
    assert result.columns[chinese] == "id"
    assert [error.message for error in result.errors] == [
        "'EQ-2024-0001' is already used by another record"
    ]

    english = tmp_path / "every_en.xlsx"
    export(service, "every", english)
    assert openpyxl.load_workbook(english).worksheets[0].cell(1, 1).value == "Record ID"


def test_the_template_help_sheet_is_chinese(tmp_path):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")

    def help_sheet(name: str):
        path = write_template(service.spec, "patient", tmp_path / name)
        sheet = openpyxl.load_workbook(path)["帮助" if name.startswith("zh") else "Help"]
        return [cell.value for cell in sheet[1]], sheet.cell(2, 3).value

    headers, required = in_language("zh_CN", lambda: help_sheet("zh.xlsx"))
    assert headers == ["列", "标识", "必填", "类型", "填写说明"]
    assert required == "是"
    headers, required = help_sheet("en.xlsx")
    assert headers == ["Column", "Key", "Required", "Type", "What to enter"]
    assert required == "yes"


def test_where_refusals_are_chinese_and_keep_their_prefix(tmp_path):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    fields = {spec.key: spec for spec in service.spec.form("patient").fields}

    def refused() -> str:
        return refusal(WhereError, lambda: filter_from_expression("nope = 1", fields))

    chinese = in_language("zh_CN", refused)
    assert chinese == "--where：没有您可以筛选的字段“nope”"
    assert chinese.startswith("--where")  # the CLI prints these without its own prefix
    assert refused() == "--where: no field 'nope' you may filter on"


# -- workspaces and upgrades ---------------------------------------------------------------


def test_a_newer_database_is_refused_in_chinese(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    workspace = Workspace.open(url)
    with workspace.engine.begin() as connection:
        connection.execute(
            meta_table.update().where(meta_table.c.key == "schema_version").values(value="99")
        )
    workspace.dispose()

    def opened() -> str:
        return refusal(WorkspaceError, lambda: Workspace.open(url))

    chinese = in_language("zh_CN", opened)
    assert chinese.startswith("此数据库由较新版本的 Formwright 写入（数据结构版本 99；")
    assert chinese.endswith("请更新 Formwright。")
    assert opened().startswith("this database was written by a newer Formwright (schema 99;")


def test_upgrade_plans_describe_and_block_in_chinese(tmp_path):
    from runtime.api import open_workspace

    with open_workspace(f"sqlite:///{tmp_path / 'w.sqlite'}") as handle:
        handle.upgrade(spec_of([text("name")]))
        changed = spec_of([text("name"), text("extra")])  # a change without a new version

        plan = in_language("zh_CN", lambda: handle.plan(changed))
        assert [step.description for step in plan.steps] == ["main：添加字段“Extra”"]
        assert plan.blockers == ["应用包修改了应用，但版本号仍为 1；请用更高的版本号发布"]
        assert in_language("zh_CN", plan.describe)[0] == "mig：版本 1 → 版本 1"

        plan = handle.plan(changed)
        assert [step.description for step in plan.steps] == ["main: add field 'Extra'"]
        assert plan.blockers == [
            "the package changes the app but keeps version 1; publish it "
            "with a higher version number"
        ]
        assert plan.describe()[0] == "mig: version 1 → version 1"


# -- packages ------------------------------------------------------------------------------


def test_package_errors_are_chinese(tmp_path):
    missing = tmp_path / "ward.fwapp"
    assert in_language("zh_CN", lambda: refusal(PackageError, lambda: read_package(missing))) == (
        f"找不到“{missing}”"
    )
    assert refusal(PackageError, lambda: read_package(missing)) == f"'{missing}' was not found"

    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.json").write_text("  \n", encoding="utf-8")
    assert in_language("zh_CN", lambda: refusal(PackageError, lambda: read_package(folder))) == (
        "app.json 是空的"
    )
    assert refusal(PackageError, lambda: read_package(folder)) == "app.json is empty"
