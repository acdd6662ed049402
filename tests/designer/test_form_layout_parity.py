"""The designer canvas lays every sample form out in the cells of the runtime form.

Both views are built with real widgets (offscreen); the cells are read back from
what each laid out — the canvas's geometries, the runtime's QGridLayouts — so the
test sees a drift however it comes about.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QGridLayout, QVBoxLayout

from designer.canvas import Canvas, CanvasArea
from designer.document import DesignerDocument
from runtime.spec.load import load_app
from runtime.ui.form_view import RecordFormView
from widgets.form_grid import GRID_COLUMNS, form_cells
from widgets.registry import default_registry

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_APPS = {
    folder.name: load_app(folder)
    for folder in sorted((ROOT / "sample_apps").iterdir())
    if (folder / "app.json").is_file()
}
SAMPLE_FORMS = [(name, form.key) for name, spec in SAMPLE_APPS.items() for form in spec.forms]

Cells = dict[str, tuple[int, int, int]]  # key -> (row, column, span)


def canvas_cells(canvas: Canvas) -> Cells:
    """Cells from the geometries of the canvas's items: columns are equal, rows share a top."""
    margins = canvas.grid.contentsMargins()
    area_width = canvas.width() - margins.left() - margins.right()
    spacing = canvas.grid.h_spacing
    pitch = (area_width - spacing * (GRID_COLUMNS - 1)) / GRID_COLUMNS + spacing
    rects = {key: cell.geometry() for key, cell in canvas.cells.items()}
    tops = sorted({rect.top() for rect in rects.values()})
    return {
        key: (
            tops.index(rect.top()),
            round((rect.left() - margins.left()) / pitch),
            round((rect.width() + spacing) / pitch),
        )
        for key, rect in rects.items()
    }


def runtime_cells(view: RecordFormView) -> Cells:
    """Cells from the form's column: a section is a row; each grid's rows follow on."""
    column = view.widget().layout()
    assert isinstance(column, QVBoxLayout)
    cells: Cells = {}
    first_row = 0
    for index in range(column.count()):
        item = column.itemAt(index)
        if item.widget() is not None:  # a section, across the whole form
            cells[_key(item.widget())] = (first_row, 0, GRID_COLUMNS)
            first_row += 1
        elif isinstance(item.layout(), QGridLayout):
            grid = item.layout()
            for position in range(grid.count()):
                row, col, _rows, span = grid.getItemPosition(position)
                cells[_key(grid.itemAt(position).widget())] = (first_row + row, col, span)
            first_row += grid.rowCount()
    return cells


def _key(container) -> str:
    return container.objectName().removeprefix("cell_")


@pytest.fixture
def sample_canvas(qtbot, tmp_path):
    """A shown canvas of one sample form, every preview built."""
    shown = []

    def open_canvas(app: str, form_key: str) -> Canvas:
        shutil.copytree(ROOT / "sample_apps" / app, tmp_path / app)
        canvas = Canvas(DesignerDocument.open(tmp_path / app), form_key)
        area = CanvasArea(canvas)
        qtbot.addWidget(area)
        area.resize(1000, 800)
        area.show()
        qtbot.waitExposed(area)
        canvas.build_all()
        QApplication.processEvents()
        shown.append(area)
        return canvas

    yield open_canvas
    for area in shown:
        area.close()


@pytest.mark.parametrize(("app", "form_key"), SAMPLE_FORMS)
def test_the_canvas_and_the_runtime_form_put_every_field_in_the_same_cell(
    qtbot, sample_canvas, app, form_key
):
    canvas = sample_canvas(app, form_key)
    form = canvas.document.spec.form(form_key)
    view = RecordFormView(form)
    qtbot.addWidget(view)
    view.resize(1000, 800)
    view.show()
    qtbot.waitExposed(view)

    designed, running = canvas_cells(canvas), runtime_cells(view)
    assert list(designed) == list(running) == [spec.key for spec in form.fields]
    assert designed == running
    expected = {c.key: (c.row, c.column, c.span) for c in form_cells(form.fields, view.registry)}
    assert running == expected


def test_the_sample_forms_cover_the_grid_cases():
    """Shared rows, wrapping, sections and full-width items all occur in the samples."""
    cells = [
        cell
        for spec in SAMPLE_APPS.values()
        for form in spec.forms
        for cell in form_cells(form.fields, default_registry)
    ]
    assert any(cell.heads_section for cell in cells)
    assert any(cell.column > 0 for cell in cells)
    assert {cell.span for cell in cells} >= {3, 4, 6, 8, 12}
