"""Exports through rustpy-xlsxwriter (services/excel/fast_xlsx.py) and the fallback.

The fast writer must write the cells the xlsxwriter export writes (the one cell
writer's rules), stop on cancel, fail without leaving a file, and step aside when
its wheel is missing.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import uuid
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.utils.escape import unescape

from runtime.services.actor import SYSTEM
from runtime.services.excel import export as export_module
from runtime.services.excel import fast_xlsx
from runtime.services.excel.cells import EXCEL_CELL_LIMIT, cell_value, excel_text
from runtime.services.excel.common import Progress, run_steps
from runtime.services.excel.export import ExportColumn, export_records, plan_export
from tests.services.excel_support import (
    all_fields,
    export,
    sample_record,
    seeded_service,
    simple_service,
)

pytest.importorskip("rustpy_xlsxwriter")  # installed with the project where it has a wheel

HOSTILE = ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "'quoted", "a\x01b", "_x000D_ kept", "中文"]


@pytest.fixture
def without_wheel(monkeypatch):
    """The rustpy-xlsxwriter wheel missing: importing it fails."""
    monkeypatch.setitem(sys.modules, "rustpy_xlsxwriter", None)
    assert fast_xlsx.rust_writer() is None


def _cells(path):
    sheet = openpyxl.load_workbook(path).worksheets[0]
    cells = [
        [(c.value, c.data_type, c.number_format if c.value is not None else None) for c in row]
        for row in sheet.iter_rows()
    ]
    header = [(c.font.b, c.fill.fgColor.rgb) for c in sheet[1]]
    widths = {key: dim.width for key, dim in sheet.column_dimensions.items()}
    return sheet.title, sheet.freeze_panes, header, widths, cells


def _no_formulas(path) -> None:
    with zipfile.ZipFile(path) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")


def _export_both(service, form, tmp_path, monkeypatch, **options):
    fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    assert isinstance(_output_of(service, form, fast, **options), fast_xlsx.RustXlsxOut)
    export(service, form, fast, **options)
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "rustpy_xlsxwriter", None)
        assert not isinstance(_output_of(service, form, slow, **options), fast_xlsx.RustXlsxOut)
        export(service, form, slow, **options)
    return fast, slow


def _output_of(service, form, path, subtables="sheet", **_options):
    plan = plan_export(service, form, all_fields(service, form), subtables=subtables)
    return export_module._output(path, plan)


def test_every_type_written_as_the_xlsxwriter_export_writes_it(tmp_path, monkeypatch):
    service = seeded_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    for index in range(2):
        service.create("every", sample_record(index))
    fast, slow = _export_both(service, "every", tmp_path, monkeypatch, subtables="flatten")
    assert _cells(fast) == _cells(slow)
    cells = _cells(fast)[-1]
    header = [value for value, _type, _format in cells[0]]
    row = dict(zip(header, cells[1], strict=True))
    assert row["Date 列"] == (dt.datetime(2024, 3, 15), "d", "yyyy-mm-dd")
    assert row["Date and time 列"] == (dt.datetime(2024, 3, 15, 8, 30), "d", "yyyy-mm-dd hh:mm")
    assert row["Time 列"] == (dt.time(8, 30), "d", "hh:mm")
    assert row["Number 列"][1:] == ("n", "0.00")
    assert row["Checkbox 列"][:2] == (True, "b")
    assert row["Choice 列"][:2] == ("重症监护室", "s")


def test_text_stays_text_and_empty_cells_stay_empty(tmp_path, monkeypatch):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    service.bulk_create(
        "patient",
        [
            {"code": f"P{n}", "name": text, "notes": text if n % 2 else None}
            for n, text in enumerate(HOSTILE)
        ],
    )
    fast, slow = _export_both(service, "patient", tmp_path, monkeypatch)
    assert _cells(fast) == _cells(slow)
    _no_formulas(fast)
    cells = _cells(fast)[-1]
    # openpyxl leaves OOXML's _x0001_ escape of a control character as is
    assert [(unescape(row[2][0]), row[2][1]) for row in cells[1:]] == [(t, "s") for t in HOSTILE]
    assert all(row[3] == (None, "n", None) for row in cells[1:])  # age: empty everywhere


def test_without_the_wheel_the_export_writes_with_xlsxwriter(tmp_path, without_wheel):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    service.create("patient", {"code": "=A1", "name": "王芳", "age": 40})
    path = tmp_path / "slow.xlsx"
    assert isinstance(_output_of(service, "patient", path), export_module._XlsxOut)
    result = export(service, "patient", path)
    assert result.rows == 1
    rows = list(openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True))
    assert rows[1][1:4] == ("=A1", "王芳", 40)
    _no_formulas(path)


def test_exports_the_fast_writer_leaves_to_xlsxwriter(tmp_path):
    service = seeded_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    path = tmp_path / "x.xlsx"
    assert isinstance(_output_of(service, "every", path, "sheet"), export_module._XlsxOut)
    assert isinstance(_output_of(service, "every", path, "omit"), fast_xlsx.RustXlsxOut)
    assert not fast_xlsx.takes(["Name", "Name"], 1)  # its rows are dicts keyed by header
    assert fast_xlsx.takes(["Name", "Code"], 1)
    assert isinstance(_output_of(service, "every", tmp_path / "x.csv"), export_module._CsvOut)


def test_no_rows_still_has_its_header(tmp_path):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    path = tmp_path / "empty.xlsx"
    assert export(service, "patient", path).rows == 0
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["Record ID", "Code", "Name"]
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2" and sheet.max_row == 1


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "xlsx-writer"]


def test_cancel_stops_the_writer_and_leaves_no_file(tmp_path):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    service.bulk_create("patient", [{"code": f"C{n}", "name": "x"} for n in range(250)])
    out = tmp_path / "out"
    out.mkdir()
    steps = export_records(
        service,
        "patient",
        out / "list.xlsx",
        actor=SYSTEM,
        visible_fields=all_fields(service, "patient"),
        page_size=50,
    )
    assert next(steps) == Progress(0, 250, "exporting")
    assert next(steps).done == 50
    assert _writer_threads()  # the writer runs beside the export
    steps.close()
    assert _writer_threads() == []
    assert list(out.iterdir()) == []


def test_a_failing_writer_fails_the_export_and_leaves_no_file(tmp_path, monkeypatch):
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    service.bulk_create("patient", [{"code": f"C{n}", "name": "x"} for n in range(300)])
    out = tmp_path / "out"
    out.mkdir()
    module = fast_xlsx.rust_writer()

    class FakeModule:
        Format = module.Format

        @staticmethod
        def write_worksheet(rows, target, **_options):
            for _index, _row in zip(range(60), rows, strict=False):
                pass
            raise OSError("no space left on device")

    monkeypatch.setattr(fast_xlsx, "rust_writer", lambda: FakeModule)
    steps = export_records(
        service,
        "patient",
        out / "list.xlsx",
        actor=SYSTEM,
        visible_fields=all_fields(service, "patient"),
        page_size=20,
    )
    with pytest.raises(OSError, match="no space left"):
        run_steps(steps)
    assert _writer_threads() == []
    assert list(out.iterdir()) == []


def test_values_as_the_fast_writer_takes_them():
    assert cell_value(Decimal("12.50")) == 12.5
    assert cell_value(dt.time(6, 0)) == 0.25
    assert cell_value(dt.time(12, 0, 30)) == pytest.approx((12 * 3600 + 30) / 86400)
    for value in (3, 1.5, True, None, dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4), "=x"):
        assert cell_value(value) is value
    assert cell_value(uuid.UUID(int=5)) == str(uuid.UUID(int=5))  # no cell of its own: text
    long = "中" * 40_000
    assert excel_text(long) == "中" * EXCEL_CELL_LIMIT
    emoji = "a" + "😀" * 20_000  # two UTF-16 units each: the cut never splits one
    cut = excel_text(emoji)
    assert cut == "a" + "😀" * ((EXCEL_CELL_LIMIT - 1) // 2)
    assert excel_text("short") == "short"


def test_long_text_is_cut_as_xlsxwriter_cuts_it(tmp_path):
    out = fast_xlsx.RustXlsxOut(tmp_path / "long.xlsx")
    out.add_part("Long", [ExportColumn("Text")])
    out.set_widths(0, [10])
    out.write(0, [["x" * 40_000], ["😀" * 17_000]])
    out.commit()
    sheet = openpyxl.load_workbook(tmp_path / "long.xlsx").worksheets[0]
    assert sheet["A2"].value == "x" * EXCEL_CELL_LIMIT
    assert sheet["A3"].value == "😀" * (EXCEL_CELL_LIMIT // 2)
