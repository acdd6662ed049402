"""Subtables: rows of their own fields (the items of an order, doses of a course).

The value is a list of row dicts with every column key. Each cell goes through its
column's own type; the data engine stores the rows in a child table built from
:meth:`SubtableType.children`, so the subtable has no column of its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import Field

from resources.messages import tr
from widgets.base import ExprType, FieldSpec, FieldSpecBase, FieldType, FieldValueError, SpecProblem


class SubtableSpec(FieldSpecBase):
    fields: list[FieldSpec] = Field(default_factory=list)
    min_rows: int = Field(default=0, ge=0, le=1000)
    max_rows: int | None = Field(default=None, ge=1, le=1000)


def _registry():
    # Imported here: the registry imports this module while it is being built.
    from widgets.registry import default_registry

    return default_registry


def _type_of(child: FieldSpecBase) -> FieldType:
    return _registry().of(child)


def cell_message(row: int, child: FieldSpecBase, message: str) -> str:
    """A problem of one cell, saying where: "row 2, Qty: must be at least 1"."""
    return tr("row {row}, {field}: {problem}").format(row=row, field=child.label, problem=message)


def _cell_error(row: int, child: FieldSpecBase, message: str) -> FieldValueError:
    return FieldValueError(cell_message(row, child, message))


class SubtableType(FieldType[SubtableSpec]):
    name = "subtable"
    spec_model = SubtableSpec
    title = "Subtable"
    title_zh = "子表"
    group = "relations"
    icon = "mdi6.table-large"
    editor = "widgets.editors.subtable:SubtableEditor"
    description = "A table of rows inside the form, e.g. the parts used in a repair."
    # Rows can't fit in one cell or one line: the Excel service writes them to a sheet.
    excel_roundtrip = False
    text_roundtrip = False
    sample_attributes = {
        "fields": [
            {"key": "part", "type": "text", "label": "Part", "required": True},
            {"key": "qty", "type": "number", "label": "Qty", "decimals": 0, "min": 1},
            {"key": "price", "type": "number", "label": "Price", "decimals": 2, "min": 0},
        ]
    }

    def new_spec(self, key: str, label: str, **attributes: Any) -> SubtableSpec:
        """From the palette a subtable starts with one text column to rename."""
        attributes.setdefault("fields", [{"key": "item", "type": "text", "label": "Item"}])
        return super().new_spec(key, label, **attributes)

    def children(self, spec: SubtableSpec) -> list[FieldSpecBase]:
        return list(spec.fields)

    def nested_fields(self, spec: SubtableSpec) -> list[FieldSpecBase] | None:
        return spec.fields

    def sample_values(self, spec: SubtableSpec) -> list[Any]:
        rows = [
            {"part": "过滤器 filter", "qty": 2, "price": Decimal("12.50")},
            {"part": "Battery pack", "qty": 1, "price": Decimal("380.00")},
        ]
        if [child.key for child in spec.fields] != ["part", "qty", "price"]:
            rows = [{child.key: _first_sample(child) for child in spec.fields}]
            return [rows]
        return [rows[:1], rows]

    # -- spec ---------------------------------------------------------------
    def check_spec(self, spec: SubtableSpec) -> list[SpecProblem]:
        problems = super().check_spec(spec)
        if not spec.fields:
            problems.append(SpecProblem("fields", tr("add at least one column")))
        seen: set[str] = set()
        for index, child in enumerate(spec.fields):
            where = f"fields[{index}]"
            child_type = _type_of(child)
            if isinstance(child, SubtableSpec):
                problems.append(SpecProblem(where, tr("a subtable can't contain another subtable")))
            elif not child_type.has_value:
                problems.append(
                    SpecProblem(where, tr("layout items can't be columns of a subtable"))
                )
            if child.key in seen:
                message = tr("duplicate column key '{key}'").format(key=child.key)
                problems.append(SpecProblem(f"{where}.key", message))
            seen.add(child.key)
        if spec.max_rows is not None and spec.min_rows > spec.max_rows:
            problems.append(
                SpecProblem("min_rows", tr("the minimum of rows is larger than the maximum"))
            )
        return problems

    # -- values -------------------------------------------------------------
    def coerce(self, spec: SubtableSpec, value: Any) -> Any:
        """Rows with every column coerced; rows with nothing filled in are dropped."""
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            raise FieldValueError(tr("a table must be a list of rows"))
        rows = [self._coerce_row(spec, number, row) for number, row in enumerate(value, 1)]
        rows = [row for row in rows if not self.row_is_empty(spec, row)]
        return rows or None

    def _coerce_row(self, spec: SubtableSpec, number: int, row: Any) -> dict[str, Any]:
        if not isinstance(row, Mapping):
            raise FieldValueError(tr("row {row} is not a row of the table").format(row=number))
        known = {child.key for child in spec.fields}
        for key in row:
            if key not in known:
                raise FieldValueError(
                    tr("row {row}: unknown column '{key}'").format(row=number, key=key)
                )
        cells = {}
        for child in spec.fields:
            try:
                cells[child.key] = _type_of(child).coerce(child, row.get(child.key))
            except FieldValueError as error:
                raise _cell_error(number, child, error.message) from None
        return cells

    def row_is_empty(self, spec: SubtableSpec, row: Mapping[str, Any]) -> bool:
        """Nothing typed in: formula columns (computed, e.g. ``0`` from blanks) don't count."""
        return all(
            _type_of(child).computed or _type_of(child).is_empty(row.get(child.key))
            for child in spec.fields
        )

    def validate(self, spec: SubtableSpec, value: Any) -> None:
        """Row limits and every cell. ``None`` (no rows) is left to ``required``."""
        if value is None:
            return
        if len(value) < spec.min_rows:
            raise FieldValueError(
                tr("at least {limit} rows (now {count})").format(
                    limit=spec.min_rows, count=len(value)
                )
            )
        if spec.max_rows is not None and len(value) > spec.max_rows:
            raise FieldValueError(
                tr("at most {limit} rows (now {count})").format(
                    limit=spec.max_rows, count=len(value)
                )
            )
        for number, row in enumerate(value, 1):
            for child in spec.fields:
                child_type = _type_of(child)
                cell = row.get(child.key)
                if child.required and not child_type.computed and child_type.is_empty(cell):
                    raise _cell_error(number, child, tr("please fill this in"))
                try:
                    child_type.validate(child, cell)
                except FieldValueError as error:
                    raise _cell_error(number, child, error.message) from None

    def is_empty(self, value: Any) -> bool:
        return value is None or value == []

    def sql_type(self, spec: SubtableSpec) -> None:
        return None

    def to_json(self, spec: SubtableSpec, value: Any) -> Any:
        if value is None:
            return None
        return [
            {child.key: _type_of(child).to_json(child, row.get(child.key)) for child in spec.fields}
            for row in value
        ]

    def from_json(self, spec: SubtableSpec, data: Any) -> Any:
        if data is None:
            return None
        if not isinstance(data, list) or not all(isinstance(row, Mapping) for row in data):
            raise FieldValueError(tr("a table must be a list of rows"))
        rows = []
        for number, row in enumerate(data, 1):
            cells = dict(row)
            for child in spec.fields:
                try:
                    cells[child.key] = _type_of(child).from_json(child, row.get(child.key))
                except FieldValueError as error:
                    raise _cell_error(number, child, error.message) from None
            rows.append(cells)
        return self.coerce(spec, rows)

    # -- text ---------------------------------------------------------------
    def display(self, spec: SubtableSpec, value: Any, context: Any = None) -> str:
        if value is None:
            return ""
        if len(value) == 1:
            return tr("1 row")
        return tr("{count} rows").format(count=len(value))

    def parse(self, spec: SubtableSpec, text: str, context: Any = None) -> Any:
        """Only JSON rows (CLI, clipboard); a table can't be typed as plain text."""
        text = text.strip()
        if not text:
            return None
        if not text.startswith("["):
            raise FieldValueError(tr("a table can't be entered as text; fill in its rows"))
        try:
            return self.from_json(spec, json.loads(text))
        except ValueError as error:
            if isinstance(error, FieldValueError):
                raise
            raise FieldValueError(
                tr("a table can't be entered as text; fill in its rows")
            ) from None

    def expression_type(self, spec: SubtableSpec) -> ExprType:
        return "table"

    def describe(self, spec: SubtableSpec) -> str:
        columns = ", ".join(child.label for child in spec.fields)
        return tr("table with columns {columns} (rows on their own sheet)").format(columns=columns)


def _first_sample(child: FieldSpecBase) -> Any:
    samples = _type_of(child).sample_values(child)
    return samples[0] if samples else None


FIELD_TYPE = SubtableType()
