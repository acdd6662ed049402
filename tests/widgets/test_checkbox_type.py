"""The checkbox type: False is a value; many ways to say yes and no; its editor."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from widgets.base import FieldValueError
from widgets.editors.checkbox import CheckboxEditor
from widgets.types.checkbox import FIELD_TYPE as CHECKBOX


@pytest.fixture
def spec():
    return CHECKBOX.new_spec("urgent", "Urgent")


def test_false_is_not_empty():
    assert not CHECKBOX.is_empty(False)
    assert CHECKBOX.is_empty(None)


@pytest.mark.parametrize("word", ["是", "对", "有", "yes", "Y", "TRUE", "1", "√", "✓", "Yes"])
def test_yes_words(spec, word):
    assert CHECKBOX.parse(spec, word) is True


@pytest.mark.parametrize("word", ["否", "错", "无", "no", "n", "False", "0", "×", "✗", "No"])
def test_no_words(spec, word):
    assert CHECKBOX.parse(spec, word) is False


@pytest.mark.parametrize("bad", ["maybe", "2", 2, 0.5, [True]])
def test_other_answers_are_refused(spec, bad):
    with pytest.raises(FieldValueError, match="yes or no"):
        CHECKBOX.coerce(spec, bad)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(True, True), (False, False), (1, True), (0.0, False), ("是", True), ("FALSE", False)],
)
def test_from_excel(spec, cell, expected):
    assert CHECKBOX.from_excel(spec, cell) is expected


def test_cells_are_real_booleans(spec):
    assert CHECKBOX.to_excel(spec, False) is False
    assert CHECKBOX.display(spec, False) == "No"
    assert CHECKBOX.display(spec, True) == "Yes"
    assert CHECKBOX.expression_type(spec) == "boolean"


def test_editor_is_unanswered_until_clicked(qtbot, spec):
    editor = CheckboxEditor(spec)
    qtbot.addWidget(editor)
    editor.show()
    assert editor.value() is None
    with qtbot.waitSignal(editor.value_changed):
        qtbot.mouseClick(editor.box, Qt.MouseButton.LeftButton)
    assert editor.value() is True
    qtbot.mouseClick(editor.box, Qt.MouseButton.LeftButton)
    assert editor.value() is False  # a real "no", not empty


def test_editor_keyboard_and_silent_set(qtbot, spec):
    editor = CheckboxEditor(spec)
    qtbot.addWidget(editor)
    editor.show()
    with qtbot.assertNotEmitted(editor.value_changed):
        editor.set_value(False)
    assert editor.value() is False
    editor.box.setFocus()
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(editor.box, Qt.Key.Key_Space)
    assert editor.value() is True
    editor.set_read_only(True)
    assert not editor.box.isEnabled()
