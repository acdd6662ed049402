"""Every file dialog of Formwright: open file(s), save a file, choose a folder.

A file dialog must never read the content of a file it lists. Qt's dialogs guess a
file's type (its icon and "Type" column) from its first bytes when the name has no
known extension — the ``-wal`` and ``-shm`` files of the open SQLite workspace, for
one — and on Linux closing that descriptor drops every lock SQLite holds in this
process (see ``widgets.protected_files``). So these dialogs are Qt's own (the GTK
native one guesses types too), with an icon provider that goes by name only, and
they hide the open database's files; choosing one anyway (by typing its name) is
refused with a message.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileInfo, QMimeDatabase, QModelIndex, QSortFilterProxyModel
from PySide6.QtGui import QAbstractFileIconProvider, QIcon
from PySide6.QtWidgets import (
    QFileDialog,
    QFileIconProvider,
    QFileSystemModel,
    QMessageBox,
    QWidget,
)

from widgets.protected_files import database_file_message, is_database_file

IconType = QAbstractFileIconProvider.IconType


class NameOnlyIconProvider(QAbstractFileIconProvider):
    """Icons and type names from a file's name, never from its content.

    Qt calls it on its file-information thread: it only returns icons made here, on
    the GUI thread, and asks the MIME database about names.
    """

    def __init__(self) -> None:
        super().__init__()
        # The stock icons by kind: QFileIconProvider.icon(IconType) reads no file.
        stock = QFileIconProvider()
        self._icons = {kind: stock.icon(kind) for kind in IconType}
        self._mime = QMimeDatabase()

    def icon(self, what: IconType | QFileInfo) -> QIcon:
        if isinstance(what, QFileInfo):
            if what.isRoot():
                what = IconType.Drive
            else:
                what = IconType.Folder if what.isDir() else IconType.File
        return self._icons.get(what, self._icons[IconType.File])

    def type(self, info: QFileInfo) -> str:
        if info.isDir():
            return QFileDialog.tr("Folder")
        # mimeTypesForFileName matches the name's glob patterns only: no read.
        found = self._mime.mimeTypesForFileName(info.fileName())
        return found[0].comment() if found else QFileDialog.tr("File")


class _WithoutDatabaseFiles(QSortFilterProxyModel):
    """The folder's entries minus the open database's files."""

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, QFileSystemModel):
            return True
        return not is_database_file(model.filePath(model.index(row, 0, parent)))


class FileDialog(QFileDialog):
    """Qt's own file dialog that reads no file it lists and refuses database files."""

    def __init__(self, parent: QWidget | None, caption: str, folder: str, filters: str):
        super().__init__(parent, caption, folder, filters)
        self.setOption(QFileDialog.Option.DontUseNativeDialog)
        self.setOption(QFileDialog.Option.DontUseCustomDirectoryIcons)
        self._icon_provider = NameOnlyIconProvider()  # the dialog does not own it
        self.setIconProvider(self._icon_provider)
        self.setProxyModel(_WithoutDatabaseFiles(self))

    def accept(self) -> None:
        refused = [name for name in self.selectedFiles() if is_database_file(name)]
        if refused:
            text = database_file_message(refused[0])
            QMessageBox.warning(self, self.tr("Choose another file"), text)
            return
        super().accept()


def _run(dialog: FileDialog) -> list[Path]:
    try:
        if dialog.exec() != QFileDialog.DialogCode.Accepted:
            return []
        return [Path(name) for name in dialog.selectedFiles()]
    finally:
        dialog.deleteLater()


def open_files(parent: QWidget | None, caption: str, folder: str = "", filters: str = ""):
    """Existing files the user picked (none when cancelled)."""
    dialog = FileDialog(parent, caption, folder, filters)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
    return _run(dialog)


def open_file(
    parent: QWidget | None, caption: str, folder: str = "", filters: str = ""
) -> Path | None:
    """One existing file, or None when cancelled."""
    dialog = FileDialog(parent, caption, folder, filters)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    chosen = _run(dialog)
    return chosen[0] if chosen else None


def save_file(
    parent: QWidget | None, caption: str, suggested: str = "", filters: str = ""
) -> tuple[Path | None, str]:
    """The file to write (None when cancelled) and the name filter the user chose."""
    dialog = FileDialog(parent, caption, suggested, filters)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    chosen = _run(dialog)  # the dialog is deleted later, after this call
    return (chosen[0] if chosen else None), dialog.selectedNameFilter()


def existing_directory(parent: QWidget | None, caption: str, folder: str = "") -> Path | None:
    """A folder, or None when cancelled."""
    dialog = FileDialog(parent, caption, folder, "")
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly)
    chosen = _run(dialog)
    return chosen[0] if chosen else None
