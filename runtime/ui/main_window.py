"""The runtime's main window: navigation of forms and views, the list in the centre.

It only composes: a navigation dock, a stack of list pages, menus from
:class:`RuntimeActions` and a status bar. Account and Excel actions are passed on
as signals for the app controller; record actions go to the current list page.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from resources import icons
from runtime.spec.models import ViewSpec
from runtime.ui.actions import RuntimeActions
from runtime.ui.record_list import RecordListPage
from runtime.ui.services import UiServices

FORM_ICON = "mdi6.file-document-outline"
VIEW_ICON = "mdi6.filter-variant"
KEY_ROLE = Qt.ItemDataRole.UserRole


class MainWindow(QMainWindow):
    """One app for one signed-in user."""

    export_requested = Signal(str, object)  # form key, the list's RecordQuery
    import_requested = Signal(str)  # form key
    template_requested = Signal(str)  # form key
    switch_user_requested = Signal()
    log_out_requested = Signal()
    change_password_requested = Signal()

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.actions_ = RuntimeActions(self)
        self.pages: dict[str, RecordListPage] = {}
        self.stack = QStackedWidget(self)
        self.nav = self._make_nav()
        self.count_label = QLabel(self)
        self.setCentralWidget(self.stack)
        self.setWindowTitle(f"{services.spec.title} — Formwright")
        self.actions_.fill(self.menuBar())
        self._connect_actions()
        self._build_status_bar()
        self.resize(1280, 800)
        first = self.nav.topLevelItem(0)
        if first is not None:
            self.nav.setCurrentItem(first)

    # -- building -------------------------------------------------------------
    def _make_nav(self) -> QTreeWidget:
        tree = QTreeWidget(self)
        tree.setHeaderHidden(True)
        tree.setIndentation(14)
        readable = set(self.services.readable_forms())
        for form in (form for form in self.services.spec.forms if form.key in readable):
            item = QTreeWidgetItem(tree, [form.title])
            item.setIcon(0, icons.icon_or(form.icon, FORM_ICON))
            item.setData(0, KEY_ROLE, form.key)
            for view in self.services.spec.views:
                if view.form == form.key:
                    child = QTreeWidgetItem(item, [view.title])
                    child.setIcon(0, icons.icon(VIEW_ICON))
                    child.setData(0, KEY_ROLE, f"{form.key}/{view.key}")
        tree.expandAll()
        tree.currentItemChanged.connect(
            lambda item, _old: item and self.show_list(item.data(0, KEY_ROLE))
        )
        dock = QDockWidget(self.services.spec.title, self)
        dock.setObjectName("navigation")
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        dock.setWidget(tree)
        dock.setMinimumWidth(240)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        return tree

    def _connect_actions(self) -> None:
        a = self.actions_
        a.new.triggered.connect(lambda: self.current_page().new_record())
        a.open.triggered.connect(lambda: self.current_page().open_selected())
        a.delete.triggered.connect(lambda: self.current_page().delete_selected())
        a.restore.triggered.connect(lambda: self.current_page().restore_selected())
        a.refresh.triggered.connect(lambda: self.current_page().refresh())
        a.find.triggered.connect(lambda: self.current_page().search_box.setFocus())
        a.trash.toggled.connect(lambda on: self.current_page().set_trash(on))
        a.columns.triggered.connect(
            lambda: self.current_page().columns_menu.popup(self.cursor().pos())
        )
        a.close.triggered.connect(self.close)
        a.export.triggered.connect(lambda: self.export_requested.emit(*self._current_query()))
        a.import_.triggered.connect(
            lambda: self.import_requested.emit(self.current_page().form.key)
        )
        a.template.triggered.connect(
            lambda: self.template_requested.emit(self.current_page().form.key)
        )
        a.switch_user.triggered.connect(self.switch_user_requested)
        a.log_out.triggered.connect(self.log_out_requested)
        a.change_password.triggered.connect(self.change_password_requested)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.addWidget(QLabel(self._user_text(), self))
        bar.addWidget(self.count_label, 1)
        bar.addPermanentWidget(QLabel(self.services.database(), self))

    def _user_text(self) -> str:
        actor = self.services.actor
        name = actor.display_name or actor.username
        department = self.services.references.current_department()
        return f"  {name} · {department[1]}" if department else f"  {name}"

    # -- pages ----------------------------------------------------------------
    def show_list(self, key: str) -> RecordListPage:
        """Show the list of a form (``form``) or of one of its views (``form/view``)."""
        if key not in self.pages:
            self.pages[key] = self._make_page(key)
            self.stack.addWidget(self.pages[key])
        page = self.pages[key]
        self.stack.setCurrentWidget(page)
        self.actions_.trash.setChecked(page.trash_action.isChecked())
        self._show_count(page)
        return page

    def _make_page(self, key: str) -> RecordListPage:
        form_key, _, view_key = key.partition("/")
        view = self._view(view_key) if view_key else None
        page = RecordListPage(self.services, self.services.form(form_key), view, self)
        page.count_changed.connect(lambda _count, page=page: self._show_count(page))
        return page

    def _view(self, key: str) -> ViewSpec | None:
        return next((view for view in self.services.spec.views if view.key == key), None)

    def current_page(self) -> RecordListPage:
        return self.stack.currentWidget()

    def _current_query(self) -> tuple[str, object]:
        page = self.current_page()
        return page.form.key, page.model.query

    def _show_count(self, page: RecordListPage) -> None:
        if page is self.stack.currentWidget():
            self.count_label.setText(f"  {page.form.title}: {page.status.text()}")

    def closeEvent(self, event) -> None:
        for page in self.pages.values():
            page.model.loader.shutdown()
        super().closeEvent(event)
