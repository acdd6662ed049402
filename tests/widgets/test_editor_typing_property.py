"""Every registered field type's editor stores exactly what the user enters
(issue #11 §2), checked with real key events and Hypothesis.

* Types typed as text: typing the display text of a random valid value stores
  exactly that value; typing a random invalid text stores nothing (``value()`` is
  ``None``, or the text itself for types whose service names the problem) and
  :meth:`FieldEditor.problem` gives the message the form shows under the field —
  never another value.
* Types chosen rather than typed are driven by their real keyboard interaction
  (arrow keys in a combo, space on check boxes, typing a name into a picker).
* Types with no text entry at all say why below, and keys typed into them change
  nothing; :func:`test_every_registered_type_is_covered` fails for a new type that
  is in none of these groups.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import string
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QCheckBox, QComboBox

from widgets.base import FieldValueError, ReferenceSource
from widgets.editors.base import FieldEditor, create_editor
from widgets.registry import default_registry
from widgets.types.id_card import check_character

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Characters QTest can type (Latin-1 keys); Chinese input is an input method's job.
TYPABLE = string.ascii_letters + string.digits + " .,-_/#()"

# -- the specs tried, per type ------------------------------------------------------

SPECS = {
    "text": {"max_length": 20},
    "textarea": {"max_length": 40},
    # The unit is shown beside the field, not typed (and QTest types Latin-1 only).
    "number": {"decimals": 2, "min": -1000, "max": 100000, "unit": ""},
    "date": {"min": "1950-01-01", "max": "2079-12-31"},
    "datetime": {"min": "1950-01-01T00:00", "max": "2079-12-31T23:59"},
    "time": {"min": "06:00", "max": "22:00"},
    "phone": {},
    "email": {},
    "id_card": {},
}


def spec_of(type_name: str, **extra):
    field_type = default_registry.get(type_name)
    attributes = {**field_type.sample_attributes, **SPECS.get(type_name, {}), **extra}
    return field_type, field_type.new_spec("f", "F", **attributes)


def is_valid(field_type, spec, value) -> bool:
    try:
        field_type.validate(spec, field_type.coerce(spec, value))
    except FieldValueError:
        return False
    return True


# -- valid values and invalid texts, per text-typed type ------------------------------

DATES = st.dates(dt.date(1950, 1, 1), dt.date(2079, 12, 31))
DATE_FORMATS = st.sampled_from(["{:%Y-%m-%d}", "{:%Y/%-m/%-d}", "{:%Y%m%d}", "{:%Y.%-m.%-d}"])
TIMES = st.times(dt.time(6, 0), dt.time(22, 0)).map(lambda t: t.replace(second=0, microsecond=0))
TIME_FORMATS = st.sampled_from(["{:%H:%M}", "{:%H%M}", "{0.hour}:{0:%M}"])


def _id_number(day: dt.date, sequence: int) -> str:
    first17 = f"110105{day:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


VALID = {
    "text": st.text(TYPABLE, min_size=1, max_size=20).filter(str.strip),
    "textarea": st.text(TYPABLE, min_size=1, max_size=40).filter(str.strip),
    "number": st.decimals(-1000, 100000, places=2, allow_nan=False, allow_infinity=False),
    "date": DATES,
    "datetime": st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2079, 12, 31, 23, 59)).map(
        lambda moment: moment.replace(second=0, microsecond=0)
    ),
    "time": TIMES,
    "phone": st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    "email": st.from_regex(r"[a-z][a-z0-9.]{0,8}[a-z]@[a-z]{2,8}\.(cn|com|org)", fullmatch=True),
    "id_card": st.builds(
        _id_number, st.dates(dt.date(1950, 1, 1), dt.date(2010, 12, 31)), st.integers(0, 999)
    ),
}

#: Other ways of writing a valid value that must be read as that same value.
SPELLINGS = {
    "date": lambda draw, value: draw(DATE_FORMATS).format(value),
    "time": lambda draw, value: draw(TIME_FORMATS).format(value),
    "datetime": lambda draw, value: (
        draw(DATE_FORMATS).format(value.date()) + " " + draw(TIME_FORMATS).format(value.time())
    ),
}

GARBAGE = st.text(TYPABLE + ":", min_size=1, max_size=16).filter(str.strip)
INVALID = {
    "text": st.text(TYPABLE, min_size=21, max_size=30),  # over max_length
    "textarea": st.text(TYPABLE, min_size=41, max_size=50),
    "number": st.one_of(
        st.just("-"),
        st.decimals(
            Decimal("100000.01"), 10**9, places=2, allow_nan=False, allow_infinity=False
        ).map(str),
        st.decimals(
            -(10**9), Decimal("-1000.01"), places=2, allow_nan=False, allow_infinity=False
        ).map(str),
    ),
    "date": st.one_of(
        GARBAGE,
        st.dates(dt.date(1800, 1, 1), dt.date(1949, 12, 31)).map("{:%Y-%m-%d}".format),
        st.tuples(st.integers(1, 12), st.integers(1, 12))
        .filter(lambda p: p[0] != p[1])
        .map(lambda p: f"{p[0]}/{p[1]}/2024"),  # ambiguous
        st.builds("2023-{:02d}-{:02d}".format, st.integers(13, 99), st.integers(1, 28)),
    ),
    "datetime": st.one_of(
        GARBAGE,
        st.builds("2024-05-10 {:02d}:{:02d}".format, st.integers(24, 99), st.integers(0, 59)),
    ),
    "time": st.one_of(
        GARBAGE,
        st.times(dt.time(0, 0), dt.time(5, 59)).map("{:%H%M}".format),  # below the minimum
        st.builds("{:02d}:{:02d}".format, st.integers(0, 23), st.integers(60, 99)),
    ),
    "phone": st.from_regex(r"[0-9]{2,6}[a-z][0-9]{0,4}|1[0-9]{9}|1[0-9]{11}", fullmatch=True),
    "email": st.one_of(st.from_regex(r"[a-z]{1,8}(@[a-z]{1,8})?", fullmatch=True), GARBAGE),
    "id_card": st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True),
}
TEXT_TYPES = sorted(VALID)


def make(qtbot, spec, references=None) -> FieldEditor:
    editor = create_editor(spec, references)
    qtbot.addWidget(editor)
    editor.show()
    return editor


def type_text(qtbot, editor: FieldEditor, text: str) -> None:
    """Type into the editor's own entry widget and finish as a user would."""
    target = editor.focusProxy() or editor
    target.setFocus()
    qtbot.keyClicks(target, text)
    if editor.spec.type != "textarea":  # Enter is a new line there
        qtbot.keyClick(target, Qt.Key.Key_Return)


@pytest.mark.parametrize("type_name", TEXT_TYPES)
@EXAMPLES
@given(data=st.data())
def test_typing_the_display_text_stores_exactly_that_value(qtbot, type_name, data):
    field_type, spec = spec_of(type_name)
    drawn = data.draw(VALID[type_name])
    assume(is_valid(field_type, spec, drawn))  # e.g. "a..a@aa.cn" is not an address
    value = field_type.coerce(spec, drawn)
    assume(value is not None)
    spell = SPELLINGS.get(type_name)
    text = spell(data.draw, value) if spell and data.draw(st.booleans()) else None
    text = text or field_type.display(spec, value)
    editor = make(qtbot, spec)
    type_text(qtbot, editor, text)
    assert editor.value() == value, text
    assert editor.problem() is None, text


@pytest.mark.parametrize("type_name", TEXT_TYPES)
@EXAMPLES
@given(data=st.data())
def test_typing_invalid_text_stores_nothing_and_says_why(qtbot, type_name, data):
    field_type, spec = spec_of(type_name)
    text = data.draw(INVALID[type_name])
    with contextlib.suppress(FieldValueError):  # unreadable: invalid for sure
        assume(not is_valid(field_type, spec, field_type.parse(spec, text)))
    editor = make(qtbot, spec)
    type_text(qtbot, editor, text)
    typed = editor.focusProxy()
    shown = typed.text() if hasattr(typed, "text") else typed.toPlainText()
    assert editor.problem(), text
    # Nothing else is ever stored: no value, the text as typed (phone, e-mail and ID
    # return it for the service to name), or the out-of-range value typed.
    stored = editor.value()
    assert stored in (None, shown, shown.strip()) or stored == field_type.parse(spec, shown)


def test_number_keys_that_cannot_be_in_a_number_are_refused(qtbot):
    _field_type, spec = spec_of("number")
    editor = make(qtbot, spec)
    type_text(qtbot, editor, "12a.5x0")
    assert editor.line.text() == "12.50" and editor.value() == Decimal("12.50")


# -- types chosen with the keyboard ---------------------------------------------------


class Directory(ReferenceSource):
    """People, wards and records to pick from."""

    NAMES = {1: "Zhang Wei", 2: "Li Na", 3: "Wang Fang", 4: "Zhao Min"}

    def _search(self, text):
        return [(i, n) for i, n in self.NAMES.items() if text.lower() in n.lower()]

    def search_users(self, text, limit=50):
        return self._search(text)

    def search_departments(self, text, limit=50):
        return self._search(text)

    def search_records(self, form, display_field, text, limit=50):
        return self._search(text)

    def name_of(self, kind, ident):
        return self.NAMES.get(ident, f"#{ident}")


@pytest.mark.parametrize("type_name", ["user", "department", "lookup"])
@EXAMPLES
@given(ident=st.sampled_from(sorted(Directory.NAMES)), cut=st.integers(1, 5))
def test_pickers_store_the_name_typed_and_chosen_with_enter(qtbot, type_name, ident, cut):
    _field_type, spec = spec_of(type_name)
    editor = make(qtbot, spec, Directory())
    name = Directory.NAMES[ident]
    qtbot.keyClicks(editor.picker.field, name[:cut])  # opens the search with those keys
    popup = editor.picker.popup
    qtbot.keyClicks(popup.search_line, name[cut:])
    qtbot.keyClick(popup.search_line, Qt.Key.Key_Return)
    assert editor.value() == ([ident] if getattr(spec, "multiple", False) else ident)
    assert editor.problem() is None


@EXAMPLES
@given(choice=st.integers(0, 3))
def test_select_by_arrow_keys_stores_that_option(qtbot, choice):
    field_type, spec = spec_of("select")
    options = spec.options
    editor = make(qtbot, spec)
    combo = editor.findChild(QComboBox)
    combo.setFocus()
    for _step in range(min(choice, len(options)) + 1):
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    expected = options[min(choice, len(options) - 1)].value
    assert editor.value() == expected and field_type.display(spec, expected) == combo.currentText()


@EXAMPLES
@given(presses=st.integers(1, 5))
def test_checkbox_by_space_stores_yes_or_no(qtbot, presses):
    _field_type, spec = spec_of("checkbox")
    editor = make(qtbot, spec)
    box = editor.findChild(QCheckBox)
    box.setFocus()
    for _press in range(presses):
        qtbot.keyClick(box, Qt.Key.Key_Space)
    assert editor.value() is (presses % 2 == 1)


@EXAMPLES
@given(data=st.data())
def test_multiselect_by_space_stores_the_options_ticked(qtbot, data):
    _field_type, spec = spec_of("multiselect")
    values = [option.value for option in spec.options]
    ticked = data.draw(st.sets(st.sampled_from(values)))
    editor = make(qtbot, spec)
    for box, value in zip(editor.items, values, strict=True):
        if value in ticked:
            box.setFocus()
            qtbot.keyClick(box, Qt.Key.Key_Space)
    assert editor.value() == ([v for v in values if v in ticked] or None)


@EXAMPLES
@given(presses=st.integers(1, 12))
def test_rating_by_arrow_keys_stores_the_stars(qtbot, presses):
    _field_type, spec = spec_of("rating")
    editor = make(qtbot, spec)
    editor.setFocus()
    for _press in range(presses):
        qtbot.keyClick(editor, Qt.Key.Key_Right)
    assert editor.value() == min(presses, spec.max)


@EXAMPLES
@given(price=st.decimals(0, 99999, places=2, allow_nan=False, allow_infinity=False))
def test_subtable_cells_store_what_is_typed(qtbot, price):
    """A subtable is typed cell by cell with its columns' own editors."""
    _field_type, spec = spec_of("subtable")
    editor = make(qtbot, spec)
    editor.add_row()
    column = [child.key for child in spec.fields].index("price")
    editor.table.setFocus()
    editor.table.setCurrentIndex(editor.model.index(0, column))
    text = default_registry.get("number").display(spec.fields[column], price)
    qtbot.keyClicks(editor.table, text[0])
    (cell,) = [e for e in editor.table.viewport().findChildren(FieldEditor) if e.isVisible()]
    qtbot.keyClicks(cell.focusProxy(), text[1:])
    qtbot.keyClick(cell.focusProxy(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.table.state() != QAbstractItemView.State.EditingState)
    assert editor.model.rows[0]["price"] == price


# -- types with no text entry -----------------------------------------------------------

NO_TEXT_ENTRY = {
    "serial": "assigned by the engine when the record is created; shown read-only",
    "formula": "computed from other fields; shown read-only",
    "attachment": "files come from a file dialog or drag and drop, not from keys",
    "image": "pictures come from a file dialog or drag and drop, not from keys",
    "signature": "drawn with the mouse or a pen on a pad",
    "section": "a layout item: it has no value",
    "note": "a layout item: it has no value",
}
CHOSEN = {"user", "department", "lookup", "select", "checkbox", "multiselect", "rating"}
CHOSEN |= {"subtable"}


@pytest.mark.parametrize("type_name", sorted(NO_TEXT_ENTRY))
def test_keys_typed_into_editors_without_text_entry_change_nothing(qtbot, type_name):
    _field_type, spec = spec_of(type_name)
    editor = make(qtbot, spec)
    before = editor.value()
    editor.setFocus()
    qtbot.keyClicks(
        editor.focusWidget() or editor, "2024-05-10x12"
    )  # no space: it would press a button
    assert editor.value() == before
    assert editor.problem() is None


def test_every_registered_type_is_covered():
    covered = set(TEXT_TYPES) | CHOSEN | set(NO_TEXT_ENTRY)
    assert set(default_registry.names()) <= covered
    assert not set(TEXT_TYPES) & set(NO_TEXT_ENTRY)
