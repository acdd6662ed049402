"""A form's record list: search, filter, columns, saved views, trash, and the table.

The page owns a :class:`RecordTableModel` and remembers the user's columns, sort
and filter per form through the services' ViewSettingsStore. Record windows it
opens refresh the list when they save or delete.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.services.errors import ServiceError
from runtime.services.excel.filter import WhereError, filter_from_expression
from runtime.services.query import Filter, RecordQuery, Sort, all_of
from runtime.spec.models import FormSpec, ViewSpec
from runtime.ui.filter_dialog import FilterDialog
from runtime.ui.i18n import tr
from runtime.ui.long_task import LongTask, RunDialog
from runtime.ui.record_batches import (
    DELETING,
    RESTORING,
    RowRange,
    apply_in_batches,
    ids_in_ranges,
)
from runtime.ui.record_model import RecordTableModel, column_title
from runtime.ui.record_window import RecordWindow
from runtime.ui.services import UiServices
from runtime.ui.view_settings import ListView

SEARCH_DELAY_MS = 300


def filter_title(condition: Filter | None) -> str:
    """The filter button's text: "Filter", with a check mark while one applies."""
    return tr("Filter") + " ✓" if condition else tr("Filter")


def count_text(count: int, trash: bool = False) -> str:
    """The status line: "1 record", "56 records", "3 records in the trash"."""
    if trash:
        text = tr("1 record in the trash") if count == 1 else tr("{count} records in the trash")
    else:
        text = tr("1 record") if count == 1 else tr("{count} records")
    return text.format(count=f"{count:,}")


class _AfterFirstPaint(QObject):
    """Calls ``then`` on the event loop's next turn after ``widget`` first paints.

    A list read started before the first paint runs on a worker while the GUI
    thread paints, and both need the GIL: the window appeared ~10 ms later. A list
    that is never shown (a page in the stack nobody opened) reads nothing.
    """

    def __init__(self, widget: QWidget, then) -> None:
        super().__init__(widget)
        self.then = then
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self.then)
        return False


class RecordListPage(QWidget):
    """The list of one form (or one app-defined view of it)."""

    count_changed = Signal(int)
    window_opened = Signal(object)  # RecordWindow

    def __init__(
        self,
        services: UiServices,
        form: FormSpec,
        view: ViewSpec | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.form = form
        self.view_spec = view
        self.scope = ".".join(filter(None, (services.spec.id, form.key, view and view.key)))
        self.model = RecordTableModel(services, form, self, paused=True)
        self.table = self._make_table()
        # Read once the table is on screen: the window paints first, then fills in.
        self._first_paint = _AfterFirstPaint(self.table.viewport(), self.model.resume)
        self.search_box = QLineEdit(self, placeholderText=tr("Search…"), clearButtonEnabled=True)
        self.status = QLabel(self)
        self._filter: Filter | None = None
        self._view_filter = self._fixed_filter()
        self._trash = False
        self._tasks: list[LongTask] = []  # batch deletes/restores under way
        #: Shows the failure box of a batch (tests answer it instead).
        self.run_dialog: RunDialog | None = None
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_query)
        self.search_box.textChanged.connect(self._search_timer.start)
        self.model.count_changed.connect(self._show_count)
        self.model.load_failed.connect(self.status.setText)
        self.trash_action = self._action("mdi6.delete-outline", tr("Trash"), self.set_trash)
        self.trash_action.setCheckable(True)
        self.restore_action = self._action("mdi6.restore", tr("Restore"), self.restore_selected)
        self.columns_menu = QMenu(tr("Columns"), self)
        self.views_menu = QMenu(tr("Views"), self)
        self._build()
        self._apply_view(self._initial_view())

    # -- building -----------------------------------------------------------
    def _make_table(self) -> QTableView:
        table = QTableView(self)
        table.setModel(self.model)
        table.setSortingEnabled(True)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().setDefaultSectionSize(28)
        table.verticalHeader().setVisible(False)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(140)
        table.doubleClicked.connect(lambda index: self.open_row(index.row()))
        header.sortIndicatorChanged.connect(lambda *_: self._save_current())
        return table

    def _action(self, icon: str, text: str, slot) -> QAction:
        action = QAction(icons.icon(icon), text, self)
        action.triggered.connect(slot)
        return action

    def _build(self) -> None:
        self.new_action = self._action("mdi6.plus", tr("New"), self.new_record)
        self.delete_action = self._action("mdi6.delete", tr("Delete"), self.delete_selected)
        bar = QHBoxLayout()
        bar.addWidget(self._button(self.new_action))
        open_action = self._action("mdi6.open-in-app", tr("Open"), self.open_selected)
        bar.addWidget(self._button(open_action))
        bar.addWidget(self._button(self.delete_action))
        self.restore_button = self._button(self.restore_action)
        bar.addWidget(self.restore_button)
        bar.addSpacing(12)
        bar.addWidget(self.search_box, 1)
        self.filter_button = self._button(
            self._action("mdi6.filter-outline", tr("Filter"), self.edit_filter)
        )
        bar.addWidget(self.filter_button)
        bar.addWidget(self._menu_button("mdi6.table-column", self.columns_menu))
        bar.addWidget(self._menu_button("mdi6.bookmark-outline", self.views_menu))
        bar.addWidget(self._button(self.trash_action))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)
        self.views_menu.aboutToShow.connect(self._fill_views_menu)
        self.restore_button.setVisible(False)
        allowed = self.services.allowed
        self.new_action.setEnabled(allowed(self.form.key, "create"))
        self.delete_action.setEnabled(allowed(self.form.key, "delete"))
        self.restore_action.setEnabled(allowed(self.form.key, "delete"))

    def _button(self, action: QAction) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        return button

    def _menu_button(self, icon: str, menu: QMenu) -> QToolButton:
        button = QToolButton(self, text=menu.title(), icon=icons.icon(icon), menu=menu)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        return button

    # -- query ----------------------------------------------------------------
    def apply_query(self) -> None:
        """Read the list again for the current search, filter, sort and trash."""
        self.status.setText(tr("Counting…"))
        self.model.set_query(self._query(self.model.query.sort))

    def _query(self, sort: Sort) -> RecordQuery:
        search = self.search_box.text().strip()
        condition = all_of(self._view_filter, self._filter)
        return RecordQuery(filter=condition, search=search, sort=sort, trash=self._trash)

    def _fixed_filter(self) -> Filter | None:
        """The app view's own filter: always applied, under the user's filter."""
        if self.view_spec is None or not self.view_spec.filter:
            return None
        fields = {spec.key: spec for spec in self.form.fields}
        try:
            return filter_from_expression(self.view_spec.filter, fields, self.services.registry)
        except WhereError as error:
            text = tr("This view's filter is not supported yet: {error}")
            self.status.setText(text.format(error=error.message))
            return None

    def set_filter(self, condition: Filter | None) -> None:
        self._filter = condition
        self.filter_button.defaultAction().setText(filter_title(condition))
        self.apply_query()
        self._save_current()

    def set_trash(self, on: bool) -> None:
        self._trash = bool(on)
        self.trash_action.setChecked(self._trash)
        self.restore_button.setVisible(self._trash)
        self.apply_query()

    def edit_filter(self) -> None:
        dialog = FilterDialog(
            self.form, self._filter, self.services.references, self.services.registry, self
        )
        if dialog.exec():
            self.set_filter(dialog.filter())

    def refresh(self) -> None:
        self.model.refresh()

    def _show_count(self, count: int) -> None:
        self.status.setText(count_text(count, self._trash))
        self.count_changed.emit(count)

    # -- columns and views ------------------------------------------------------
    def set_columns(self, keys: list[str]) -> None:
        self.model.set_columns(keys)
        self._sync_sort_indicator()
        self._save_current()

    def toggle_column(self, key: str, shown: bool) -> None:
        keys = [k for k in self.model.column_keys() if k != key]
        self.set_columns([*keys, key] if shown else keys)

    def _fill_columns_menu(self) -> None:
        self.columns_menu.clear()
        shown = set(self.model.column_keys())
        for column in self.model.all_columns:
            action = self.columns_menu.addAction(column_title(column))
            action.setCheckable(True)
            action.setChecked(column.key in shown)
            action.toggled.connect(lambda on, key=column.key: self.toggle_column(key, on))

    def _fill_views_menu(self) -> None:
        self.views_menu.clear()
        for name in sorted(self._settings().get("views", {})):
            self.views_menu.addAction(name, lambda name=name: self.load_view(name))
        self.views_menu.addSeparator()
        self.views_menu.addAction(tr("Save view as…"), self._ask_view_name)
        self.views_menu.addAction(tr("Reset to default"), self.reset_view)

    def _ask_view_name(self) -> None:
        name, ok = QInputDialog.getText(self, tr("Save view"), tr("Name of this view:"))
        if ok and name.strip():
            self.save_view(name.strip())

    def current_view(self) -> ListView:
        return ListView(self.model.column_keys(), self.model.query.sort, self._filter)

    def save_view(self, name: str) -> None:
        """Remember the current columns, sort and filter under a name (per user)."""
        data = self._settings()
        data.setdefault("views", {})[name] = self.current_view().to_json(self.form)
        self._store(data)

    def load_view(self, name: str) -> None:
        saved = self._settings().get("views", {}).get(name)
        if saved is not None:
            self._apply_view(ListView.from_json(saved, self.form, self.services.registry))
            self._save_current()

    def reset_view(self) -> None:
        self._apply_view(self._default())
        self._save_current()

    def _apply_view(self, view: ListView) -> None:
        """Show a view; saving is left to the callers that are the user's choices
        (opening a list only reads the settings: no write, no fsync)."""
        self._filter = view.filter
        self.status.setText(tr("Counting…"))
        self.model.set_columns(view.columns or self._default().columns, self._query(view.sort))
        self.filter_button.defaultAction().setText(filter_title(view.filter))
        self._sync_sort_indicator()

    def _initial_view(self) -> ListView:
        saved = self._settings().get("current")
        if saved:
            return ListView.from_json(saved, self.form, self.services.registry)
        return self._default()

    def _default(self) -> ListView:
        """The app's view (columns, first sort key) — for a form, its first view —
        else the first eight fields by id."""
        views = [view for view in self.services.spec.views if view.form == self.form.key]
        view = self.view_spec or (views[0] if views else None)
        if view is None:
            return ListView([c.key for c in self.model.all_columns if c.spec][:8])
        sort = Sort(view.sort[0].field, view.sort[0].desc) if view.sort else Sort()
        return ListView(list(view.columns), sort, None)

    def _sync_sort_indicator(self) -> None:
        sort = self.model.query.sort
        column = self.model.column_of(sort.field)
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        order = Qt.SortOrder.DescendingOrder if sort.desc else Qt.SortOrder.AscendingOrder
        header.setSortIndicator(column, order)
        header.blockSignals(False)

    def _settings(self) -> dict:
        return self.services.view_settings.load(self.services.actor.user_id, self.scope)

    def _store(self, data: dict) -> None:
        self.services.view_settings.save(self.services.actor.user_id, self.scope, data)

    def _save_current(self) -> None:
        data = self._settings()
        data["current"] = self.current_view().to_json(self.form, self.services.registry)
        self._store(data)

    # -- records --------------------------------------------------------------
    def selected_ranges(self) -> list[RowRange]:
        """The selected rows as (first, last) ranges: cheap even for Ctrl+A on a
        million rows (no index per row)."""
        selection = self.table.selectionModel().selection()
        return sorted((part.top(), part.bottom()) for part in selection)

    def selected_ids(self) -> list[int] | None:
        """The selected records' ids when all their pages are loaded, else None
        (:meth:`find_selected` reads them)."""
        ids: list[int] = []
        for first, last in self.selected_ranges():
            loaded = self.model.loaded_ids(first, last)
            if loaded is None:
                return None
            ids += loaded
        return ids

    def new_record(self) -> RecordWindow | None:
        if not self.new_action.isEnabled():
            return None
        return self._show_window(RecordWindow(self.services, self.form, None, self))

    def open_record(self, record_id: int) -> RecordWindow | None:
        """The record's window; None, with the reason in the status line, when it
        cannot be read (the server out of reach, the record gone meanwhile)."""
        try:
            window = RecordWindow(self.services, self.form, record_id, self, trash=self._trash)
        except ServiceError as error:
            self.status.setText(error.message)
            return None
        return self._show_window(window)

    def open_row(self, row: int) -> RecordWindow | None:
        record_id = self.model.record_id(row)
        return None if record_id is None else self.open_record(record_id)

    def open_selected(self) -> RecordWindow | None:
        current = self.table.currentIndex()
        rows = [current.row()] if current.isValid() else []
        rows += [first for first, _last in self.selected_ranges()]
        return self.open_row(rows[0]) if rows else None

    def _show_window(self, window: RecordWindow) -> RecordWindow:
        window.saved.connect(self.refresh)
        window.deleted.connect(self.refresh)
        window.show()
        self.window_opened.emit(window)
        return window

    def delete_selected(self) -> None:
        """Move the selected records to the trash, after asking (any number of rows:
        ids of rows not loaded are read first, then each record is deleted, with a
        progress bar and Cancel when it takes a while)."""
        if not self._trash and self.selected_ranges():
            self._with_selected_ids(self._confirm_delete)

    def restore_selected(self) -> None:
        if self._trash and self.selected_ranges():
            self._with_selected_ids(
                lambda ids: self._apply_in_batches(
                    ids, self.services.records.restore_many, RESTORING, tr("Restore")
                )
            )

    def _with_selected_ids(self, then: Callable[[list[int]], None]) -> None:
        ids = self.selected_ids()
        if ids is not None:
            then(ids)
            return
        steps = ids_in_ranges(self.model.source(), self.selected_ranges())
        task = self._run(steps, self.form.title)
        task.succeeded.connect(lambda found: then(found) if found else None)

    def _confirm_delete(self, ids: list[int]) -> None:
        question = (
            tr("Move {count} records to the trash?").format(count=len(ids))
            if len(ids) > 1
            else tr("Move 1 record to the trash?")
        )
        if QMessageBox.question(self, tr("Delete"), question) == QMessageBox.StandardButton.Yes:
            self._apply_in_batches(ids, self.services.records.delete_many, DELETING, tr("Delete"))

    def _apply_in_batches(self, ids: list[int], action, message: str, title: str) -> None:
        """Apply a many-record action (delete_many, restore_many) to the ids; the
        list is read again afterwards, whatever the outcome (done, refused part way,
        cancelled)."""
        form, actor = self.form.key, self.services.actor
        steps = apply_in_batches(ids, lambda chunk: action(form, chunk, actor), message)
        task = self._run(steps, title)
        task.finished.connect(self._after_batch)

    def _run(self, steps, title: str) -> LongTask:
        """Start a long task owned by this page (deleted once finished)."""
        task = LongTask(steps, title, self, run_dialog=self.run_dialog)
        task.finished.connect(task.deleteLater)
        self._tasks.append(task)
        task.finished.connect(lambda: self._tasks.remove(task))
        return task.start()

    def _after_batch(self) -> None:
        self.table.clearSelection()
        self.apply_query()

    def closeEvent(self, event) -> None:
        for task in self._tasks:
            task.cancel()  # stops after the record in hand
        self.model.loader.shutdown()
        super().closeEvent(event)
