"""User and department fields: ids with names, single or multiple, and the picker."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from widgets.base import ExcelContext, FieldValueError, ReferenceSource
from widgets.editors._pickers import Chip
from widgets.editors.base import create_editor
from widgets.registry import default_registry

USER = default_registry.get("user")
DEPARTMENT = default_registry.get("department")

CONTEXT = ExcelContext(
    names={("user", 1): "张伟", ("user", 2): "李娜", ("department", 3): "ICU"},
    reverse_names={("user", "张伟"): 1, ("user", "李娜"): 2, ("department", "ICU"): 3},
)


def user_spec(**attributes):
    return USER.new_spec("nurse", "Nurse", **attributes)


def test_coerce_single_and_multiple():
    single, several = user_spec(), user_spec(multiple=True)
    assert USER.coerce(single, 5) == 5
    assert USER.coerce(single, 5.0) == 5
    assert USER.coerce(single, "#5") == 5
    assert USER.coerce(single, [5]) == 5
    assert USER.coerce(several, [3, 1, 3]) == [1, 3]
    assert USER.coerce(several, 4) == [4]
    assert USER.coerce(several, []) is None
    with pytest.raises(FieldValueError, match="only one user"):
        USER.coerce(single, [1, 2])
    for bad in (True, 0, -3, "张伟", 1.5, {"id": 1}):
        with pytest.raises(FieldValueError, match="choose a user"):
            USER.coerce(single, bad)


def test_sql_type_by_multiple():
    assert type(USER.sql_type(user_spec())).__name__ == "Integer"
    assert type(USER.sql_type(user_spec(multiple=True))).__name__ == "JSON"
    assert USER.reference_kind(user_spec()) == "user"
    assert DEPARTMENT.reference_kind(DEPARTMENT.new_spec("d", "D")) == "department"


def test_display_uses_names_and_falls_back_to_ids():
    several = user_spec(multiple=True)
    assert USER.display(several, [1, 2, 9], CONTEXT) == "张伟、李娜、#9"
    assert USER.display(user_spec(), 2, CONTEXT) == "李娜"
    assert USER.display(user_spec(), 2) == "#2"


def test_parse_names_ids_and_separators():
    several = user_spec(multiple=True)
    assert USER.parse(several, "李娜, 张伟", CONTEXT) == [1, 2]
    assert USER.parse(several, "李娜，#7；张伟;8", CONTEXT) == [1, 2, 7, 8]
    assert USER.parse(user_spec(), " 张伟 ", CONTEXT) == 1
    assert USER.parse(user_spec(), "#12", CONTEXT) == 12
    with pytest.raises(FieldValueError, match="no user named '王五'"):
        USER.parse(several, "张伟、王五", CONTEXT)
    with pytest.raises(FieldValueError, match="no department named 'ER'"):
        DEPARTMENT.parse(DEPARTMENT.new_spec("d", "D"), "ER", CONTEXT)


def test_excel_cells_from_both_readers():
    single = user_spec()
    assert USER.to_excel(single, 1, CONTEXT) == "张伟"
    assert USER.from_excel(single, "张伟", CONTEXT) == 1
    assert USER.from_excel(single, 7.0, CONTEXT) == 7  # calamine: a number cell
    assert USER.from_excel(single, 7, CONTEXT) == 7  # openpyxl
    assert USER.from_excel(single, None, CONTEXT) is None


def test_default_must_be_an_id():
    assert USER.check_spec(user_spec(default="nobody"))[0].attribute == "default"
    assert USER.check_spec(user_spec(default=3, default_current=True)) == []


class People(ReferenceSource):
    PEOPLE = {1: "Zhang Wei", 2: "Li Na", 3: "Wang Fang", 4: "Zhang Min"}

    def __init__(self) -> None:
        self.searches: list[str] = []

    def search_users(self, text, limit=50):
        self.searches.append(text)
        return [(i, n) for i, n in self.PEOPLE.items() if text.lower() in n.lower()]

    def name_of(self, kind, ident):
        return self.PEOPLE.get(ident, f"#{ident}")


def test_picker_types_searches_and_chooses_with_enter(qtbot):
    people = People()
    editor = create_editor(user_spec(), people)
    qtbot.addWidget(editor)
    editor.show()
    qtbot.keyClick(editor.picker.field, "z")  # typing opens the popup with that text
    popup = editor.picker.popup
    assert popup.isVisible() and popup.search_line.text() == "z"
    assert [popup.results.item(i).text() for i in range(popup.results.count())] == [
        "Zhang Wei",
        "Zhang Min",
    ]
    qtbot.keyClicks(popup.search_line, "hang m")  # debounced search
    qtbot.waitUntil(lambda: popup.results.count() == 1)
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(popup.search_line, Qt.Key.Key_Return)
    assert editor.value() == 4
    assert not popup.isVisible()
    assert "Zhang Min" in editor.picker.field.toolTip()


def test_picker_arrow_keys_and_clear(qtbot):
    editor = create_editor(user_spec(), People())
    qtbot.addWidget(editor)
    editor.show()
    editor.picker.open_popup()
    popup = editor.picker.popup
    qtbot.keyClick(popup.search_line, Qt.Key.Key_Down)
    assert popup.results.currentRow() == 1
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClick(popup.search_line, Qt.Key.Key_Return)
    assert editor.value() == 2
    with qtbot.waitSignal(editor.value_changed):
        qtbot.mouseClick(editor.picker.clear_button, Qt.MouseButton.LeftButton)
    assert editor.value() is None


def test_multiple_picker_toggles_and_removes_chips(qtbot):
    editor = create_editor(user_spec(multiple=True), People())
    qtbot.addWidget(editor)
    editor.show()
    editor.set_value([3])
    editor.picker.open_popup()
    popup = editor.picker.popup
    with qtbot.waitSignal(editor.value_changed):
        popup.results.itemActivated.emit(popup.results.item(0))  # Zhang Wei (1)
    assert popup.isVisible()  # stays open to pick several
    assert editor.value() == [1, 3]
    qtbot.waitUntil(lambda: len([c for c in editor.findChildren(Chip) if c.isVisible()]) == 2)
    chip = next(c for c in editor.findChildren(Chip) if c.isVisible() and c.ident == 3)
    with qtbot.waitSignal(editor.value_changed):
        qtbot.mouseClick(chip.remove_button, Qt.MouseButton.LeftButton)
    assert editor.value() == [1]


def test_set_value_is_silent_and_read_only_blocks_the_popup(qtbot):
    editor = create_editor(user_spec(), People())
    qtbot.addWidget(editor)
    with qtbot.assertNotEmitted(editor.value_changed):
        editor.set_value(2)
    editor.set_read_only(True)
    editor.picker.open_popup()
    assert not editor.picker.popup.isVisible()
    assert not editor.picker.choose_button.isVisibleTo(editor)
    assert editor.value() == 2
