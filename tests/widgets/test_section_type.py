"""Section: a layout item with a header editor and no value."""

from __future__ import annotations

from widgets.editors.section import SectionEditor
from widgets.types.section import FIELD_TYPE as SECTION


def test_layout_only():
    spec = SECTION.new_spec("vitals", "Vital signs", collapsed=True)
    assert not SECTION.has_value and SECTION.sql_type(spec) is None
    assert SECTION.group == "layout"
    assert SECTION.check_spec(spec) == []


def test_value_attributes_are_flagged():
    spec = SECTION.new_spec("vitals", "Vital signs", required=True, default="x")
    assert sorted(p.attribute for p in SECTION.check_spec(spec)) == ["default", "required"]


def test_header_editor(qtbot):
    spec = SECTION.new_spec("vitals", "Vital signs <b>", collapsed=True)
    editor = SectionEditor(spec)
    qtbot.addWidget(editor)
    assert editor.title.text() == "Vital signs <b>"
    editor.set_value("ignored")
    assert editor.value() is None
    assert editor.is_collapsed()
    with qtbot.waitSignal(editor.collapsed_changed) as blocker:
        editor.toggle.click()
    assert blocker.args == [False] and not editor.is_collapsed()
