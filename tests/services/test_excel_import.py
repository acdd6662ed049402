"""Import from real .xlsx/.csv files: mapping, conversion, errors, modes, resume."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
import sqlalchemy as sa
import xlsxwriter

from runtime.services.excel.common import ExcelError
from runtime.services.excel.importer import _Import
from runtime.services.excel.journal import DuplicateImport
from runtime.store.schema import audit_table, imports_table
from tests.services.excel_support import do_import, simple_service

HEADER = ["Code", "Name", "Age", "Admitted", "Ward", "Urgent"]


def _values(service):
    return [
        tuple(r.values[k] for k in ("code", "name", "age", "admitted", "ward", "urgent"))
        for r in service.iter_records("patient")
    ]


EXPECTED = [
    ("A1", "王芳", 34, dt.date(2024, 3, 15), "icu", True),
    ("A2", "Li Lei", 7, dt.date(2023, 12, 31), "er", False),
]


def _openpyxl_book(path, rows, header=HEADER):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_openpyxl_workbook_with_date_cells_and_text_dates(db_url, tmp_path):
    service = simple_service(db_url)
    path = tmp_path / "o.xlsx"
    _openpyxl_book(
        path,
        [
            ["A1", "王芳", 34, dt.datetime(2024, 3, 15), "ICU", True],
            ["A2", "Li Lei", "7", "2023年12月31日", "急诊科", "否"],
        ],
    )
    result = do_import(service, "patient", path)
    assert result.errors == [] and result.created == 2
    assert _values(service) == EXPECTED


def test_xlsxwriter_workbook_with_serial_dates_keys_as_headers(tmp_path):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    path = tmp_path / "x.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["  CODE ", "name", "AGE", "admitted", "ward", "urgent", "", "extra"])
    sheet.write_row(1, 0, ["A1", "王芳", 34, 45366, "icu", 1])  # 45366 = 2024-03-15
    sheet.write_row(2, 0, ["A2", "Li Lei", 7.0, 45291, "er", 0])
    book.close()
    result = do_import(service, "patient", path)
    assert result.errors == []
    assert _values(service) == EXPECTED
    assert result.ignored_columns == ["extra"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_with_and_without_bom_and_gb18030(tmp_path, encoding):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    path = tmp_path / "p.csv"
    text = "Code,Name,Age,Admitted,Ward,Urgent\r\nA1,王芳,34,2024-03-15,ICU,是\r\nA2,Li Lei,7,2023/12/31,急诊科,no\r\n"
    path.write_bytes(text.encode(encoding))
    result = do_import(service, "patient", path)
    assert result.errors == []
    assert _values(service) == EXPECTED


def test_merged_two_row_header_and_trailing_empty_rows_and_columns(tmp_path):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    path = tmp_path / "m.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Code", "Patient", None, "Stay", None, None])
    sheet.append([None, "Name", "Age", "Admitted", "Ward", "Urgent"])
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("D1:F1")
    sheet.append(["A1", "王芳", 34, dt.date(2024, 3, 15), "ICU", True])
    sheet.append(["A2", "Li Lei", 7, dt.date(2023, 12, 31), "er", False])
    sheet.cell(row=40, column=12).value = ""  # a touched cell far away
    sheet.cell(row=41, column=14).number_format = "0.00"
    book.save(path)
    result = do_import(service, "patient", path)
    assert result.errors == []
    assert result.rows_total == 2 or result.created == 2
    assert _values(service) == EXPECTED


def _bad_file(tmp_path):
    path = tmp_path / "bad.xlsx"
    _openpyxl_book(
        path,
        [
            ["A1", "王芳", 34, dt.date(2024, 3, 15), "ICU", True],  # row 2: fine
            ["A2", "Li", "old", "2024-02-30", "Ward 9", "maybe"],  # row 3: four bad cells
            ["A1", None, 200, None, None, None],  # row 4: duplicate, required, max
            ["B7", "Zhou", 5, None, None, None],  # row 5: fine
        ],
    )
    return path


def test_exact_per_row_errors_and_nothing_written(db_url, tmp_path):
    service = simple_service(db_url)
    result = do_import(service, "patient", _bad_file(tmp_path), error_workbook=True)
    found = [(e.row, e.column, e.message) for e in result.errors]
    assert found == [
        (3, "C", "please enter a number"),
        (3, "D", "please enter a date like 2024-03-15"),
        (3, "E", "'Ward 9' is not one of the choices: ICU, 急诊科"),
        (3, "F", "please answer yes or no (是/否)"),
        (4, "A", "'A1' is also in row 2"),
        (4, "B", "is required"),
        (4, "C", "must be at most 150"),
    ]
    assert str(result.errors[0]) == "Sheet: row 3, column C (Age): please enter a number"
    assert result.created == 0 and _values(service) == []
    # the error workbook: source rows, an errors column, bad cells highlighted
    book = openpyxl.load_workbook(result.error_workbook)
    sheet = book.active
    assert sheet.cell(1, 7).value == "errors"
    assert sheet.cell(3, 1).value == "A2"
    assert "Age: please enter a number" in sheet.cell(3, 7).value
    assert sheet.cell(3, 3).fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(2, 3).fill.fgColor.rgb in ("00000000", None)


def test_valid_rows_only(tmp_path):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    result = do_import(service, "patient", _bad_file(tmp_path), mode="valid_only")
    assert result.created == 2 and result.skipped == 2
    assert [v[0] for v in _values(service)] == ["A1", "B7"]


def test_dry_run_writes_nothing(tmp_path):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    path = tmp_path / "o.xlsx"
    _openpyxl_book(path, [["A1", "王芳", 34, None, None, None]])
    result = do_import(service, "patient", path, dry_run=True)
    assert result.ok and result.rows_valid == 1 and result.created == 0
    assert _values(service) == []


def test_existing_value_is_an_error_and_upsert_updates(db_url, tmp_path):
    service = simple_service(db_url)
    service.create("patient", {"code": "A1", "name": "Old", "age": 1})
    path = tmp_path / "u.xlsx"
    _openpyxl_book(path, [["A1", "王芳", 34], ["A9", "New", 3]], header=HEADER[:3])
    result = do_import(service, "patient", path)
    assert [(e.row, e.column) for e in result.errors] == [(2, "A")]
    assert "already used" in result.errors[0].message
    result = do_import(service, "patient", path, upsert_by="code")
    assert result.errors == [] and (result.created, result.updated) == (1, 1)
    by_code = {r.values["code"]: r for r in service.iter_records("patient")}
    assert by_code["A1"].values["name"] == "王芳" and by_code["A1"].version == 2
    assert len(by_code) == 2


def test_explicit_mapping(tmp_path):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    path = tmp_path / "map.xlsx"
    _openpyxl_book(path, [["A1", "王芳", "x"]], header=["编号", "姓名", "备注"])
    result = do_import(
        service, "patient", path, mapping={"编号": "code", "B": "name", "备注": None}
    )
    assert result.errors == [] and result.columns == {"编号": "code", "姓名": "name"}
    with pytest.raises(ExcelError, match="both fill"):
        mapping = {"编号": "code", "姓名": "code"}
        do_import(service, "patient", path, mapping=mapping, allow_duplicates=True)


def test_killed_import_resumes_without_duplicates(db_url, tmp_path, monkeypatch):
    service = simple_service(db_url)
    path = tmp_path / "big.xlsx"
    _openpyxl_book(path, [[f"K{n:03d}", f"n{n}", n % 100] for n in range(35)], header=HEADER[:3])
    original = _Import.write_batch
    calls = []

    def dying(self, import_id, batch, start, end):
        calls.append(start)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")  # the process dies in the third batch
        return original(self, import_id, batch, start, end)

    monkeypatch.setattr(_Import, "write_batch", dying)
    with pytest.raises(KeyboardInterrupt):
        do_import(service, "patient", path, batch_size=10)
    assert len(_values(service)) == 20
    with service.workspace.engine.connect() as connection:
        state = connection.execute(
            sa.select(imports_table.c.state, imports_table.c.rows_done)
        ).one()
    assert tuple(state) == ("running", 20)
    monkeypatch.setattr(_Import, "write_batch", original)
    result = do_import(service, "patient", path, batch_size=10, resume=True)
    assert result.resumed_from == 20 and result.created == 15
    codes = [v[0] for v in _values(service)]
    assert sorted(codes) == [f"K{n:03d}" for n in range(35)]
    with service.workspace.engine.connect() as connection:
        states = connection.execute(sa.select(imports_table.c.state)).scalars().all()
        actions = (
            connection.execute(
                sa.select(audit_table.c.action)
                .where(audit_table.c.action.like("import%"))
                .order_by(audit_table.c.id)
            )
            .scalars()
            .all()
        )
    assert states == ["done"]
    assert actions == ["import_batch"] * 4 + ["import"]
    # the same finished file again is refused unless confirmed; its codes are taken now
    with pytest.raises(DuplicateImport, match="already imported"):
        do_import(service, "patient", path, batch_size=10)
    again = do_import(service, "patient", path, batch_size=10, allow_duplicates=True)
    assert again.created == 0 and len(again.errors) == 35


def test_subtable_sheet_without_record_id_column_is_refused(tmp_path):
    from tests.services.excel_support import export, sample_record, seeded_service

    service = seeded_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    service.create("every", sample_record(0))
    path = tmp_path / "e.xlsx"
    export(service, "every", path)
    book = openpyxl.load_workbook(path)
    book.worksheets[0].delete_cols(1)
    book.save(path)
    result = do_import(service, "every", path)
    assert any("Record ID" in str(e) for e in result.errors) and result.created == 0


def test_repeated_cells_are_reported_on_every_row(tmp_path):
    """Converted values are remembered per column; errors never are."""
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    path = tmp_path / "r.xlsx"
    rows = [[f"A{n}", "x", 200 if n % 2 else 5, None, "ICU", True] for n in range(6)]
    rows.append(["B1", "  ", 5, None, "nope", True])
    _openpyxl_book(path, rows)
    result = do_import(service, "patient", path)
    found = [(e.row, e.column, e.message) for e in result.errors]
    assert found == [
        *[(n + 2, "C", "must be at most 150") for n in range(1, 6, 2)],
        (8, "B", "is required"),
        (8, "E", "'nope' is not one of the choices: ICU, 急诊科"),
    ]
    assert result.created == 0
