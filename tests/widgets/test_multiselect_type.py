"""The multiselect type: order, duplicates, separators, limits; both editors."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from widgets.base import FieldValueError
from widgets.editors.multiselect import MultiSelectEditor
from widgets.types.multiselect import FIELD_TYPE as MULTI


@pytest.fixture
def spec():
    return MULTI.sample_spec()


def test_values_are_in_option_order_without_duplicates(spec):
    assert MULTI.coerce(spec, ["seafood", "penicillin", "seafood"]) == ["penicillin", "seafood"]
    assert MULTI.coerce(spec, []) is None
    assert MULTI.coerce(spec, "") is None


@pytest.mark.parametrize(
    "text",
    ["青霉素、海鲜", "青霉素, 海鲜", "海鲜，青霉素", "penicillin;seafood", "青霉素；SEAFOOD"],
)
def test_parse_splits_on_common_separators(spec, text):
    assert MULTI.parse(spec, text) == ["penicillin", "seafood"]


def test_a_label_containing_a_separator_is_one_option():
    spec = MULTI.new_spec(
        "m", "M", options=[{"value": "a", "label": "Fever, high"}, {"value": "b", "label": "Cough"}]
    )
    assert MULTI.parse(spec, "Fever, high") == ["a"]


def test_unknown_item(spec):
    with pytest.raises(FieldValueError, match="'花粉' is not one of the choices"):
        MULTI.parse(spec, "青霉素、花粉")


def test_display_excel_json(spec):
    value = ["penicillin", "sulfa"]
    assert MULTI.display(spec, value) == "青霉素、磺胺类"
    assert MULTI.to_excel(spec, value) == "青霉素、磺胺类"
    assert MULTI.from_excel(spec, "青霉素、磺胺类") == value
    assert MULTI.to_json(spec, value) == value
    assert MULTI.expression_type(spec) == "list"


def test_min_and_max_selected():
    spec = MULTI.new_spec("m", "M", min_selected=2, max_selected=3, **MULTI.sample_attributes)
    MULTI.validate(spec, ["penicillin", "sulfa"])
    MULTI.validate(spec, None)  # emptiness is the caller's "required" check
    with pytest.raises(FieldValueError, match="at least 2 options"):
        MULTI.validate(spec, ["penicillin"])
    with pytest.raises(FieldValueError, match="at most 3 options"):
        MULTI.validate(spec, ["penicillin", "cephalosporin", "sulfa", "seafood"])


def test_check_spec_limits(spec):
    assert MULTI.check_spec(spec) == []
    crossed = MULTI.new_spec("m", "M", min_selected=2, max_selected=1)
    assert [p.attribute for p in MULTI.check_spec(crossed)] == ["min_selected"]
    too_many = MULTI.new_spec("m", "M", max_selected=3)  # two default options
    assert [p.attribute for p in MULTI.check_spec(too_many)] == ["max_selected"]


# -- editors -------------------------------------------------------------------------


def test_checkbox_column(qtbot, spec):
    editor = MultiSelectEditor(spec)
    qtbot.addWidget(editor)
    editor.show()
    assert len(editor.items) == 4
    with qtbot.waitSignal(editor.value_changed):
        qtbot.mouseClick(editor.items[3], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.items[0], Qt.MouseButton.LeftButton)
    assert editor.value() == ["penicillin", "seafood"]
    qtbot.mouseClick(editor.items[0], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.items[3], Qt.MouseButton.LeftButton)
    assert editor.value() is None


def test_set_value_is_silent_and_keeps_removed_options(qtbot, spec):
    editor = MultiSelectEditor(spec)
    qtbot.addWidget(editor)
    with qtbot.assertNotEmitted(editor.value_changed):
        editor.set_value(["sulfa", "old_code"])
    assert editor.items[2].isChecked()
    assert editor.value() == ["sulfa", "old_code"]


def test_dropdown_menu_stays_open_while_picking(qtbot):
    spec = MULTI.new_spec("m", "M", display="dropdown", **MULTI.sample_attributes)
    editor = MultiSelectEditor(spec)
    qtbot.addWidget(editor)
    editor.show()
    assert editor.button.text() == "Choose…"
    menu = editor.menu
    menu.popup(editor.mapToGlobal(QPoint(0, 0)))
    qtbot.waitUntil(menu.isVisible)
    for index in (2, 0):
        geometry = menu.actionGeometry(editor.items[index])
        with qtbot.waitSignal(editor.value_changed):
            qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=geometry.center())
        assert menu.isVisible()
    assert editor.value() == ["penicillin", "sulfa"]
    assert editor.button.text() == "青霉素、磺胺类"
    menu.close()


def test_read_only(qtbot, spec):
    editor = MultiSelectEditor(spec)
    qtbot.addWidget(editor)
    editor.set_read_only(True)
    assert editor.is_read_only() and not editor.items[0].isEnabled()
