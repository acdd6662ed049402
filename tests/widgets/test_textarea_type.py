"""Multi-line text and its editor."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from widgets.base import FieldValueError
from widgets.editors.textarea import TextAreaEditor
from widgets.types.textarea import FIELD_TYPE as TEXTAREA


def test_line_breaks_are_normalised():
    spec = TEXTAREA.new_spec("notes", "Notes")
    assert TEXTAREA.coerce(spec, "a\r\nb\rc") == "a\nb\nc"
    assert TEXTAREA.parse(spec, "  第一行\n第二行  ") == "第一行\n第二行"
    assert TEXTAREA.coerce(spec, " \n ") is None


def test_max_length_and_column():
    spec = TEXTAREA.new_spec("notes", "Notes", max_length=10)
    TEXTAREA.validate(spec, "0123456789")
    with pytest.raises(FieldValueError, match="at most 10 characters"):
        TEXTAREA.validate(spec, "0123456789x")
    assert isinstance(TEXTAREA.sql_type(spec), sa.String)
    assert isinstance(TEXTAREA.sql_type(TEXTAREA.new_spec("n", "N")), sa.Text)


def test_editor_multiline_typing_and_counter(qtbot):
    editor = TextAreaEditor(TEXTAREA.new_spec("notes", "Notes", max_length=5))
    qtbot.addWidget(editor)
    editor.show()
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClicks(editor.text, "ab")
    qtbot.keyClick(editor.text, Qt.Key.Key_Return)
    qtbot.keyClicks(editor.text, "cde")
    assert editor.value() == "ab\ncde"
    assert editor.counter.text() == "6 / 5" and "c62828" in editor.counter.styleSheet()


def test_editor_set_value_is_silent_and_tab_leaves(qtbot):
    editor = TextAreaEditor(TEXTAREA.new_spec("notes", "Notes"))
    qtbot.addWidget(editor)
    with qtbot.assertNotEmitted(editor.value_changed):
        editor.set_value("多行\n文本")
    assert editor.value() == "多行\n文本"
    assert editor.text.tabChangesFocus()
    assert not editor.counter.isVisible()
    editor.set_read_only(True)
    assert editor.text.isReadOnly()
