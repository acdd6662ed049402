"""Editor of images: the attachment editor with thumbnails in a grid."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QListView, QListWidget

from resources import icons
from widgets.editors.attachment import AttachmentEditor
from widgets.types._files import size_text

THUMBNAIL = 96


class ImageEditor(AttachmentEditor):
    """Thumbnails come from the bytes added here or from the application."""

    def __init__(self, spec, references=None, parent=None) -> None:
        self._thumbnails: dict[str, QIcon] = {}
        super().__init__(spec, references, parent)

    def _make_list(self) -> QListWidget:
        pictures = QListWidget(self)
        pictures.setViewMode(QListView.ViewMode.IconMode)
        pictures.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        pictures.setGridSize(QSize(THUMBNAIL + 28, THUMBNAIL + 36))
        pictures.setResizeMode(QListView.ResizeMode.Adjust)
        pictures.setMovement(QListView.Movement.Static)
        pictures.setWordWrap(True)
        pictures.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        pictures.setMinimumHeight(THUMBNAIL + 44)
        return pictures

    def _item_icon(self, ref: dict[str, Any]) -> QIcon:
        sha256 = ref["sha256"]
        if sha256 not in self._thumbnails:
            self._thumbnails[sha256] = self._thumbnail(ref)
        return self._thumbnails[sha256]

    def _thumbnail(self, ref: dict[str, Any]) -> QIcon:
        data = self.file_bytes(ref)
        pixmap = QPixmap()
        if data is None or not pixmap.loadFromData(data):
            return icons.icon("mdi6.image-outline", color="#8a97ad")
        return QIcon(
            pixmap.scaled(
                THUMBNAIL,
                THUMBNAIL,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def _item_text(self, ref: dict[str, Any]) -> str:
        return ref["name"]

    def _dialog_filter(self) -> str:
        extensions = self.field_type.allowed_extensions(self.spec)
        patterns = " ".join(f"*.{ext}" for ext in extensions)
        return self.tr("Pictures ({patterns})").format(patterns=patterns)

    def _empty_text(self) -> str:
        return self.tr("No pictures yet. Click Add… or drop pictures here.")

    def _hint_text(self) -> str:
        return self.tr("Up to {count} pictures, {size} MB each").format(
            count=self.spec.max_files, size=self.spec.max_size_mb
        )

    def _refresh(self) -> None:
        super()._refresh()
        for index in range(self.list.count()):
            item = self.list.item(index)
            ref = item.data(Qt.ItemDataRole.UserRole)
            item.setToolTip(f"{ref['name']}\n{size_text(ref['size'])}")
