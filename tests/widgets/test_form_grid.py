"""The form grid (widgets.form_grid): cells of a form's items, without Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from widgets.form_grid import (
    GRID_COLUMNS,
    FormCell,
    GridCell,
    column_extent,
    form_cells,
    place,
    rows_of,
    span_of,
)
from widgets.registry import default_registry

ROOT = Path(__file__).resolve().parents[2]


def field(key: str, width: str = "1", type_name: str = "text", **attributes):
    field_type = default_registry.get(type_name)
    return field_type.new_spec(key, key.title(), width=width, **attributes)


def section(key: str, width: str = "1"):
    return field(key, width, "section")


def placed(fields) -> list[tuple[str, int, int, int]]:
    """(key, row, column, span) of each item."""
    return [(c.key, c.row, c.column, c.span) for c in form_cells(fields, default_registry)]


@pytest.mark.parametrize(
    ("width", "span"),
    [("1", 12), ("3/4", 9), ("2/3", 8), ("1/2", 6), ("1/3", 4), ("1/4", 3)],
)
def test_a_width_spans_its_share_of_the_columns(width, span):
    assert span_of(width) == span


def test_an_unknown_width_and_a_full_row_item_take_the_whole_row():
    assert span_of("2/7") == GRID_COLUMNS
    assert span_of("1/4", full_row=True) == GRID_COLUMNS


def test_items_fill_a_row_and_one_that_does_not_fit_starts_the_next():
    assert place([4, 4, 4, 6, 8, 3, 3, 3, 3, 12]) == [
        GridCell(0, 0, 4),
        GridCell(0, 4, 4),
        GridCell(0, 8, 4),
        GridCell(1, 0, 6),
        GridCell(2, 0, 8),
        GridCell(2, 8, 3),
        GridCell(3, 0, 3),
        GridCell(3, 3, 3),
        GridCell(3, 6, 3),
        GridCell(4, 0, 12),
    ]


def test_no_items_no_cells():
    assert place([]) == [] and form_cells([], default_registry) == []


def test_widths_of_fields_wrap_into_rows():
    fields = [field("a", "1/3"), field("b", "2/3"), field("c", "1/2"), field("d", "3/4")]
    assert placed(fields) == [("a", 0, 0, 4), ("b", 0, 4, 8), ("c", 1, 0, 6), ("d", 2, 0, 9)]


def test_full_width_items_take_a_row_of_their_own():
    fields = [
        field("a", "1/2"),
        field("notes", "1", "textarea"),
        field("b", "1/4"),
        field("guide", "1", "note"),
    ]
    assert placed(fields) == [
        ("a", 0, 0, 6),
        ("notes", 1, 0, 12),
        ("b", 2, 0, 3),
        ("guide", 3, 0, 12),
    ]


def test_a_section_takes_a_whole_row_whatever_its_width_and_holds_the_items_after_it():
    fields = [
        field("a", "1/2"),
        section("first", "1/3"),
        field("b", "1/2"),
        field("c", "1/2"),
        section("second"),
        section("third"),
        field("d", "1/4"),
    ]
    cells = form_cells(fields, default_registry)
    assert cells == [
        FormCell(0, 0, 6, "a"),
        FormCell(1, 0, 12, "first", None, True),
        FormCell(2, 0, 6, "b", "first"),
        FormCell(2, 6, 6, "c", "first"),
        FormCell(3, 0, 12, "second", None, True),
        FormCell(4, 0, 12, "third", None, True),
        FormCell(5, 0, 3, "d", "third"),
    ]


def test_visibility_rules_do_not_move_items():
    """The runtime hides a field in its cell: the grid is the same with or without rules."""
    plain = [field("a", "1/2"), field("b", "1/2"), field("c", "1/2")]
    ruled = [plain[0], field("b", "1/2", visible_when="a = 'x'"), plain[2]]
    assert placed(ruled) == placed(plain) == [("a", 0, 0, 6), ("b", 0, 6, 6), ("c", 1, 0, 6)]


def test_rows_of_groups_cell_indexes_by_row():
    assert rows_of(place([4, 8, 6, 12, 3])) == [[0, 1], [2], [3], [4]]
    assert rows_of([]) == []


def test_column_extent_divides_the_width_into_equal_columns():
    # 12 columns of 60 px with 16 px between them: 12 * 60 + 11 * 16 = 896.
    assert column_extent(GridCell(0, 0, 12), 896, 16) == (0, 896)
    assert column_extent(GridCell(0, 0, 1), 896, 16) == (0, 60)
    assert column_extent(GridCell(0, 4, 4), 896, 16) == (304, 288)
    assert column_extent(GridCell(0, 9, 3), 896, 16) == (684, 212)


def test_the_grid_loads_without_qt():
    """The Qt-free contract, checked in a fresh interpreter as well as by import-linter."""
    code = "import sys; sys.modules['PySide6'] = None; import widgets.form_grid"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
