"""The rating type (1..max stars, 0 = not rated) and the star editor."""

from __future__ import annotations

from decimal import Decimal

import pydantic
import pytest
from PySide6.QtCore import Qt

from widgets.base import FieldValueError
from widgets.editors.rating import RatingEditor
from widgets.types.rating import FIELD_TYPE as RATING


@pytest.fixture
def spec():
    return RATING.new_spec("score", "Score")


@pytest.mark.parametrize("bad_max", [2, 11])
def test_max_is_3_to_10(bad_max):
    with pytest.raises(pydantic.ValidationError):
        RATING.new_spec("s", "S", max=bad_max)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (3, 3),
        (3.0, 3),
        (Decimal(3), 3),
        ("3", 3),
        ("3/5", 3),
        ("3星", 3),
        ("★★★☆☆", 3),
        ("★★★", 3),
        (0, None),
        ("0", None),
        ("☆☆☆☆☆", None),
        ("", None),
    ],
)
def test_coerce(spec, given, expected):
    assert RATING.coerce(spec, given) == expected


@pytest.mark.parametrize("bad", [2.5, True, "good", [3]])
def test_coerce_refuses(spec, bad):
    with pytest.raises(FieldValueError):
        RATING.coerce(spec, bad)


def test_validate_range(spec):
    RATING.validate(spec, 5)
    with pytest.raises(FieldValueError, match="1 to 5 stars"):
        RATING.validate(spec, 6)
    with pytest.raises(FieldValueError, match="1 to 5 stars"):
        RATING.validate(spec, -1)


def test_display_stars_and_excel_numbers(spec):
    assert RATING.display(spec, 3) == "★★★☆☆"
    assert RATING.to_excel(spec, 3) == 3
    assert RATING.from_excel(spec, 4.0) == 4
    assert RATING.expression_type(spec) == "number"


@pytest.fixture
def editor(qtbot):
    widget = RatingEditor(RATING.new_spec("score", "Score", max=10))
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_editor_click_and_click_again_clears(editor, qtbot):
    assert len(editor.stars) == 10
    with qtbot.waitSignal(editor.value_changed):
        qtbot.mouseClick(editor.stars[3], Qt.MouseButton.LeftButton)
    assert editor.value() == 4
    assert editor.caption.text() == "4 / 10"
    with qtbot.waitSignal(editor.value_changed):
        qtbot.mouseClick(editor.stars[3], Qt.MouseButton.LeftButton)
    assert editor.value() is None


def test_editor_keyboard(editor, qtbot):
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key.Key_7)
    assert editor.value() == 7
    qtbot.keyClick(editor, Qt.Key.Key_Right)
    qtbot.keyClick(editor, Qt.Key.Key_Right)
    qtbot.keyClick(editor, Qt.Key.Key_Right)
    assert editor.value() == 10  # stops at max
    qtbot.keyClick(editor, Qt.Key.Key_Left)
    assert editor.value() == 9
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert editor.value() is None
    qtbot.keyClick(editor, Qt.Key.Key_Left)
    assert editor.value() is None


def test_editor_read_only_ignores_input(editor, qtbot):
    editor.set_value(2)
    editor.set_read_only(True)
    with qtbot.assertNotEmitted(editor.value_changed):
        qtbot.mouseClick(editor.stars[5], Qt.MouseButton.LeftButton)
        qtbot.keyClick(editor, Qt.Key.Key_5)
    assert editor.value() == 2
