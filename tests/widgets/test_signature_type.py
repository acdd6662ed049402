"""Signatures: one PNG FileRef and the pen pad."""

from __future__ import annotations

import hashlib

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from widgets.base import FieldValueError
from widgets.editors.base import create_editor
from widgets.registry import default_registry

SIGNATURE = default_registry.get("signature")
SPEC = SIGNATURE.new_spec("signed_by", "Signed by")
REF = {"name": "signature.png", "size": 10, "sha256": hashlib.sha256(b"s").hexdigest(),
       "mime": "image/png"}  # fmt: skip


def test_value_is_one_png():
    assert SIGNATURE.coerce(SPEC, REF) == REF
    assert SIGNATURE.coerce(SPEC, [REF]) == REF
    with pytest.raises(FieldValueError):
        SIGNATURE.coerce(SPEC, [REF, REF])
    with pytest.raises(FieldValueError, match="must be a PNG"):
        SIGNATURE.validate(SPEC, REF | {"mime": "image/jpeg"})
    with pytest.raises(FieldValueError, match="too large"):
        SIGNATURE.validate(SPEC, REF | {"size": 3 * 1024 * 1024})
    assert SIGNATURE.display(SPEC, REF) == "signed"
    assert SIGNATURE.to_excel(SPEC, REF) == "signed"
    with pytest.raises(FieldValueError):
        SIGNATURE.from_excel(SPEC, "signed")


def draw(qtbot, pad, points):
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=points[0])
    for point in points[1:]:
        qtbot.mouseMove(pad, point)
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=points[-1])


def make_editor(qtbot):
    editor = create_editor(SPEC)
    qtbot.addWidget(editor)
    editor.resize(400, 200)
    editor.show()
    return editor


def test_drawing_makes_a_png_value(qtbot):
    editor = make_editor(qtbot)
    assert editor.value() is None and not editor.clear_button.isEnabled()
    with qtbot.waitSignal(editor.value_changed):
        draw(qtbot, editor.pad, [QPoint(20, 60), QPoint(60, 40), QPoint(120, 80)])
    value = editor.value()
    assert value["mime"] == "image/png" and value["name"] == "signature.png"
    png = editor.pending[value["sha256"]]
    assert hashlib.sha256(png).hexdigest() == value["sha256"] and len(png) == value["size"]
    image = QImage.fromData(png)
    assert not image.isNull() and image.pixelColor(0, 0).alpha() == 0  # transparent paper
    assert editor.value() == value  # rendered once, stable
    SIGNATURE.validate(SPEC, value)
    assert editor.status.text() == "Signed"


def test_clear_and_sign_again(qtbot):
    editor = make_editor(qtbot)
    draw(qtbot, editor.pad, [QPoint(20, 60), QPoint(90, 70)])
    first = editor.value()
    with qtbot.waitSignal(editor.value_changed):
        qtbot.mouseClick(editor.clear_button, Qt.MouseButton.LeftButton)
    assert editor.value() is None and editor.pending == {}
    draw(qtbot, editor.pad, [QPoint(30, 30), QPoint(200, 90)])
    assert editor.value()["sha256"] != first["sha256"]


def test_set_value_shows_the_known_image_and_drawing_replaces_it(qtbot):
    editor = make_editor(qtbot)
    draw(qtbot, editor.pad, [QPoint(20, 60), QPoint(90, 70)])
    value = editor.value()
    editor.set_value(None)
    with qtbot.assertNotEmitted(editor.value_changed):
        editor.set_value(value)
    assert editor.pad.image is not None and editor.value() == value
    editor.set_value(REF)  # bytes unknown here: just "signed"
    assert editor.pad.image is None and editor.pad.signed and editor.value() == REF
    draw(qtbot, editor.pad, [QPoint(10, 10), QPoint(50, 50)])
    assert not editor.pad.signed and editor.value() != REF


def test_read_only_pad_ignores_the_pen(qtbot):
    editor = make_editor(qtbot)
    editor.set_value(REF)
    editor.set_read_only(True)
    with qtbot.assertNotEmitted(editor.value_changed):
        draw(qtbot, editor.pad, [QPoint(20, 60), QPoint(90, 70)])
    assert editor.value() == REF
    assert not editor.clear_button.isVisibleTo(editor)
