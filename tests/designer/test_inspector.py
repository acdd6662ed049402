"""The inspector: rows generated from spec models, edits as document commands."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from designer.inspector import Inspector
from designer.inspector_editors import (
    BoolProperty,
    ChoiceProperty,
    LineProperty,
    ReferenceProperty,
    SpinProperty,
)
from designer.inspector_widgets import ExpressionProperty, OptionsProperty, RegexProperty
from resources.messages import use_language
from widgets.registry import default_registry


@pytest.fixture
def inspector(qtbot, document) -> Inspector:
    view = Inspector(document)
    qtbot.addWidget(view)
    view.resize(400, 700)
    view.show()
    return view


def select(document, key: str, form: str = "request") -> None:
    document.set_selection([document.field_path(form, key)])


@pytest.mark.parametrize("type_name", default_registry.names())
def test_every_type_gets_rows_from_its_spec_model(qtbot, document, inspector, type_name):
    key = document.add_field("request", type_name, "Probe")
    select(document, key)
    model_fields = set(default_registry.get(type_name).spec_model.model_fields)
    assert set(inspector.rows) <= model_fields | {"key"}
    assert "label" in inspector.rows and "key" in inspector.rows
    assert "fields" not in inspector.rows and "type" not in inspector.rows


def test_editors_are_chosen_by_annotation(document, inspector):
    select(document, "fault")
    rows = inspector.rows
    assert isinstance(rows["label"].editor, LineProperty)
    assert isinstance(rows["required"].editor, BoolProperty)
    assert isinstance(rows["width"].editor, ChoiceProperty)
    assert isinstance(rows["visible_when"].editor, ExpressionProperty)
    assert isinstance(rows["max_length"].editor, SpinProperty)
    select(document, "urgency")
    assert isinstance(inspector.rows["options"].editor, OptionsProperty)
    select(document, "device")
    assert isinstance(inspector.rows["form"].editor, ReferenceProperty)
    assert isinstance(inspector.rows["display_field"].editor, ReferenceProperty)
    select(document, "total_cost")
    assert isinstance(inspector.rows["expression"].editor, ExpressionProperty)
    assert "default" not in inspector.rows  # computed: no default
    select(document, "repair")
    assert "required" not in inspector.rows  # a section has no value


def test_typing_a_label_is_one_undo_step(document, inspector):
    select(document, "fault")
    editor = inspector.rows["label"].editor
    count = document.undo_stack.count()
    old = document.field("request", "fault").label
    QTest.keyClicks(editor, " now")
    assert document.field("request", "fault").label == old + " now"
    assert document.undo_stack.count() == count + 1
    document.undo_stack.undo()
    assert document.field("request", "fault").label == old
    assert editor.text() == old  # the row follows the document


def test_refused_edits_show_inline(document, inspector):
    select(document, "fault")
    editor = inspector.rows["label"].editor
    editor.selectAll()
    QTest.keyClick(editor, Qt.Key.Key_Backspace)
    assert inspector.error_text("label")
    assert document.field("request", "fault").label  # unchanged
    QTest.keyClicks(editor, "X")
    assert inspector.error_text("label") == ""


def test_checkbox_choice_and_spin_edit_the_document(document, inspector):
    select(document, "fault")
    rows = inspector.rows
    rows["required"].editor.click()
    assert document.field("request", "fault").required is False
    choice = rows["width"].editor
    choice.activated.emit(choice.findData("1/2"))
    assert document.field("request", "fault").width == "1/2"
    rows["max_length"].editor.setValue(300)
    assert document.field("request", "fault").max_length == 300
    for _ in range(3):
        document.undo_stack.undo()
    assert document.field("request", "fault").required is True


def test_expression_editor_checks_against_the_form(document, inspector):
    select(document, "fault")
    editor = inspector.rows["visible_when"].editor
    QTest.keyClicks(editor.line, "nosuch > 1")
    assert editor.problem()
    editor.line.clear()
    QTest.keyClicks(editor.line, 'urgency = "critical"')
    assert not editor.problem()
    assert document.field("request", "fault").visible_when == 'urgency = "critical"'


def test_regex_editor_tries_a_sample(document, inspector):
    key = document.add_field("request", "text", "Code")
    select(document, key)
    editor = inspector.rows["pattern"].editor
    assert isinstance(editor, RegexProperty)
    QTest.keyClicks(editor.line, "[A-Z]{2}")
    QTest.keyClicks(editor.sample, "AB")
    assert "matches" in editor.status.text()
    assert document.field("request", key).pattern == "[A-Z]{2}"


def test_regex_editor_runs_in_bounded_time_like_the_runtime(document, inspector):
    """``(a|aa)+$`` took 22 s on 41 characters with Python's re, in the GUI thread."""
    key = document.add_field("request", "text", "Code")
    select(document, key)
    editor = inspector.rows["pattern"].editor
    QTest.keyClicks(editor.line, "(a|aa)+$")
    editor.sample.setText("a" * 10_000)
    started = time.perf_counter()
    QTest.keyClicks(editor.sample, "!")
    assert time.perf_counter() - started < 1
    assert "does not match" in editor.status.text()
    editor.line.clear()
    QTest.keyClicks(editor.line, "(a)\\1")
    assert "bounded time" in editor.status.text()


def test_options_table_adds_renames_moves_removes(document, inspector):
    select(document, "urgency")
    table = inspector.rows["options"].editor
    count = len(document.field("request", "urgency").options)
    table.add()
    options = document.field("request", "urgency").options
    assert len(options) == count + 1
    table.table.item(count, 0).setText("Low")
    assert document.field("request", "urgency").options[count].label == "Low"
    table.table.setCurrentCell(count, 0)
    table.move(-1)
    assert document.field("request", "urgency").options[count - 1].label == "Low"
    table.table.setCurrentCell(count - 1, 0)
    table.remove()
    assert len(document.field("request", "urgency").options) == count


def test_lookup_form_choice_fills_the_field_choice(document, inspector):
    select(document, "device")
    form_combo = inspector.rows["form"].editor
    assert form_combo.findData("device") >= 0
    fields = inspector.rows["display_field"].editor
    assert fields.findData("asset_no") >= 0


def test_key_is_editable_until_published(document, inspector, tmp_path):
    select(document, "fault")
    edit = inspector.key_edit
    edit.setText("problem")
    edit.editingFinished.emit()
    assert "problem" in document.field_keys("request")
    assert inspector.target == ("field", "request", "problem")
    document.publish(tmp_path / "app.fwapp")
    select(document, "problem")
    assert inspector.key_edit.isReadOnly()


def test_form_and_app_properties(document, inspector):
    document.set_selection([])
    inspector.set_current_form("request")
    assert inspector.target == ("form", "request")
    QTest.keyClicks(inspector.rows["title"].editor, "!")
    assert document.form("request").title.endswith("!")
    inspector.show_target(("app",))
    QTest.keyClicks(inspector.rows["title"].editor, "?")
    assert document.spec.title.endswith("?")


def test_default_is_read_by_the_field_type(document, inspector):
    select(document, "labour")
    editor = inspector.rows["default"].editor
    QTest.keyClicks(editor, "12")
    assert str(document.field("request", "labour").default) in ("12", "12.00", "12.0")
    QTest.keyClicks(editor, "x")
    assert inspector.error_text("default")


@pytest.mark.parametrize("type_name", ["multiselect", "subtable", "attachment", "user"])
def test_unique_is_offered_only_where_a_field_holds_one_value(document, inspector, type_name):
    select(document, "fault")
    assert "unique" in inspector.rows  # text: one value, one column
    key = document.add_field("request", type_name, "Probe")
    select(document, key)
    field = document.field("request", key)
    expected = "unique" in inspector.rows
    assert expected is (type_name == "user" and not field.multiple)


def test_a_unique_set_where_it_cannot_hold_stays_visible_to_untick(document, inspector):
    key = document.add_field("request", "multiselect", "Probe")
    document.set_field_property("request", key, "unique", True)  # as an old spec could say
    select(document, key)
    inspector.rows["unique"].editor.click()
    assert document.field("request", key).unique is False
    select(document, "fault")
    select(document, key)
    assert "unique" not in inspector.rows


def test_a_refused_key_is_explained_in_the_builders_language(document, inspector):
    select(document, "fault")
    edit = inspector.key_edit
    edit.setText("Bad Key")
    edit.editingFinished.emit()
    english = inspector.error_text("key")
    assert english.startswith("a key is lowercase letters")
    use_language("zh_CN")
    edit.setText("device")  # another field of the form has it
    edit.editingFinished.emit()
    assert inspector.error_text("key") == "“device”已被使用"
    edit.setText("id")  # reserved
    edit.editingFinished.emit()
    assert inspector.error_text("key") == "“id”是系统列名，请换一个标识"  # one sentence
