"""Hostile and oversized workbooks are refused with a clear message before parsing."""

from __future__ import annotations

import zipfile

import pytest
import xlsxwriter

from runtime.services.excel.read import read_file
from runtime.services.excel.safety import ImportLimits, UnsafeWorkbook, check_workbook
from tests.services.excel_support import do_import, simple_service

BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol9;</t></si></sst>"""


def _workbook(path, rows=2, cols=2):
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for row in range(rows):
        for col in range(cols):
            sheet.write_string(row, col, f"v{row}-{col}")
    book.close()
    return path


def _rewrite(source, target, replace=None, add=None):
    """Copy a zip, replacing or adding members."""
    replace = replace or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item.filename, replace.get(item.filename, old.read(item.filename)))
        for name, data in (add or {}).items():
            new.writestr(name, data)
    return target


def test_entity_expansion_in_shared_strings_is_refused(tmp_path):
    good = _workbook(tmp_path / "good.xlsx")
    bomb = _rewrite(good, tmp_path / "lol.xlsx", replace={"xl/sharedStrings.xml": BILLION_LAUGHS})
    with pytest.raises(UnsafeWorkbook, match=r"declares XML entities or a DTD.*sharedStrings"):
        check_workbook(bomb)


def test_doctype_in_a_sheet_is_refused_through_import(tmp_path):
    good = _workbook(tmp_path / "good.xlsx")
    with zipfile.ZipFile(good) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    evil = sheet.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
    path = _rewrite(good, tmp_path / "xxe.xlsx", replace={"xl/worksheets/sheet1.xml": evil})
    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    with pytest.raises(UnsafeWorkbook, match=r"XML bomb"):
        do_import(service, "patient", path)


def test_zip_bomb_is_refused(tmp_path):
    good = _workbook(tmp_path / "good.xlsx")
    zeros = b"\0" * (30 * 1024 * 1024)  # compresses about 1000:1
    bomb = _rewrite(good, tmp_path / "bomb.xlsx", add={"xl/media/padding.xml": zeros})
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(UnsafeWorkbook, match=r"zip bomb"):
        check_workbook(bomb)
    with pytest.raises(UnsafeWorkbook, match=r"unpacks to"):
        check_workbook(good, ImportLimits(max_uncompressed_bytes=1000))
    with pytest.raises(UnsafeWorkbook, match=r"parts"):
        check_workbook(good, ImportLimits(max_zip_members=3))


def test_macro_workbooks_are_refused(tmp_path):
    good = _workbook(tmp_path / "good.xlsx")
    xlsm = tmp_path / "macro.xlsm"
    xlsm.write_bytes(good.read_bytes())
    with pytest.raises(UnsafeWorkbook, match=r"macro-enabled"):
        check_workbook(xlsm)
    hidden = _rewrite(
        good, tmp_path / "hidden.xlsx", add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0"}
    )
    with pytest.raises(UnsafeWorkbook, match=r"vbaProject.bin"):
        check_workbook(hidden)
    with zipfile.ZipFile(good) as archive:
        types = archive.read("[Content_Types].xml")
    types = types.replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml")
    typed = _rewrite(good, tmp_path / "typed.xlsx", replace={"[Content_Types].xml": types})
    with pytest.raises(UnsafeWorkbook, match=r"macro-enabled"):
        check_workbook(typed)


def test_external_links_are_refused(tmp_path):
    good = _workbook(tmp_path / "good.xlsx")
    link = b'<?xml version="1.0"?><externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    linked = _rewrite(
        good, tmp_path / "link.xlsx", add={"xl/externalLinks/externalLink1.xml": link}
    )
    with pytest.raises(UnsafeWorkbook, match=r"external links"):
        check_workbook(linked)


def test_oversized_sheets_are_refused(tmp_path):
    path = _workbook(tmp_path / "big.xlsx", rows=150, cols=12)
    with pytest.raises(UnsafeWorkbook, match=r"150 rows in one sheet.*limit 100"):
        check_workbook(path, ImportLimits(max_rows=100))
    with pytest.raises(UnsafeWorkbook, match=r"columns up to L.*limit 10"):
        check_workbook(path, ImportLimits(max_columns=10))
    with pytest.raises(UnsafeWorkbook, match=r"cell A1 .* has 4 characters"):
        read_file(path, ImportLimits(max_cell_chars=3))
    check_workbook(path)  # within the default limits


def test_not_a_workbook(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(UnsafeWorkbook, match=r"not an Excel workbook"):
        check_workbook(fake)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UnsafeWorkbook, match=r"save it as .xlsx"):
        check_workbook(old)


def test_oversized_csv_is_refused(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("Code,Name\n" + "".join(f"C{n},x\n" for n in range(50)), "utf-8")
    with pytest.raises(UnsafeWorkbook, match=r"rows"):
        read_file(path, ImportLimits(max_rows=10))


def _padded_part(encoding: str, bom: bytes = b"", pad_chars: int = 1_200_000, split_at=None):
    """An XML part whose ``<!DOCTYPE`` comes after ``pad_chars`` of comment text."""
    import random

    rng = random.Random(7)
    padding = "".join(rng.choice("0123456789abcdef") for _ in range(pad_chars))
    declared = encoding.upper().replace("-LE", "").replace("-BE", "")
    text = (
        f'<?xml version="1.0" encoding="{declared}"?>\n<!--{padding}-->'
        '<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">]>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>&a;</t></si></sst>"
    )
    return bom + text.encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-32-be", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-8", b""),
    ],
)
def test_doctype_after_the_first_mebibyte_is_refused_in_any_encoding(tmp_path, encoding, bom):
    """The scan reads every part completely, decoding UTF-16/32 as it streams."""
    good = _workbook(tmp_path / "good.xlsx")
    part = _padded_part(encoding, bom)
    path = _rewrite(good, tmp_path / "late.xlsx", replace={"xl/sharedStrings.xml": part})
    with pytest.raises(UnsafeWorkbook, match=r"declares XML entities or a DTD.*sharedStrings"):
        check_workbook(path)


@pytest.mark.parametrize("pad", range(1024 * 1024 - 12, 1024 * 1024 + 2))
def test_doctype_split_across_chunks_is_found(tmp_path, pad):
    good = _workbook(tmp_path / "good.xlsx")
    part = b"x" * pad + b"<!DOCTYPE x>"
    path = _rewrite(good, tmp_path / "split.xlsx", replace={"xl/sharedStrings.xml": part})
    with pytest.raises(UnsafeWorkbook, match=r"declares XML entities or a DTD"):
        check_workbook(path, ImportLimits(max_compression_ratio=100_000))


@pytest.mark.parametrize("encoding", ["UTF-7", "cp037", "EBCDIC-US", "x-unknown"])
def test_parts_in_encodings_the_scan_cannot_read_are_refused(tmp_path, encoding):
    """An encoding that can hide ``<!DOCTYPE`` from a byte scan is not read at all."""
    good = _workbook(tmp_path / "good.xlsx")
    with zipfile.ZipFile(good) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    declared = sheet.replace(b'encoding="UTF-8"', f'encoding="{encoding}"'.encode(), 1)
    assert declared != sheet
    path = _rewrite(good, tmp_path / "enc.xlsx", replace={"xl/worksheets/sheet1.xml": declared})
    with pytest.raises(UnsafeWorkbook, match=r"text encoding"):
        check_workbook(path)


def test_utf16_sheet_without_doctype_is_accepted(tmp_path):
    good = _workbook(tmp_path / "good.xlsx")
    with zipfile.ZipFile(good) as archive:
        strings = archive.read("xl/sharedStrings.xml")
    wide = b"\xff\xfe" + strings.replace(b'"UTF-8"', b'"UTF-16"').decode().encode("utf-16-le")
    path = _rewrite(good, tmp_path / "wide.xlsx", replace={"xl/sharedStrings.xml": wide})
    check_workbook(path)
