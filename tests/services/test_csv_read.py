"""CSV and Excel's "Unicode Text": encodings by BOM, separators from the header line."""

from __future__ import annotations

import pytest

from runtime.services.excel.read import read_file
from tests.services.excel_support import do_import, simple_service

ROWS = [
    ["Code", "Name", "Age", "Admitted", "Ward", "Urgent"],
    ["A1", "王芳", "34", "2024-03-15", "ICU", "是"],
    ["A2", "Li, Lei", "7", "2023/12/31", "急诊科", "no"],
]


def _text(separator: str) -> str:
    def cell(value: str) -> str:
        return f'"{value}"' if separator in value or "," in value else value

    return "".join(separator.join(cell(v) for v in row) + "\r\n" for row in ROWS)


@pytest.mark.parametrize(
    ("encoding", "bom", "separator", "suffix"),
    [
        ("utf-16-le", b"\xff\xfe", "\t", ".txt"),  # Excel: Save as "Unicode Text"
        ("utf-16-be", b"\xfe\xff", "\t", ".txt"),
        ("utf-16-le", b"\xff\xfe", "\t", ".csv"),
        ("utf-16-le", b"", "\t", ".txt"),
        ("utf-8", b"\xef\xbb\xbf", "\t", ".tsv"),
        ("utf-8", b"", "\t", ".csv"),
        ("utf-8", b"\xef\xbb\xbf", ";", ".csv"),  # European Excel's CSV
        ("gb18030", b"", ",", ".csv"),
        ("gb18030", b"", "\t", ".txt"),
    ],
)
def test_encodings_and_separators(tmp_path, encoding, bom, separator, suffix):
    path = tmp_path / f"patients{suffix}"
    path.write_bytes(bom + _text(separator).encode(encoding))
    (sheet,) = read_file(path)
    assert sheet.rows == ROWS


def test_unicode_text_from_excel_imports(tmp_path):
    """A UTF-16 tab-separated file was read as GB18030 and refused as one column."""
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    path = tmp_path / "patients.txt"
    path.write_bytes(b"\xff\xfe" + _text("\t").encode("utf-16-le"))
    result = do_import(service, "patient", path)
    assert result.errors == [] and result.created == 2
    names = sorted(r.values["name"] for r in service.iter_records("patient"))
    assert names == ["Li, Lei", "王芳"]


def test_comma_file_with_tabs_inside_quoted_values(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('Code,Name\r\nA1,"tab\there"\r\nA2,"x; y"\r\n', encoding="utf-8")
    (sheet,) = read_file(path)
    assert sheet.rows == [["Code", "Name"], ["A1", "tab\there"], ["A2", "x; y"]]


def test_the_separator_comes_from_the_header_outside_quotes(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text('Code\t"Name, given"\tAge\r\nA1\tWang, Fang\t34\r\n', encoding="utf-8")
    (sheet,) = read_file(path)
    assert sheet.rows == [["Code", "Name, given", "Age"], ["A1", "Wang, Fang", "34"]]
