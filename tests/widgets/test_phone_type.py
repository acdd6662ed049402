"""The phone type: normalisation of mobiles, landlines, extensions; its editor."""

from __future__ import annotations

import pytest

from widgets.base import FieldValueError
from widgets.editors.phone import PhoneEditor
from widgets.types.phone import FIELD_TYPE as PHONE


@pytest.fixture
def spec():
    return PHONE.new_spec("phone", "Phone")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("(010) 1234 5678", "010-12345678"),
        ("0571-8888888", "0571-8888888"),
        ("020 8888 6666 转 123", "020-88886666-123"),
        ("0571-88886666 ext. 45", "0571-88886666-45"),
        ("6021", "6021"),
        ("88886666", "88886666"),
        ("400 123 4567", "400-123-4567"),
    ],
)
def test_normalises(spec, typed, stored):
    assert PHONE.coerce(spec, typed) == stored


@pytest.mark.parametrize("bad", ["12", "1380013800", "138001380001", "phone", "010-123"])
def test_rejects_with_an_example(spec, bad):
    with pytest.raises(FieldValueError) as error:
        PHONE.coerce(spec, bad)
    assert error.value.message == "please enter a phone number like 13800138000 or 010-12345678"


def test_excel_number_cell(spec):
    assert PHONE.from_excel(spec, 13800138000.0) == "13800138000"


def test_validate_wants_the_canonical_form(spec):
    PHONE.validate(spec, "010-12345678")
    with pytest.raises(FieldValueError):
        PHONE.validate(spec, "010 12345678")


def test_editor_rewrites_on_leaving_and_marks(qtbot, spec):
    editor = PhoneEditor(spec)
    qtbot.addWidget(editor)
    editor.show()
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClicks(editor.line, "138 0013 8000")
    assert editor.value() == "13800138000"
    assert editor.mark.text() == "✓"
    editor.line.editingFinished.emit()
    assert editor.line.text() == "13800138000"


def test_editor_keeps_invalid_text_for_validation(qtbot, spec):
    editor = PhoneEditor(spec)
    qtbot.addWidget(editor)
    qtbot.keyClicks(editor.line, "12")
    assert editor.mark.text() == ""  # not scolded while typing
    editor.line.editingFinished.emit()
    assert editor.mark.text() == "✗" and "13800138000" in editor.mark.toolTip()
    assert editor.value() == "12"
    assert editor.problem() is not None
