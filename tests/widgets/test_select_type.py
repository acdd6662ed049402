"""The select type: matching values and labels, spec checks; dropdown and radio editors."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from widgets.base import FieldValueError
from widgets.editors.select import SelectEditor
from widgets.types.select import FIELD_TYPE as SELECT


@pytest.fixture
def spec():
    return SELECT.sample_spec()


@pytest.mark.parametrize("given", ["icu", "ICU", " 重症监护室 ", "Icu"])
def test_coerce_accepts_value_or_label(spec, given):
    assert SELECT.coerce(spec, given) == "icu"


def test_unknown_choice_names_the_choices(spec):
    with pytest.raises(FieldValueError) as error:
        SELECT.coerce(spec, "ward 9")
    assert (
        error.value.message == "'ward 9' is not one of the choices: 重症监护室, 急诊科, 内科三病区"
    )


def test_numbers_from_a_workbook_match_numeric_codes():
    spec = SELECT.new_spec(
        "grade", "Grade", options=[{"value": "1", "label": "一级"}, {"value": "2", "label": "二级"}]
    )
    assert SELECT.from_excel(spec, 2.0) == "2"
    assert SELECT.from_excel(spec, "一级") == "1"


def test_display_and_excel_give_the_label(spec):
    assert SELECT.display(spec, "er") == "急诊科"
    assert SELECT.to_excel(spec, "er") == "急诊科"
    assert SELECT.display(spec, "gone") == "gone"  # an option removed since


def test_validate_flags_removed_options(spec):
    with pytest.raises(FieldValueError, match="no longer"):
        SELECT.validate(spec, "gone")


def test_check_spec():
    assert SELECT.check_spec(SELECT.new_spec("s", "S")) == []
    empty = SELECT.new_spec("s", "S", options=[])
    assert [p.attribute for p in SELECT.check_spec(empty)] == ["options"]
    twice = SELECT.new_spec(
        "s", "S", options=[{"value": "a", "label": "Same"}, {"value": "A", "label": "same"}]
    )
    assert [p.attribute for p in SELECT.check_spec(twice)] == [
        "options[1].value",
        "options[1].label",
    ]
    bad_default = SELECT.new_spec("s", "S", default="nope")
    assert [p.attribute for p in SELECT.check_spec(bad_default)] == ["default"]


def test_spec_rejects_unknown_display():
    with pytest.raises(ValueError, match="display"):
        SELECT.spec_model.model_validate(
            {"key": "s", "type": "select", "label": "S", "display": "checkboxes"}
        )


# -- editors -------------------------------------------------------------------------


def test_dropdown_has_an_empty_first_entry(qtbot, spec):
    editor = SelectEditor(spec)
    qtbot.addWidget(editor)
    assert editor.combo.itemText(0) == "" and editor.value() is None
    with qtbot.waitSignal(editor.value_changed):
        editor.combo.setCurrentIndex(2)
    assert editor.value() == "er"


def test_dropdown_keeps_a_removed_option(qtbot, spec):
    editor = SelectEditor(spec)
    qtbot.addWidget(editor)
    with qtbot.assertNotEmitted(editor.value_changed):
        editor.set_value("old_ward")
    assert editor.value() == "old_ward"
    assert "removed" in editor.combo.currentText()


def test_radio_click_and_clear(qtbot):
    spec = SELECT.new_spec("s", "S", display="radio", **SELECT.sample_attributes)
    editor = SelectEditor(spec)
    qtbot.addWidget(editor)
    editor.show()
    assert editor.combo is None and len(editor.radios) == 3
    with qtbot.waitSignal(editor.value_changed):
        qtbot.mouseClick(editor.radios[1], Qt.MouseButton.LeftButton)
    assert editor.value() == "er"
    with qtbot.waitSignal(editor.value_changed):
        editor.clear_button.click()
    assert editor.value() is None
    assert not any(radio.isChecked() for radio in editor.radios)


def test_radio_set_value_is_silent_and_read_only_disables(qtbot):
    spec = SELECT.new_spec("s", "S", display="radio", **SELECT.sample_attributes)
    editor = SelectEditor(spec)
    qtbot.addWidget(editor)
    with qtbot.assertNotEmitted(editor.value_changed):
        editor.set_value("ward_3")
    assert editor.radios[2].isChecked()
    editor.set_read_only(True)
    assert not editor.radios[0].isEnabled()
