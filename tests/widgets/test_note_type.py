"""Note: static text, layout only."""

from __future__ import annotations

import pydantic
import pytest
from PySide6.QtCore import Qt

from widgets.editors.note import NoteEditor
from widgets.types.note import FIELD_TYPE as NOTE


def test_layout_only_with_text():
    spec = NOTE.new_spec("hint", "Hint", text="第一行\n第二行")
    assert not NOTE.has_value and NOTE.sql_type(spec) is None
    assert NOTE.check_spec(spec) == []
    assert [p.attribute for p in NOTE.check_spec(NOTE.new_spec("n", "N", unique=True))] == [
        "unique"
    ]


def test_text_is_limited():
    with pytest.raises(pydantic.ValidationError):
        NOTE.new_spec("hint", "Hint", text="x" * 5001)


def test_editor_shows_plain_wrapped_text(qtbot):
    spec = NOTE.new_spec("hint", "Hint", text="<b>not bold</b>\nline two")
    editor = NoteEditor(spec)
    qtbot.addWidget(editor)
    assert editor.text.text() == "<b>not bold</b>\nline two"
    assert editor.text.textFormat() == Qt.TextFormat.PlainText
    assert editor.text.wordWrap()
    editor.set_value("anything")
    assert editor.value() is None
