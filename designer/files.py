"""Files of the designer: new/open/save/publish, recent files, and the recovery copy.

Every minute a copy of an unsaved document is written to the user data folder
(platformdirs); on start, a copy newer than its file is offered for restore.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QMessageBox

from designer.document import DesignerDocument, EditError
from runtime.package import PackageContents, PackageError, write_package
from runtime.spec.problems import SpecError
from widgets.editors import file_dialogs

if TYPE_CHECKING:
    from designer.main_window import DesignerWindow

SAMPLE_APPS = Path(__file__).resolve().parents[1] / "sample_apps"
AUTOSAVE_MS = 60_000
RECENT_KEY = "files/recent"
PACKAGE_FILTER = "Formwright apps (*.fwapp app.json)"
Button = QMessageBox.StandardButton


class RecentFiles:
    """The last opened or saved packages, newest first, kept in QSettings."""

    def __init__(self, settings: QSettings, limit: int = 8) -> None:
        self.settings = settings
        self.limit = limit

    def paths(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, []) or []
        return [value] if isinstance(value, str) else list(value)

    def add(self, path: Path) -> None:
        entry = str(Path(path).resolve())
        paths = [entry, *(p for p in self.paths() if p != entry)][: self.limit]
        self.settings.setValue(RECENT_KEY, paths)


class RecoveryStore:
    """Recovery copies of open documents, one slot per file (or untitled)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or Path(platformdirs.user_data_dir("Formwright")) / "recovery"

    def slot(self, source: Path | None) -> Path:
        name = str(Path(source).resolve()) if source else "untitled"
        return self.folder / f"{hashlib.sha1(name.encode()).hexdigest()[:16]}.fwapp"

    def write(self, document: DesignerDocument) -> Path:
        """Write the document's current state, atomically, to its slot."""
        target = self.slot(document.path)
        self.folder.mkdir(parents=True, exist_ok=True)
        write_package(target, PackageContents(app_json=document.spec.to_json_dict(), assets={}))
        meta = {"source": str(document.path) if document.path else None, "saved_at": time.time()}
        target.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
        return target

    def find(self, source: Path | None) -> Path | None:
        """The slot's copy if it exists and is newer than the file it belongs to."""
        copy = self.slot(source)
        if not copy.exists():
            return None
        if source is None or not Path(source).exists():
            return copy
        return copy if copy.stat().st_mtime > _modified(Path(source)) else None

    def discard(self, source: Path | None) -> None:
        for path in (self.slot(source), self.slot(source).with_suffix(".json")):
            path.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    return (path / "app.json").stat().st_mtime if path.is_dir() else path.stat().st_mtime


class FileController(QObject):
    """The File menu's work, for one window."""

    def __init__(self, window: DesignerWindow, recovery: RecoveryStore, settings: QSettings):
        super().__init__(window)
        self.window = window
        self.recovery = recovery
        self.recent = RecentFiles(settings)

    @property
    def document(self) -> DesignerDocument:
        return self.window.document

    # -- starting --------------------------------------------------------------
    def start(self, path: Path | None) -> DesignerDocument:
        """The first document: the package at ``path`` or a new app, or its
        recovery copy when one is newer and the builder accepts it."""
        copy = self.recovery.find(path)
        if copy is not None and self._ask_restore():
            document = DesignerDocument.open(copy)
            document.set_path(path)
            document.undo_stack.resetClean()  # restored edits are not saved yet
            return document
        if copy is not None:
            self.recovery.discard(path)
        return DesignerDocument.open(path) if path else DesignerDocument.new()

    def _ask_restore(self) -> bool:
        answer = QMessageBox.question(
            self.window,
            self.tr("Restore unsaved work?"),
            self.tr("Formwright closed before your last changes were saved. Restore them?"),
            Button.Yes | Button.No,
        )
        return answer == Button.Yes

    # -- new and open ----------------------------------------------------------------
    def new_blank(self) -> None:
        if self.maybe_close():
            self.window.set_document(DesignerDocument.new())

    def new_from_template(self, template: Path) -> None:
        """A new, unsaved app that starts as a copy of a sample app."""
        if self.maybe_close():
            opened = DesignerDocument.open(template)
            self.window.set_document(DesignerDocument.from_spec(opened.spec))

    def templates(self) -> list[Path]:
        return sorted(p for p in SAMPLE_APPS.iterdir() if (p / "app.json").exists())

    def open(self, path: Path | None = None, folder: bool = False) -> bool:
        if path is None:
            path = self._ask_open(folder)
        if path is None or not self.maybe_close():
            return False
        if path.name == "app.json":
            path = path.parent
        try:
            document = DesignerDocument.open(path)
        except (PackageError, SpecError, OSError) as error:
            self._warn(self.tr("Can't open the app"), getattr(error, "message", str(error)))
            return False
        self.recent.add(path)
        self.window.set_document(document)
        return True

    def _ask_open(self, folder: bool) -> Path | None:
        if folder:
            return file_dialogs.existing_directory(self.window, self.tr("Open app folder"))
        return file_dialogs.open_file(self.window, self.tr("Open app"), "", PACKAGE_FILTER)

    # -- saving ------------------------------------------------------------------------
    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        chosen, _ = file_dialogs.save_file(
            self.window, self.tr("Save app as"), "", self.tr("Package file (*.fwapp);;Folder (*)")
        )
        return chosen is not None and self._save_to(chosen)

    def _save_to(self, path: Path) -> bool:
        old = self.document.path
        try:
            self.document.save(path)
        except (EditError, PackageError, OSError) as error:
            self._warn(self.tr("Can't save the app"), getattr(error, "message", str(error)))
            return False
        self.recovery.discard(old)
        self.recovery.discard(path)
        self.recent.add(path)
        self.window.statusBar().showMessage(self.tr("Saved {path}").format(path=path), 4000)
        return True

    def publish(self) -> bool:
        """Raise the version and freeze the keys (after saving somewhere)."""
        if self.document.path is None and not self.save_as():
            return False
        problems = self.document.problems()
        if problems:
            self._warn(
                self.tr("Fix the problems first"),
                self.tr("The app has {n} problems; see the Problems panel.").format(
                    n=len(problems)
                ),
            )
            return False
        answer = QMessageBox.question(
            self.window,
            self.tr("Publish"),
            self.tr("Publish version {v}? Field keys can't change after publishing.").format(
                v=self.document.spec.version + 1
            ),
        )
        if answer != Button.Yes:
            return False
        self.document.publish()
        return True

    def autosave(self) -> Path | None:
        """Write the recovery copy if there are unsaved changes."""
        if not self.document.is_dirty():
            return None
        return self.recovery.write(self.document)

    def maybe_close(self) -> bool:
        """Ask to save unsaved changes: True to go on (saved or discarded)."""
        if not self.document.is_dirty():
            return True
        answer = QMessageBox.question(
            self.window,
            self.tr("Unsaved changes"),
            self.tr("Save the changes to “{title}”?").format(title=self.document.spec.title),
            Button.Save | Button.Discard | Button.Cancel,
        )
        if answer == Button.Save:
            return self.save()
        if answer == Button.Discard:
            self.recovery.discard(self.document.path)
            return True
        return False

    def _warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self.window, title, text)
