"""Images: fixed picture extensions and the thumbnail editor."""

from __future__ import annotations

import hashlib

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QListView

from widgets.base import FieldValueError
from widgets.editors.base import create_editor
from widgets.registry import default_registry

IMAGE = default_registry.get("image")


def test_only_pictures_are_allowed():
    spec = IMAGE.new_spec("photos", "Photos")
    assert not hasattr(spec, "extensions")
    pic = {"name": "x.webp", "size": 10, "sha256": hashlib.sha256(b"x").hexdigest(),
           "mime": "image/webp"}  # fmt: skip
    IMAGE.validate(spec, [pic])
    with pytest.raises(FieldValueError, match=r"'x\.pdf' is not an allowed file type"):
        IMAGE.validate(spec, [pic | {"name": "x.pdf"}])
    assert IMAGE.excel_roundtrip is False and IMAGE.text_roundtrip is False


def test_editor_shows_thumbnails(qtbot, tmp_path):
    picture = QImage(64, 32, QImage.Format.Format_RGB32)
    picture.fill(QColor("tomato"))
    picture.save(str(tmp_path / "wound.png"))
    (tmp_path / "notes.txt").write_text("no")
    editor = create_editor(IMAGE.new_spec("photos", "Photos"))
    qtbot.addWidget(editor)
    assert editor.list.viewMode() == QListView.ViewMode.IconMode
    with qtbot.waitSignal(editor.files_added):
        editor.add_files([tmp_path / "wound.png", tmp_path / "notes.txt"])
    assert "'notes.txt' is not an allowed file type" in editor.message.text()
    assert editor.value()[0]["mime"] == "image/png"
    icon = editor.list.item(0).icon()
    size = icon.actualSize(editor.list.iconSize())
    assert (size.width(), size.height()) == (96, 48)  # scaled from the real picture
