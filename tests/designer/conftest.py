"""Designer widget fixtures: real windows offscreen, private settings and recovery."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from designer.canvas import Canvas, CanvasArea
from designer.document import DesignerDocument
from designer.files import RecoveryStore
from resources.i18n import install_language

ROOT = Path(__file__).resolve().parents[2]
REPAIR = ROOT / "sample_apps" / "equipment_repair"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Every test starts and ends in English (the translator is process-wide)."""
    install_language("en")
    yield
    install_language("en")


@pytest.fixture
def repair_folder(tmp_path) -> Path:
    """A private copy of the equipment repair package folder."""
    target = tmp_path / "equipment_repair"
    shutil.copytree(REPAIR, target)
    return target


@pytest.fixture
def document(repair_folder) -> DesignerDocument:
    return DesignerDocument.open(repair_folder)


@pytest.fixture
def canvas(qtbot, document) -> Iterator[Canvas]:
    """The repair request form on a shown canvas with every preview built."""
    view = Canvas(document, "request")
    area = CanvasArea(view)
    qtbot.addWidget(area)
    area.resize(1000, 800)
    area.show()
    qtbot.waitExposed(area)
    view.build_all()
    QApplication.processEvents()
    yield view
    area.close()
    area.deleteLater()
    QApplication.processEvents()


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def recovery(tmp_path) -> RecoveryStore:
    return RecoveryStore(tmp_path / "recovery")


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    """A dialog nobody answers would hang the run: unanswered questions fail instead."""

    def unexpected(*args, **kwargs):
        raise AssertionError(f"unexpected dialog: {args[1:3]}")

    monkeypatch.setattr(QMessageBox, "question", unexpected)
    monkeypatch.setattr(QMessageBox, "warning", unexpected)


@pytest.fixture
def window(qtbot, document, recovery, settings):
    from designer.main_window import DesignerWindow

    opened = DesignerWindow(document=document, recovery=recovery, settings=settings)
    opened.show()
    qtbot.waitExposed(opened)
    opened.canvas.show_form("request")
    opened.canvas.build_all()
    yield opened
    close_quietly(opened)


def close_quietly(window) -> None:
    """Close a designer window without the unsaved-changes question."""
    window.document.mark_saved()
    window.close()
    window.deleteLater()


def send_drop(widget, mime: QMimeData, pos: QPoint):
    """A drag entering, moving over and dropping at ``pos``; returns the marker
    geometry shown during the move and whether the drop was accepted."""
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    button, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(widget, QDragEnterEvent(pos, actions, mime, button, modifiers))
    QApplication.sendEvent(widget, QDragMoveEvent(pos, actions, mime, button, modifiers))
    marker = widget.marker.geometry() if widget.marker.isVisible() else None
    drop = QDropEvent(QPointF(pos), actions, mime, button, modifiers)
    QApplication.sendEvent(widget, drop)
    return marker, drop.isAccepted()


def keys(document: DesignerDocument, form: str = "request") -> list[str]:
    return [spec.key for spec in document.form(form).fields]


@pytest.fixture
def drop():
    return send_drop


@pytest.fixture
def field_keys():
    return keys
