"""The designer's main window: composes the palette, canvas, inspector, outline and
problems around one document, with the actions of ``designer.actions``.

No editing logic here: the parts talk to the document, the window only wires them.
Opening a document shows the form first: the problems panel, which checks the whole
app, is filled in the event-loop turn after the canvas first paints.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMessageBox, QWidget

from designer.actions import DesignerActions
from designer.canvas import Canvas, CanvasArea
from designer.clipboard import release_clipboard
from designer.document import DesignerDocument
from designer.files import AUTOSAVE_MS, FileController, RecoveryStore
from designer.inspector import Inspector
from designer.outline import Outline
from designer.palette import Palette
from designer.problems_panel import ProblemsPanel
from resources.i18n import SETTING, install_language
from runtime.ui.smoke import watch_first_paint
from widgets.registry import FieldTypeRegistry, default_registry

Area = Qt.DockWidgetArea
DOCKS = {
    "palette": Area.LeftDockWidgetArea,
    "outline": Area.LeftDockWidgetArea,
    "inspector": Area.RightDockWidgetArea,
    "problems": Area.BottomDockWidgetArea,
}


class AfterFirstPaint(QObject):
    """Calls ``work`` once, in the event-loop turn after ``widget`` first paints."""

    def __init__(self, widget: QWidget, work: Callable[[], None]) -> None:
        super().__init__(widget)
        self.work = work
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self.work)
        return False


class DesignerWindow(QMainWindow):
    """One app being designed. ``path`` opens a package (or offers its recovery copy)."""

    def __init__(
        self,
        path: Path | None = None,
        document: DesignerDocument | None = None,
        recovery: RecoveryStore | None = None,
        settings: QSettings | None = None,
        registry: FieldTypeRegistry = default_registry,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings("Formwright", "Designer")
        self.registry = registry
        self.files = FileController(self, recovery or RecoveryStore(), self.settings)
        self.preview: QWidget | None = None
        self.resize(1400, 880)
        self.tool_bar = self.addToolBar(self.tr("Main"))
        self.tool_bar.setObjectName("main_tools")
        titles = self._dock_titles()
        self.docks = {name: self._dock(name, titles[name], area) for name, area in DOCKS.items()}
        self._build_palette()
        self.actions = DesignerActions(self)
        self.set_document(document or self.files.start(path))
        self.size_docks()
        self.autosave_timer = QTimer(self, interval=AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.files.autosave)
        self.autosave_timer.start()

    def _dock_titles(self) -> dict[str, str]:
        return {
            "palette": self.tr("Fields"),
            "outline": self.tr("Outline"),
            "inspector": self.tr("Properties"),
            "problems": self.tr("Problems"),
        }

    def _build_palette(self) -> None:
        old = self.docks["palette"].widget()
        self.palette_view = Palette(self.registry, self)
        self.palette_view.type_activated.connect(self._append_type)
        self.docks["palette"].setWidget(self.palette_view)
        if old is not None:
            old.deleteLater()

    def size_docks(self) -> None:
        docks = self.docks
        self.resizeDocks([docks["palette"], docks["inspector"]], [250, 400], Qt.Horizontal)
        self.resizeDocks([docks["palette"], docks["outline"]], [420, 330], Qt.Vertical)
        self.resizeDocks([docks["problems"]], [110], Qt.Vertical)

    def _append_type(self, type_name: str) -> None:
        self.canvas.append_type(type_name)

    def _dock(self, name: str, title: str, area: Area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        self.addDockWidget(area, dock)
        return dock

    # -- the document ------------------------------------------------------------------
    def set_document(self, document: DesignerDocument) -> None:
        """Show another document: new views for it, the same docks and actions."""
        old = getattr(self, "document", None)
        form = self.canvas.form_key if old is document else None
        self.document = document
        document.setParent(self)
        self.canvas = Canvas(document, form, parent=self)
        self.setCentralWidget(CanvasArea(self.canvas, self))
        self.inspector = Inspector(document, self)
        self.outline = Outline(document, self)
        self.problems: ProblemsPanel | None = None
        self._set_dock_widget("inspector", self.inspector)
        self._set_dock_widget("outline", self.outline)
        self._set_dock_widget("problems", None)
        AfterFirstPaint(self.canvas, self._add_problems_panel)
        self._wire()
        self.actions.bind_document()
        self.actions.build_menus()
        self.inspector.set_current_form(self.canvas.form_key or "")
        self.update_title()
        if old is not None and old is not document:
            old.deleteLater()

    def _set_dock_widget(self, name: str, widget: QWidget | None) -> None:
        previous = self.docks[name].widget()
        self.docks[name].setWidget(widget)
        if previous is not None:
            previous.deleteLater()

    def _add_problems_panel(self) -> None:
        """The app's problems, once the form shows (a whole-app check takes a while)."""
        self.problems = ProblemsPanel(self.document, self)
        self.problems.form_activated.connect(self._show_form)
        self.problems.target_activated.connect(self.inspector.show_target)
        self._set_dock_widget("problems", self.problems)

    def _wire(self) -> None:
        canvas, inspector = self.canvas, self.inspector
        canvas.form_changed.connect(inspector.set_current_form)
        canvas.message.connect(self._show_message)
        self.outline.form_activated.connect(self._show_form)
        self.outline.target_activated.connect(inspector.show_target)
        self.outline.message.connect(self._show_message)
        for signal in (
            self.document.dirty_changed,
            self.document.path_changed,
            self.document.app_property_changed,
        ):
            signal.connect(self.update_title)

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 5000)

    def _show_form(self, form_key: str) -> None:
        if form_key != self.canvas.form_key:
            self.canvas.show_form(form_key)

    def show_target(self, target: tuple) -> None:
        """Show a form, view, role or the app in the inspector and the outline."""
        self.outline.rebuild()
        self.outline.select_target(target)
        self.inspector.show_target(target)

    def update_title(self, *_args: object) -> None:
        self.setWindowTitle(self.document.window_title())

    # -- commands ----------------------------------------------------------------------
    def try_it(self) -> QWidget | None:
        """F5: the current form in a preview window with sample records."""
        from designer.preview import PreviewWindow

        form = self.canvas.form_key
        if form is None:
            return None
        try:
            self.preview = PreviewWindow(self.document.spec, form, self.registry, self)
        except Exception as error:  # an app with problems can't be installed
            message = getattr(error, "message", None) or str(error)
            QMessageBox.warning(self, self.tr("Can't preview"), message)
            return None
        self.preview.show()
        return self.preview

    def switch_language(self, language: str) -> DesignerWindow:
        """Install the language and rebuild every part in it (same document)."""
        self.settings.setValue(SETTING, language)
        install_language(language)
        for action in self.actions.all.values():
            action.deleteLater()
        self.actions.deleteLater()
        self.actions = DesignerActions(self)
        self._build_palette()
        for name, title in self._dock_titles().items():
            self.docks[name].setWindowTitle(title)
        self.tool_bar.setWindowTitle(self.tr("Main"))
        self.set_document(self.document)
        return self

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.files.maybe_close():
            self.autosave_timer.stop()
            if self.preview is not None:
                self.preview.close()
            event.accept()
        else:
            event.ignore()


def run_designer(path: Path | None = None, exec_loop: bool = True) -> DesignerWindow:
    """Start the designer (the ``formwright design`` command)."""
    from resources.i18n import preferred_language

    app = QApplication.instance() or QApplication([])
    watch_first_paint(app)
    settings = QSettings("Formwright", "Designer")
    install_language(preferred_language(settings))
    window = DesignerWindow(path, settings=settings)
    window.show()
    window.size_docks()
    if exec_loop:
        app.exec()
        release_clipboard()
    return window
