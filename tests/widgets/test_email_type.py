"""The e-mail type and its editor."""

from __future__ import annotations

import pytest

from widgets.base import FieldValueError
from widgets.editors.email import EmailEditor
from widgets.types.email import FIELD_TYPE as EMAIL


@pytest.fixture
def spec():
    return EMAIL.new_spec("email", "E-mail")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Zhang.San@Hospital.CN", "Zhang.San@hospital.cn"),
        ("  nurse@ward3.example.com ", "nurse@ward3.example.com"),
        ("ｎｕｒｓｅ＠ｈｏｓｐ．ｃｎ", "nurse@hosp.cn"),
        ("mailto:it@example.org", "it@example.org"),
    ],
)
def test_normalises(spec, typed, stored):
    assert EMAIL.coerce(spec, typed) == stored


@pytest.mark.parametrize(
    "bad", ["a@b", "a..b@c.cn", ".a@b.cn", "a b@c.cn", "a@-b.cn", "@b.cn", "a@b.c", "张三"]
)
def test_rejects(spec, bad):
    with pytest.raises(FieldValueError, match=r"like name@hospital\.cn"):
        EMAIL.coerce(spec, bad)


def test_length_limits(spec):
    with pytest.raises(FieldValueError):
        EMAIL.coerce(spec, "a" * 65 + "@b.cn")
    with pytest.raises(FieldValueError, match="at most 254"):
        EMAIL.coerce(spec, "a@" + ("b" * 60 + ".") * 5 + "cn")


def test_editor(qtbot, spec):
    editor = EmailEditor(spec)
    qtbot.addWidget(editor)
    with qtbot.waitSignal(editor.value_changed):
        qtbot.keyClicks(editor.line, "Li@Hospital.CN")
    assert editor.value() == "Li@hospital.cn"
    assert editor.mark.text() == "✓"
    editor.set_value(None)
    assert editor.value() is None and editor.mark.text() == ""
