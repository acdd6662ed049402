"""The designer's actions and menus, kept out of the main window.

Each action's slot is one call into the window's parts (file controller, canvas,
document). Canvas editing shortcuts are bound to the canvas
(``WidgetWithChildrenShortcut``) so typing Delete in the inspector edits text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from designer.document import EditError
from resources import icons
from resources.i18n import LANGUAGES

if TYPE_CHECKING:
    from designer.main_window import DesignerWindow

Shortcut = QKeySequence | QKeySequence.StandardKey | str | None


class DesignerActions(QObject):
    """Builds every QAction of a window and its menus and tool bar."""

    def __init__(self, window: DesignerWindow) -> None:
        super().__init__(window)
        self.window = window
        self.all: dict[str, QAction] = {}
        files = window.files
        self._add(
            "new",
            self.tr("&New app"),
            files.new_blank,
            QKeySequence.StandardKey.New,
            "mdi6.file-plus-outline",
        )
        self._add(
            "open",
            self.tr("&Open…"),
            lambda: files.open(),
            QKeySequence.StandardKey.Open,
            "mdi6.folder-open-outline",
        )
        self._add("open_folder", self.tr("Open &folder…"), lambda: files.open(folder=True))
        self._add(
            "save",
            self.tr("&Save"),
            files.save,
            QKeySequence.StandardKey.Save,
            "mdi6.content-save-outline",
        )
        self._add("save_as", self.tr("Save &as…"), files.save_as, QKeySequence.StandardKey.SaveAs)
        self._add(
            "publish", self.tr("&Publish…"), files.publish, None, "mdi6.rocket-launch-outline"
        )
        self._add("quit", self.tr("&Quit"), window.close, QKeySequence.StandardKey.Quit)
        self._add("try_it", self.tr("&Try it"), window.try_it, "F5", "mdi6.play-circle-outline")
        self._add("add_form", self.tr("Add &form"), self.add_form, None, "mdi6.form-select")
        self._add("add_view", self.tr("Add list &view"), self.add_view, None, "mdi6.table-eye")
        self._add("add_role", self.tr("Add &role"), self.add_role, None, "mdi6.account-key-outline")
        self._add("remove_item", self.tr("Remove form, view or role"), self.remove_item)
        self._edit_actions()
        self._fonts_and_language()

    def _add(
        self,
        name: str,
        text: str,
        slot: Callable[[], object],
        shortcut: Shortcut = None,
        icon: str | None = None,
    ) -> QAction:
        action = QAction(text, self.window)
        if icon:
            action.setIcon(icons.icon(icon, color="#37474f"))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        self.all[name] = action
        return action

    def _edit_actions(self) -> None:
        canvas = lambda: self.window.canvas  # noqa: E731  (the canvas changes with the document)
        self._add(
            "delete",
            self.tr("&Delete"),
            lambda: canvas().delete_selected(),
            QKeySequence.StandardKey.Delete,
        )
        self._add(
            "copy",
            self.tr("&Copy"),
            lambda: canvas().copy_selected(),
            QKeySequence.StandardKey.Copy,
        )
        self._add(
            "paste", self.tr("&Paste"), lambda: canvas().paste(), QKeySequence.StandardKey.Paste
        )
        self._add(
            "duplicate", self.tr("D&uplicate"), lambda: canvas().duplicate_selected(), "Ctrl+D"
        )
        self._add("move_up", self.tr("Move &up"), lambda: canvas().move_selected(-1), "Alt+Up")
        self._add("move_down", self.tr("Move do&wn"), lambda: canvas().move_selected(1), "Alt+Down")
        for name in ("delete", "copy", "paste", "duplicate", "move_up", "move_down"):
            self.all[name].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _fonts_and_language(self) -> None:
        for code, title in LANGUAGES.items():
            self._add(
                f"language_{code}", title, lambda code=code: self.window.switch_language(code)
            )

    def bind_document(self) -> None:
        """Undo/redo of the current document; editing shortcuts on its canvas."""
        stack = self.window.document.undo_stack
        for old in (self.all.pop("undo", None), self.all.pop("redo", None)):
            if old is not None:
                old.deleteLater()
        for name, make, key in (
            ("undo", stack.createUndoAction, QKeySequence.StandardKey.Undo),
            ("redo", stack.createRedoAction, QKeySequence.StandardKey.Redo),
        ):
            action = make(self.window, self.tr("Undo") if name == "undo" else self.tr("Redo"))
            action.setShortcut(QKeySequence(key))
            action.setIcon(icons.icon(f"mdi6.{name}", color="#37474f"))
            self.all[name] = action
        for name in ("delete", "copy", "paste", "duplicate", "move_up", "move_down"):
            self.window.canvas.addAction(self.all[name])

    # -- menus -------------------------------------------------------------------------
    def build_menus(self) -> None:
        bar = self.window.menuBar()
        bar.clear()
        file = bar.addMenu(self.tr("&File"))
        file.addAction(self.all["new"])
        templates = file.addMenu(self.tr("New from &template"))
        for path in self.window.files.templates():
            templates.addAction(path.name, lambda p=path: self.window.files.new_from_template(p))
        self._add_all(file, "open", "open_folder")
        self.recent_menu = file.addMenu(self.tr("Open &recent"))
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file.addSeparator()
        self._add_all(file, "save", "save_as", "publish")
        file.addSeparator()
        file.addAction(self.all["quit"])
        edit = bar.addMenu(self.tr("&Edit"))
        self._add_all(edit, "undo", "redo")
        edit.addSeparator()
        self._add_all(edit, "copy", "paste", "duplicate", "delete", "move_up", "move_down")
        app = bar.addMenu(self.tr("&App"))
        self._add_all(app, "add_form", "add_view", "add_role", "remove_item")
        app.addSeparator()
        app.addAction(self.all["try_it"])
        language = bar.addMenu(self.tr("&Language"))
        self._add_all(language, *(f"language_{code}" for code in LANGUAGES))
        self._tool_bar()

    def _add_all(self, menu: QMenu, *names: str) -> None:
        for name in names:
            menu.addAction(self.all[name])

    def _tool_bar(self) -> None:
        bar = self.window.tool_bar
        bar.clear()
        for name in ("new", "open", "save", "undo", "redo", "try_it", "publish"):
            bar.addAction(self.all[name])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.window.files.recent.paths():
            self.recent_menu.addAction(path, lambda p=path: self.window.files.open(Path(p)))

    # -- app items ---------------------------------------------------------------------
    def add_form(self) -> None:
        key = self.window.document.add_form(self.tr("New form"))
        self.window.canvas.show_form(key)

    def add_view(self) -> None:
        form = self.window.canvas.form_key
        if form is not None:
            key = self.window.document.add_view(form, self.tr("New list"))
            self.window.show_target(("view", key))

    def add_role(self) -> None:
        key = self.window.document.add_role(self.tr("New role"))
        self.window.show_target(("role", key))

    def remove_item(self) -> None:
        """Remove what the inspector shows when it is a form, a view or a role."""
        kind, *keys = self.window.inspector.target
        document = self.window.document
        try:
            if kind == "form":
                document.remove_form(keys[0])
            elif kind == "view":
                document.remove_view(keys[0])
            elif kind == "role":
                document.remove_role(keys[0])
        except EditError as error:
            self.window.statusBar().showMessage(error.message, 5000)
