"""The import's per-column shortcut gives exactly what the general path gives."""

from __future__ import annotations

import datetime as dt
import gc
from decimal import Decimal

import pytest

from runtime.services.excel.convert import MISS as _MISS
from runtime.services.excel.importer import _Import
from runtime.services.excel.mapping import ImportColumn as _Column
from tests.services.excel_support import do_import, simple_service
from widgets.base import ExcelContext, FieldValueError
from widgets.registry import default_registry


class _Text(str):
    pass


VALUE_TYPES = [t for t in default_registry if t.has_value and not t.computed]

CELLS = [
    "",
    "  ",
    " EQ-12 ",
    "EQ-12",
    "x\ny",
    "a" * 5000,
    "'quoted",
    "2024-03-15",
    " 2024/3/15 08:30 ",
    "45366",
    "3.5",
    "1,200",
    "是",
    "yes",
    _Text(" padded "),
    0,
    1,
    -1,
    45366,
    10**20,
    0.0,
    1.0,
    3.5,
    45366.5,
    2.0**60,
    float("nan"),
    True,
    False,
    Decimal("12.345"),
    Decimal("7"),
    dt.date(2024, 3, 15),
    dt.datetime(2024, 3, 15, 8, 30),
    dt.datetime(2024, 3, 15, 8, 30, 59),
    dt.datetime(2024, 3, 15, 8, 30, tzinfo=dt.UTC),
    dt.time(8, 30),
]


def _specs(field_type):
    yield field_type.sample_spec()
    for attributes in (
        {"max_length": 3},
        {"decimals": 0, "min": 0, "max": 100},
        {"decimals": 2},
        {"min": "2024-01-01", "max": "2024-12-31"},
        {"min": "2024-01-01T00:00", "max": "2024-12-31T23:59"},
    ):
        try:
            spec = field_type.new_spec("sample", "Sample", **attributes)
        except Exception:  # an attribute this type does not have
            continue
        if not field_type.check_spec(spec):
            yield spec


def _general(field_type, spec, cell):
    """The general path: from_excel, then validate a non-empty value."""
    try:
        value = field_type.from_excel(spec, cell, ExcelContext())
    except FieldValueError:
        return _MISS
    if value is None or field_type.is_empty(value):
        return _MISS
    try:
        field_type.validate(spec, value)
    except FieldValueError:
        return _MISS
    return value


@pytest.mark.parametrize("text_only", [False, True])
@pytest.mark.parametrize("field_type", VALUE_TYPES, ids=lambda t: t.name)
def test_fast_converter_agrees_with_from_excel_then_validate(field_type, text_only):
    for spec in _specs(field_type):
        job = _Import.__new__(_Import)
        job._fast, job.text_only = {}, text_only
        column = _Column(0, "Sample", spec.key, spec, field_type, field_type.reference_kind(spec))
        fast = job._fast_converter(column)
        if fast is None:
            continue
        for cell in CELLS:
            try:
                got = fast(cell)
            except Exception as error:  # a cell the type itself cannot take (NaN)
                with pytest.raises(type(error)):
                    _general(field_type, spec, cell)
                continue
            if got is _MISS:
                continue  # the general path converts it (and reports any problem)
            if text_only and isinstance(cell, str) and cell.startswith("'"):
                pytest.fail(f"{field_type.name}: the text marker of {cell!r} skipped")
            expected = _general(field_type, spec, cell)
            assert expected is not _MISS, (field_type.name, spec, cell, got)
            assert got == expected and type(got) is type(expected), (field_type.name, cell)


def test_references_take_the_general_path():
    for field_type in VALUE_TYPES:
        spec = field_type.sample_spec()
        kind = field_type.reference_kind(spec)
        if kind is None:
            continue
        job = _Import.__new__(_Import)
        job._fast, job.text_only = {}, False
        assert job._fast_converter(_Column(0, "S", spec.key, spec, field_type, kind)) is None


def test_the_collector_runs_again_after_an_import(tmp_path):
    import openpyxl

    service = simple_service(f"sqlite:///{tmp_path / 'w.sqlite'}")
    path = tmp_path / "o.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Code", "Name", "Age", "Admitted", "Ward", "Urgent"])
    book.active.append(["A1", " 王芳 ", 34.0, dt.datetime(2024, 3, 15), "ICU", True])
    book.save(path)
    assert gc.isenabled()
    result = do_import(service, "patient", path)
    assert result.errors == [] and result.created == 1
    assert gc.isenabled()
    gc.disable()
    try:
        do_import(service, "patient", path, dry_run=True)
        assert not gc.isenabled()  # a caller's choice is left as it was
    finally:
        gc.enable()
    record = next(iter(service.iter_records("patient")))
    assert record.values["name"] == "王芳" and record.values["age"] == 34
