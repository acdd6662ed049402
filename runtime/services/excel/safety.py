"""Refuse hostile or oversized workbooks before any spreadsheet parser sees them.

An .xlsx is a zip of XML parts. :func:`check_workbook` looks only at the zip
directory and the raw bytes of the parts:

* zip bombs: too many members, too many uncompressed bytes in all, or a member
  whose compression ratio is implausible for a spreadsheet;
* macros: ``.xlsm``/``.xltm``/``.xlsb`` names, ``vbaProject.bin``, macro content types;
* external links (``xl/externalLinks/``), which make Excel fetch other files;
* ``<!DOCTYPE``/``<!ENTITY`` in any XML part (entity expansion, "billion laughs",
  external entities) — legitimate workbooks never declare a DTD;
* sheets past :class:`ImportLimits` (rows from ``<dimension>`` and ``<row`` counts,
  columns from ``<dimension>``). Readers check the real shape and cell lengths again.

Every refusal is an :class:`UnsafeWorkbook` with one sentence for the user.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from resources.messages import tr
from runtime.services.excel.common import ExcelError, column_letter


@dataclass(frozen=True)
class ImportLimits:
    """What an import accepts; anything larger is refused with a clear message."""

    max_file_bytes: int = 200 * 1024 * 1024
    max_zip_members: int = 2_000
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    #: Uncompressed/compressed per member (checked for members over 1 MB).
    max_compression_ratio: int = 200
    max_rows: int = 1_000_000
    max_columns: int = 500
    max_cell_chars: int = 32_767
    max_sheets: int = 50


DEFAULT_LIMITS = ImportLimits()


class UnsafeWorkbook(ExcelError):
    """The file was refused before parsing (hostile, macro-enabled or too large)."""


MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlsb", ".xlam", ".xls")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"')
_SCAN_CHUNK = 1024 * 1024
_BAD_MARKERS = (b"<!doctype", b"<!entity")


def check_workbook(path: str | Path, limits: ImportLimits = DEFAULT_LIMITS) -> None:
    """Raise :class:`UnsafeWorkbook` unless ``path`` is a plain, sane .xlsx."""
    path = Path(path)
    name = path.name
    if path.suffix.lower() in MACRO_SUFFIXES:
        if path.suffix.lower() in (".xls", ".xlsb"):
            text = tr(
                "'{name}' is an old binary (.xls/.xlsb) workbook; "
                "please save it as .xlsx (Excel Workbook) first"
            )
        else:
            text = tr(
                "'{name}' is a macro-enabled workbook; macros are refused — "
                "save it as .xlsx (Excel Workbook) and import that"
            )
        raise UnsafeWorkbook(text.format(name=name))
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise UnsafeWorkbook(_too_large(name, size, limits))
    if not zipfile.is_zipfile(path):
        raise UnsafeWorkbook(tr("'{name}' is not an Excel workbook (.xlsx)").format(name=name))
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_directory(name, members, limits)
            for member in members:
                if _is_xml(member.filename):
                    _scan_part(name, archive, member, limits)
    except zipfile.BadZipFile as error:
        text = tr("'{name}' is damaged and cannot be read ({error})")
        raise UnsafeWorkbook(text.format(name=name, error=error)) from None


def _check_directory(name: str, members: list[zipfile.ZipInfo], limits: ImportLimits) -> None:
    if len(members) > limits.max_zip_members:
        text = tr(
            "'{name}' has {parts} parts (limit {limit}); it looks like a zip bomb and was refused"
        )
        raise UnsafeWorkbook(
            text.format(name=name, parts=len(members), limit=limits.max_zip_members)
        )
    total = 0
    sheets = 0
    names = {member.filename.lower() for member in members}
    if "[content_types].xml" not in names:
        raise UnsafeWorkbook(tr("'{name}' is not an Excel workbook (.xlsx)").format(name=name))
    for member in members:
        lower = member.filename.lower()
        if lower.endswith("vbaproject.bin") or (lower.endswith(".bin") and "vba" in lower):
            text = tr(
                "'{name}' contains macros (vbaProject.bin); macros are refused — "
                "save it as .xlsx (Excel Workbook) without macros"
            )
            raise UnsafeWorkbook(text.format(name=name))
        if lower.startswith("xl/externallinks/"):
            text = tr(
                "'{name}' links to other workbooks (external links); "
                "please break the links (Data > Edit Links) and save again"
            )
            raise UnsafeWorkbook(text.format(name=name))
        if lower.startswith("xl/worksheets/") and lower.endswith(".xml"):
            sheets += 1
        total += member.file_size
        if member.file_size > 1024 * 1024:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                text = tr(
                    "'{name}' expands {ratio:.0f} times when unpacked "
                    "(part {part}); it looks like a zip bomb and was refused"
                )
                raise UnsafeWorkbook(text.format(name=name, ratio=ratio, part=member.filename))
    if total > limits.max_uncompressed_bytes:
        text = tr("'{name}' unpacks to {size} MB (limit {limit} MB); it was refused")
        raise UnsafeWorkbook(
            text.format(
                name=name,
                size=total // (1024 * 1024),
                limit=limits.max_uncompressed_bytes // (1024 * 1024),
            )
        )
    if sheets > limits.max_sheets:
        text = tr("'{name}' has {sheets} sheets (limit {limit})")
        raise UnsafeWorkbook(text.format(name=name, sheets=sheets, limit=limits.max_sheets))


_BINARY_PARTS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".emf", ".wmf", ".tif", ".tiff", ".bin")


def _is_xml(filename: str) -> bool:
    """Every part a parser could read as XML (whatever its name): all but media."""
    return not filename.lower().endswith(_BINARY_PARTS)


def _scan_part(name: str, archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits) -> None:
    """Stream one whole part: no DTD/entities; macro content types; sheet size.

    The part is read to its end whatever its size, as UTF-8 bytes: a UTF-16 or
    UTF-32 part is decoded as it streams, so a ``<!DOCTYPE`` after the first
    megabyte (or across two chunks) is found in any encoding a parser accepts.
    """
    lower = member.filename.lower()
    is_sheet = lower.startswith("xl/worksheets/") and lower.endswith(".xml")
    rows = 0
    tail = b""
    first = True
    with archive.open(member) as stream:
        for chunk in _utf8_chunks(name, member, stream):
            window = (tail + chunk).lower()
            for marker in _BAD_MARKERS:
                if marker in window:
                    text = tr(
                        "'{name}' declares XML entities or a DTD (in {part}); "
                        "that can be an XML bomb, so the file was refused"
                    )
                    raise UnsafeWorkbook(text.format(name=name, part=member.filename))
            if lower == "[content_types].xml" and b"macroenabled" in window:
                text = tr("'{name}' is a macro-enabled workbook; save it as .xlsx without macros")
                raise UnsafeWorkbook(text.format(name=name))
            if is_sheet:
                if first:
                    _check_dimension(name, member.filename, chunk[:8192], limits)
                rows += chunk.count(b"<row ") + chunk.count(b"<row>")
                if rows > limits.max_rows + 1:
                    text = tr(
                        "'{name}' has more than {limit:,} rows in one sheet "
                        "(limit {limit:,}); split the file"
                    )
                    raise UnsafeWorkbook(text.format(name=name, limit=limits.max_rows))
            tail = chunk[-16:]
            first = False


#: Byte order marks and the first bytes of ``<?xml`` (XML 1.0, appendix F), widest first.
_SIGNATURES = (
    (b"\xff\xfe\x00\x00", "utf-32-le", 4),
    (b"\x00\x00\xfe\xff", "utf-32-be", 4),
    (b"\x3c\x00\x00\x00", "utf-32-le", 0),
    (b"\x00\x00\x00\x3c", "utf-32-be", 0),
    (b"\xef\xbb\xbf", "utf-8", 3),
    (b"\xff\xfe", "utf-16-le", 2),
    (b"\xfe\xff", "utf-16-be", 2),
    (b"\x3c\x00\x3f\x00", "utf-16-le", 0),
    (b"\x00\x3c\x00\x3f", "utf-16-be", 0),
)
_DECLARED = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
#: Declared encodings in which every ASCII character is its own single byte, so a
#: byte scan sees ``<!DOCTYPE`` exactly as a parser decodes it.
_ASCII_SAFE = {
    "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso-8859-15",
    "windows-1252", "cp1252", "gb2312", "gbk", "gb18030", "big5",
}  # fmt: skip


def _part_encoding(name: str, member: zipfile.ZipInfo, head: bytes) -> tuple[str, int]:
    """The codec to scan a part with (``""``: its bytes as they are) and its BOM length."""
    for signature, codec, skip in _SIGNATURES:
        if head.startswith(signature):
            return ("" if codec == "utf-8" else codec), skip
    match = _DECLARED.match(head)
    declared = match.group(1).decode("ascii").lower() if match else "utf-8"
    if declared in _ASCII_SAFE or declared.replace("_", "-") in _ASCII_SAFE:
        return "", 0
    text = tr(
        "'{name}' uses an unusual text encoding ({encoding}) in {part}; "
        "save it again from Excel as .xlsx"
    )
    raise UnsafeWorkbook(text.format(name=name, encoding=declared, part=member.filename))


def _utf8_chunks(name: str, member: zipfile.ZipInfo, stream):
    """The part's bytes in chunks, as UTF-8; refuses a part longer than it claims."""
    read = 0
    decoder = None
    while chunk := stream.read(_SCAN_CHUNK):
        if read == 0:
            codec, skip = _part_encoding(name, member, chunk[:1024])
            chunk = chunk[skip:]
            if codec:
                decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        read += len(chunk)
        if read > member.file_size + _SCAN_CHUNK:  # the directory lied about the size
            text = tr("'{name}' is damaged or hostile (part {part})")
            raise UnsafeWorkbook(text.format(name=name, part=member.filename))
        yield decoder.decode(chunk).encode("utf-8") if decoder else chunk
    if decoder is not None:
        yield decoder.decode(b"", final=True).encode("utf-8")


def _check_dimension(name: str, part: str, head: bytes, limits: ImportLimits) -> None:
    match = _DIMENSION.search(head)
    if not match:
        return
    last_col = match.group(3) or match.group(1)
    last_row = match.group(4) or match.group(2)
    if last_row and int(last_row) > limits.max_rows + 1:
        text = tr("'{name}' has {rows:,} rows in one sheet (limit {limit:,}); split the file")
        raise UnsafeWorkbook(text.format(name=name, rows=int(last_row), limit=limits.max_rows))
    if last_col and _column_number(last_col.decode()) > limits.max_columns:
        text = tr("'{name}' has columns up to {column} in one sheet (limit {limit}, up to {last})")
        raise UnsafeWorkbook(
            text.format(
                name=name,
                column=last_col.decode(),
                limit=limits.max_columns,
                last=column_letter(limits.max_columns - 1),
            )
        )


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (ord(letter) - 64)
    return number


def check_csv(path: str | Path, limits: ImportLimits = DEFAULT_LIMITS) -> None:
    path = Path(path)
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise UnsafeWorkbook(_too_large(path.name, size, limits))


def _too_large(name: str, size: int, limits: ImportLimits) -> str:
    text = tr("'{name}' is {size} MB; the limit is {limit} MB")
    return text.format(
        name=name, size=size // (1024 * 1024), limit=limits.max_file_bytes // (1024 * 1024)
    )
