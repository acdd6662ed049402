"""Attachments: FileRef values, limits, and the file-list editor."""

from __future__ import annotations

import hashlib
import json

import pytest
from PySide6.QtCore import Qt

from widgets.base import FieldValueError
from widgets.editors.base import create_editor
from widgets.registry import default_registry
from widgets.types._files import FileRef, extension_of, file_ref, make_file_ref, size_text

ATTACHMENT = default_registry.get("attachment")
MB = 1024 * 1024


def spec(**attributes):
    attributes = {"max_files": 2, "max_size_mb": 1, "extensions": ["pdf", "jpg"]} | attributes
    return ATTACHMENT.new_spec("files", "Files", **attributes)


def ref(name="scan.pdf", size=100, mime="application/pdf"):
    return {"name": name, "size": size, "sha256": hashlib.sha256(name.encode()).hexdigest(),
            "mime": mime}  # fmt: skip


def test_extensions_are_normalised_and_checked():
    assert spec(extensions=[".PDF", "jpg", "pdf"]).extensions == ["pdf", "jpg"]
    with pytest.raises(Exception, match="not a file extension"):
        spec(extensions=["p d f"])
    with pytest.raises(Exception, match="max_size_mb"):
        spec(max_size_mb=500)


def test_coerce_checks_the_shape():
    assert ATTACHMENT.coerce(spec(), [ref()]) == [ref()]
    assert ATTACHMENT.coerce(spec(), ref()) == [ref()]  # one file given alone
    assert ATTACHMENT.coerce(spec(), [FileRef(**ref())]) == [ref()]
    upper = ref() | {"sha256": ref()["sha256"].upper()}
    assert ATTACHMENT.coerce(spec(), [upper]) == [ref()]
    assert ATTACHMENT.coerce(spec(), []) is None
    for bad in ("scan.pdf", [ref() | {"sha256": "abc"}], [ref(name="../etc/passwd")],
                [ref(size=-1)], [ref() | {"extra": 1}], [{"name": "x.pdf"}]):  # fmt: skip
        with pytest.raises(FieldValueError, match="not"):
            ATTACHMENT.coerce(spec(), bad)


def test_validate_limits_with_clear_messages():
    with pytest.raises(FieldValueError, match="at most 2 files"):
        ATTACHMENT.validate(spec(), [ref("a.pdf"), ref("b.pdf"), ref("c.pdf")])
    with pytest.raises(
        FieldValueError, match=r"'scan.exe' is not an allowed file type \(pdf, jpg\)"
    ):
        ATTACHMENT.validate(spec(), [ref("scan.exe")])
    with pytest.raises(FieldValueError, match=r"'big\.pdf' is larger than 1 MB"):
        ATTACHMENT.validate(spec(), [ref("big.pdf", size=MB + 1)])
    ATTACHMENT.validate(spec(extensions=[]), [ref("anything.exe")])
    ATTACHMENT.validate(spec(), [ref("SCAN.PDF")])  # extension case doesn't matter


def test_text_and_excel():
    value = [ref("a.pdf"), ref("b.jpg", mime="image/jpeg")]
    assert ATTACHMENT.display(spec(), value) == "a.pdf, b.jpg"
    assert ATTACHMENT.to_excel(spec(), value) == "a.pdf, b.jpg"
    with pytest.raises(FieldValueError, match="can't be entered as text"):
        ATTACHMENT.parse(spec(), "a.pdf")
    with pytest.raises(FieldValueError, match="can't be entered as text"):
        ATTACHMENT.from_excel(spec(), "a.pdf, b.jpg")
    as_json = json.dumps([ref("a.pdf")])
    assert ATTACHMENT.parse(spec(), as_json) == [ref("a.pdf")]
    assert "pdf, jpg" in ATTACHMENT.describe(spec())
    assert ATTACHMENT.check_spec(spec(default=[ref()]))[0].message == "files can't have a default"


def test_helpers():
    assert extension_of("Report.Final.PDF") == "pdf"
    assert extension_of(".bashrc") == "" and extension_of("README") == ""
    assert size_text(512) == "512 B" and size_text(2048) == "2 KB" and size_text(3 * MB) == "3.0 MB"
    made = make_file_ref("x.pdf", b"%PDF-1.4")
    assert made == file_ref(made) and made["mime"] == "application/pdf" and made["size"] == 8


# -- editor -------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4 report")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8 jpeg")
    (tmp_path / "tool.exe").write_bytes(b"MZ")
    (tmp_path / "huge.pdf").write_bytes(b"0" * (MB + 1))
    (tmp_path / "third.pdf").write_bytes(b"%PDF third")
    return tmp_path


def make_editor(qtbot, **attributes):
    editor = create_editor(spec(**attributes))
    qtbot.addWidget(editor)
    editor.show()
    return editor


def test_add_files_keeps_bytes_pending_and_emits(qtbot, files):
    editor = make_editor(qtbot)
    with (
        qtbot.waitSignal(editor.value_changed),
        qtbot.waitSignal(editor.files_added) as added_signal,
    ):
        added = editor.add_files([files / "report.pdf"])
    assert added_signal.args == [[files / "report.pdf"]]
    data = b"%PDF-1.4 report"
    assert added == [make_file_ref("report.pdf", data)]
    assert editor.value() == added
    assert editor.pending == {hashlib.sha256(data).hexdigest(): data}
    assert editor.list.count() == 1 and "report.pdf" in editor.list.item(0).text()
    assert not editor.message.isVisibleTo(editor)


def test_refused_files_are_explained(qtbot, files):
    editor = make_editor(qtbot)
    with qtbot.assertNotEmitted(editor.value_changed):
        editor.add_files([files / "tool.exe", files / "huge.pdf", files / "missing.pdf"])
    text = editor.message.text()
    assert "'tool.exe' is not an allowed file type (pdf, jpg)" in text
    assert "'huge.pdf' is larger than 1 MB" in text
    assert "'missing.pdf' can't be read" in text
    assert editor.message.isVisibleTo(editor) and editor.value() is None
    editor.add_files([files / "report.pdf", files / "report.pdf"])
    assert "already attached" in editor.message.text()
    editor.add_files([files / "photo.jpg", files / "third.pdf"])
    assert "at most 2 files" in editor.message.text()
    assert [r["name"] for r in editor.value()] == ["report.pdf", "photo.jpg"]
    assert not editor.add_button.isEnabled()


def test_remove_selected(qtbot, files):
    editor = make_editor(qtbot)
    editor.add_files([files / "report.pdf", files / "photo.jpg"])
    editor.list.item(0).setSelected(True)
    assert editor.remove_button.isEnabled()
    with qtbot.waitSignal(editor.value_changed):
        qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert [r["name"] for r in editor.value()] == ["photo.jpg"]
    assert len(editor.pending) == 1


def test_file_bytes_from_pending_or_references(qtbot, files):
    class Store:
        def __init__(self):
            self.asked = []

        def read_file(self, sha256):
            self.asked.append(sha256)
            return b"stored"

    stored = ref("old.pdf")
    editor = create_editor(spec(), Store())
    qtbot.addWidget(editor)
    editor.set_value([stored])
    assert editor.file_bytes(stored) == b"stored"
    alone = make_editor(qtbot)
    alone.set_value([stored])
    alone.list.item(0).setSelected(True)
    alone.open_selected()  # no bytes here: explains instead of failing
    assert "save it first" in alone.message.text()


def test_read_only_hides_changes_but_keeps_the_list(qtbot, files):
    editor = make_editor(qtbot)
    editor.set_value([ref("a.pdf")])
    editor.set_read_only(True)
    assert editor.add_files([files / "report.pdf"]) == []
    assert not editor.add_button.isVisibleTo(editor)
    editor.list.item(0).setSelected(True)
    assert editor.open_button.isEnabled() and not editor.remove_button.isEnabled()
    assert editor.value() == [ref("a.pdf")]
