"""Department fields share the user machinery; check their own kind and editor."""

from __future__ import annotations

from PySide6.QtCore import Qt

from widgets.base import ExcelContext, ReferenceSource
from widgets.editors.base import create_editor
from widgets.registry import default_registry

DEPARTMENT = default_registry.get("department")


class Departments(ReferenceSource):
    def search_departments(self, text, limit=50):
        return [(i, n) for i, n in [(3, "ICU"), (5, "Emergency")] if text.lower() in n.lower()]

    def name_of(self, kind, ident):
        assert kind == "department"
        return {3: "ICU", 5: "Emergency"}.get(ident, f"#{ident}")


def test_multiple_round_trip_through_names():
    spec = DEPARTMENT.new_spec("wards", "Wards", multiple=True)
    context = ExcelContext(
        names={("department", 3): "ICU", ("department", 5): "Emergency"},
        reverse_names={("department", "ICU"): 3, ("department", "Emergency"): 5},
    )
    text = DEPARTMENT.to_excel(spec, [5, 3], context)
    assert text == "Emergency、ICU"
    assert DEPARTMENT.from_excel(spec, text, context) == [3, 5]
    assert DEPARTMENT.describe(spec).startswith("department names")


def test_editor_searches_departments(qtbot):
    editor = create_editor(DEPARTMENT.new_spec("ward", "Ward"), Departments())
    qtbot.addWidget(editor)
    editor.show()
    qtbot.keyClick(editor.picker.field, Qt.Key.Key_F4)
    popup = editor.picker.popup
    assert popup.results.count() == 2
    where = popup.results.visualItemRect(popup.results.item(1)).center()
    with qtbot.waitSignal(editor.value_changed):
        # QTest's double click needs the press before it, like a real one.
        qtbot.mouseClick(popup.results.viewport(), Qt.MouseButton.LeftButton, pos=where)
        qtbot.mouseDClick(popup.results.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert editor.value() == 5
    assert editor.picker.field.toolTip() == "Emergency"
