"""Lookup fields: references to another form and the record picker."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from widgets.base import ExcelContext, FieldValueError, Reference, ReferenceSource
from widgets.editors.base import create_editor
from widgets.registry import default_registry

LOOKUP = default_registry.get("lookup")


def spec(**attributes):
    attributes = {"form": "device", "display_field": "name"} | attributes
    return LOOKUP.new_spec("device", "Device", **attributes)


def test_references_and_kind():
    assert LOOKUP.references(spec()) == [
        Reference("form", "form", "device"),
        Reference("display_field", "field", ("device", "name")),
    ]
    assert LOOKUP.references(spec(display_field="")) == [Reference("form", "form", "device")]
    assert LOOKUP.references(spec(form="", display_field="")) == []
    assert LOOKUP.reference_kind(spec()) == ("record", "device", "name")


def test_check_spec_requires_form_and_field():
    palette = LOOKUP.new_spec("device", "Device")
    assert {p.attribute: p.message for p in LOOKUP.check_spec(palette)} == {
        "form": "choose the form to look up",
        "display_field": "choose the field to show",
    }
    assert LOOKUP.check_spec(spec()) == []


def test_names_through_context():
    context = ExcelContext(
        names={("record", "device"): "wrong kind", (("record", "device", "name"), 17): "Pump P-17"},
        reverse_names={(("record", "device", "name"), "Pump P-17"): 17},
    )
    assert LOOKUP.display(spec(), 17, context) == "Pump P-17"
    assert LOOKUP.parse(spec(), "Pump P-17", context) == 17
    assert LOOKUP.from_excel(spec(), 17.0, context) == 17
    with pytest.raises(FieldValueError, match="no record named 'Pump X'"):
        LOOKUP.parse(spec(), "Pump X", context)
    with pytest.raises(FieldValueError):
        LOOKUP.coerce(spec(), [1, 2])  # a lookup holds one record


class Records(ReferenceSource):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def search_records(self, form, display_field, text, limit=50):
        self.calls.append((form, display_field, text))
        return [(17, "Pump P-17"), (18, "Pump P-18")]

    def name_of(self, kind, ident):
        return f"{kind[1]} {ident}"


def test_editor_searches_the_target_form(qtbot):
    records = Records()
    editor = create_editor(spec(), records)
    qtbot.addWidget(editor)
    editor.show()
    editor.set_value(18)
    assert editor.picker.field.toolTip() == "device 18"
    qtbot.keyClick(editor.picker.field, Qt.Key.Key_Return)
    assert records.calls[-1] == ("device", "name", "")
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(editor.picker.popup.search_line, Qt.Key.Key_Return)
    assert editor.value() == 17


def test_editor_without_a_form_finds_nothing(qtbot):
    records = Records()
    editor = create_editor(LOOKUP.new_spec("device", "Device"), records)
    qtbot.addWidget(editor)
    editor.picker.open_popup()
    assert records.calls == []
    assert editor.picker.popup.status.text() == "No matches"
