"""Editor of attachments: a file list with Add, Remove, Open and Save as.

Editors don't own storage: files added here are read into :attr:`pending`
(``sha256 → bytes``) and announced by ``files_added``; the form saves the bytes
with the record. Bytes of files already stored come from the reference source's
``read_file(sha256)``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent, QIcon
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
)

from resources import icons
from widgets.editors import file_dialogs
from widgets.editors.base import FieldEditor
from widgets.protected_files import database_file_message, is_database_file
from widgets.registry import default_registry
from widgets.types._files import file_problem, make_file_ref, size_text

REF_ROLE = Qt.ItemDataRole.UserRole
MIME_ICONS = {
    "application/pdf": "mdi6.file-pdf-box",
    "image/": "mdi6.file-image-outline",
    "application/msword": "mdi6.file-word-outline",
    "application/vnd.openxmlformats-officedocument.wordprocessingml": "mdi6.file-word-outline",
    "application/vnd.ms-excel": "mdi6.file-excel-outline",
    "application/vnd.openxmlformats-officedocument.spreadsheetml": "mdi6.file-excel-outline",
    "text/": "mdi6.file-document-outline",
}
DROP_ZONE_STYLE = (
    "QLabel { border: 1px dashed palette(mid); border-radius: 4px; padding: 14px;"
    " color: palette(placeholder-text); background: palette(base); }"
)


class AttachmentEditor(FieldEditor):
    files_added = Signal(list)  # list[pathlib.Path] accepted by add_files

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.field_type = default_registry.of(spec)
        self.pending: dict[str, bytes] = {}
        self._refs: list[dict[str, Any]] = []
        self.layout_.setDirection(QBoxLayout.Direction.TopToBottom)
        self.layout_.setSpacing(4)
        self.list = self._make_list()
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.list.itemDoubleClicked.connect(lambda _item: self.open_selected())
        self.drop_zone = QLabel(self._empty_text(), self)
        self.drop_zone.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_zone.setStyleSheet(DROP_ZONE_STYLE)
        self.layout_.addWidget(self.list, 1)
        self.layout_.addWidget(self.drop_zone, 1)
        self.layout_.addLayout(self._make_buttons())
        self.hint = QLabel(self._hint_text(), self)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(placeholder-text);")
        self.layout_.addWidget(self.hint)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b3261e;")
        self.message.hide()
        self.layout_.addWidget(self.message)
        self.setAcceptDrops(True)
        self.setFocusProxy(self.add_button)
        self._refresh()

    # -- construction (image overrides) --------------------------------------
    def _make_list(self) -> QListWidget:
        files = QListWidget(self)
        files.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        files.setIconSize(QSize(22, 22))
        files.setMinimumHeight(70)
        return files

    def _item_icon(self, ref: dict[str, Any]) -> QIcon:
        mime = ref["mime"]
        name = next((icon for prefix, icon in MIME_ICONS.items() if mime.startswith(prefix)), None)
        return icons.icon(name or "mdi6.file-outline", color="#4a5d7e")

    def _item_text(self, ref: dict[str, Any]) -> str:
        return f"{ref['name']}   ({size_text(ref['size'])})"

    def _dialog_filter(self) -> str:
        extensions = self.field_type.allowed_extensions(self.spec)
        if not extensions:
            return self.tr("All files (*)")
        patterns = " ".join(f"*.{ext}" for ext in extensions)
        return self.tr("Allowed files ({patterns})").format(patterns=patterns)

    def _make_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.add_button = self._button("mdi6.file-plus-outline", self.tr("Add…"), self.choose_files)
        self.remove_button = self._button(
            "mdi6.delete-outline", self.tr("Remove"), self.remove_selected
        )
        self.open_button = self._button("mdi6.open-in-new", self.tr("Open"), self.open_selected)
        self.save_button = self._button(
            "mdi6.content-save-outline", self.tr("Save as…"), self.save_selected
        )
        for button in (self.add_button, self.remove_button, self.open_button, self.save_button):
            row.addWidget(button)
        row.addStretch(1)
        return row

    def _button(self, icon: str, text: str, slot: Any) -> QPushButton:
        button = QPushButton(icons.icon(icon), text, self)
        button.clicked.connect(slot)
        return button

    def _empty_text(self) -> str:
        return self.tr("No files yet. Click Add… or drop files here.")

    def _hint_text(self) -> str:
        kinds = ", ".join(self.field_type.allowed_extensions(self.spec))
        limits = self.tr("Up to {count} files, {size} MB each").format(
            count=self.spec.max_files, size=self.spec.max_size_mb
        )
        return (
            self.tr("{limits}; types: {kinds}").format(limits=limits, kinds=kinds)
            if kinds
            else limits
        )

    # -- adding and removing ------------------------------------------------
    def choose_files(self) -> None:
        paths = file_dialogs.open_files(self, self.tr("Add files"), "", self._dialog_filter())
        if paths:
            self.add_files(paths)

    def add_files(self, paths: list[Path]) -> list[dict[str, Any]]:
        """Read, check and add files; refused ones are explained in :attr:`message`."""
        if self._read_only:
            return []
        problems, added, accepted = [], [], []
        for path in map(Path, paths):
            problem = self._refusal(path)
            if problem is None:
                data = path.read_bytes()
                ref = make_file_ref(path.name, data)
                if any(old["sha256"] == ref["sha256"] for old in self._refs):
                    problem = self.tr("'{name}' is already attached").format(name=path.name)
            if problem:
                problems.append(problem)
                continue
            self.pending[ref["sha256"]] = data
            self._refs.append(ref)
            added.append(ref)
            accepted.append(path)
        self._show_message(problems)
        self._refresh()
        if added:
            self.files_added.emit(accepted)
            self.value_changed.emit()
        return added

    def _refusal(self, path: Path) -> str | None:
        if is_database_file(path):  # before anything opens it (see widgets.protected_files)
            return database_file_message(path)
        if len(self._refs) >= self.spec.max_files:
            text = self.tr("'{name}' was not added: at most {count} files")
            return text.format(name=path.name, count=self.spec.max_files)
        try:
            size = path.stat().st_size
        except OSError:
            return self.tr("'{name}' can't be read").format(name=path.name)
        if not path.is_file():
            return self.tr("'{name}' is not a file").format(name=path.name)
        extensions = self.field_type.allowed_extensions(self.spec)
        return file_problem(path.name, size, self.spec.max_size_mb, extensions)

    def remove_selected(self) -> None:
        chosen = {item.data(REF_ROLE)["sha256"] for item in self.list.selectedItems()}
        if not chosen or self._read_only:
            return
        self._refs = [ref for ref in self._refs if ref["sha256"] not in chosen]
        for sha256 in chosen:
            self.pending.pop(sha256, None)
        self._show_message([])
        self._refresh()
        self.value_changed.emit()

    # -- opening and saving -------------------------------------------------
    def file_bytes(self, ref: dict[str, Any]) -> bytes | None:
        """The bytes of a file: added here, or from the application if it can tell."""
        if ref["sha256"] in self.pending:
            return self.pending[ref["sha256"]]
        return self.references.read_file(ref["sha256"])

    def _selected_ref(self) -> dict[str, Any] | None:
        items = self.list.selectedItems()
        return items[0].data(REF_ROLE) if items else None

    def _selected_bytes(self) -> tuple[dict[str, Any], bytes] | None:
        ref = self._selected_ref()
        data = None if ref is None else self.file_bytes(ref)
        if ref is not None and data is None:
            text = self.tr("'{name}' is stored with the record; save it first")
            self._show_message([text.format(name=ref["name"])])
        return None if data is None else (ref, data)

    def open_selected(self) -> None:
        found = self._selected_bytes()
        if found:
            ref, data = found
            folder = Path(tempfile.gettempdir()) / "formwright-open" / ref["sha256"][:16]
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / ref["name"]
            target.write_bytes(data)
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))

    def save_selected(self) -> None:
        found = self._selected_bytes()
        if found:
            ref, data = found
            target, _ = file_dialogs.save_file(self, self.tr("Save as"), ref["name"])
            if target is None:
                return
            if is_database_file(target):
                self._show_message([database_file_message(target)])
                return
            target.write_bytes(data)

    # -- drag and drop ------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not self._read_only and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.add_files(paths)
            event.acceptProposedAction()

    # -- view ---------------------------------------------------------------
    def _refresh(self) -> None:
        self.list.clear()
        for ref in self._refs:
            item = QListWidgetItem(self._item_icon(ref), self._item_text(ref), self.list)
            item.setData(REF_ROLE, ref)
            item.setToolTip(f"{ref['name']}\n{size_text(ref['size'])} · {ref['mime']}")
        self.list.setVisible(bool(self._refs))
        self.drop_zone.setVisible(not self._refs)
        if self._read_only:
            self.drop_zone.setText(self.tr("No files."))
        self._update_buttons()

    def _update_buttons(self) -> None:
        selected = bool(self.list.selectedItems())
        self.add_button.setEnabled(not self._read_only and len(self._refs) < self.spec.max_files)
        self.remove_button.setEnabled(not self._read_only and selected)
        self.open_button.setEnabled(selected)
        self.save_button.setEnabled(selected)

    def _show_message(self, problems: list[str]) -> None:
        self.message.setText("\n".join(problems))
        self.message.setVisible(bool(problems))

    # -- value --------------------------------------------------------------
    def value(self) -> Any:
        return [dict(ref) for ref in self._refs] or None

    def set_value(self, value: Any) -> None:
        self._refs = [dict(ref) for ref in value or []]
        self._show_message([])
        self._refresh()

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.add_button.setVisible(not read_only)
        self.remove_button.setVisible(not read_only)
        self.hint.setVisible(not read_only)
        self.drop_zone.setText(self.tr("No files.") if read_only else self._empty_text())
        self._refresh()
