"""PRC resident ID numbers: check digit, birth date, messages; helpers; the editor."""

from __future__ import annotations

import datetime as dt

import pytest

from widgets.base import FieldValueError
from widgets.editors.id_card import IdCardEditor
from widgets.types.id_card import FIELD_TYPE as ID_CARD
from widgets.types.id_card import birth_date, check_character, id_problem, sex

VALID = "11010519491231002X"


@pytest.fixture
def spec():
    return ID_CARD.new_spec("id_no", "ID number")


def test_check_character_of_a_known_number():
    assert check_character(VALID[:17]) == "X"


def test_normalises_case_spaces_and_full_width(spec):
    assert ID_CARD.coerce(spec, "110105 19491231 002x") == VALID
    assert ID_CARD.coerce(spec, "１１０１０５１９４９１２３１００２Ｘ") == VALID


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("110105491231002", "old 15-digit IDs are not accepted; please enter the 18-digit number"),
        ("11010519491231002", "an ID number has 18 characters (this one has 17)"),
        ("1101051949123100XX", "an ID number has 17 digits followed by a digit or X"),
        ("01010519491231002X", "an ID number cannot start with 0"),
        ("110105194902300023", "the birth date in the number (19490230) is not a real date"),
        ("110105299901010029", "the birth date in the number (2999-01-01) is not possible"),
        ("110105194912310021", "the check digit does not match — please check the number"),
    ],
)
def test_messages_a_nurse_understands(spec, number, message):
    with pytest.raises(FieldValueError) as error:
        ID_CARD.coerce(spec, number)
    assert error.value.message == message


def test_birth_date_not_in_the_future():
    number = "11010520240316001"
    number += check_character(number)
    assert id_problem(number, today=dt.date(2024, 3, 16)) is None
    assert "not possible" in id_problem(number, today=dt.date(2024, 3, 15))


def test_helpers():
    assert birth_date(VALID) == dt.date(1949, 12, 31)
    assert sex(VALID) == "female"
    assert sex("440305199001011256") == "male"
    assert birth_date("110105194912310021") is None and sex("bad") is None


def test_a_number_cell_is_refused_because_excel_rounds_it(spec):
    with pytest.raises(FieldValueError, match="as text"):
        ID_CARD.from_excel(spec, 110105194912310020.0)
    assert ID_CARD.from_excel(spec, VALID.lower()) == VALID


def test_editor_live_mark_shows_birth_date(qtbot, spec):
    editor = IdCardEditor(spec)
    qtbot.addWidget(editor)
    qtbot.keyClicks(editor.line, VALID[:10])
    assert editor.mark.text() == ""  # incomplete: no verdict yet
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClicks(editor.line, VALID[10:].lower())
    assert editor.value() == VALID
    assert editor.mark.text().startswith("✓") and "1949-12-31" in editor.mark.text()


def test_editor_marks_a_wrong_check_digit_at_once(qtbot, spec):
    editor = IdCardEditor(spec)
    qtbot.addWidget(editor)
    qtbot.keyClicks(editor.line, "110105194912310021")
    assert editor.mark.text() == "✗"
    assert "check digit" in editor.mark.toolTip()
    assert editor.value() == "110105194912310021"  # kept for the form's validation
