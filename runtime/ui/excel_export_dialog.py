"""Export the current list (its filter, search and sort) to .xlsx or .csv.

The dialog only collects choices — file, columns, subtables — and runs
:func:`runtime.services.excel.export.export_records` through a :class:`LongTask`;
the service decides what each cell holds and refuses fields the user may not see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.services.excel.export import ExportResult, export_records
from runtime.services.query import OPERATOR_LABELS, AllOf, AnyOf, Condition, Filter, RecordQuery
from runtime.spec.models import FormSpec
from runtime.ui.i18n import tr
from runtime.ui.long_task import LongTask, RunDialog, file_row
from runtime.ui.record_source import SYSTEM_COLUMNS
from runtime.ui.services import UiServices
from widgets.editors import file_dialogs

KEY_ROLE = Qt.ItemDataRole.UserRole
FILE_TYPES = "Excel workbook (*.xlsx);;CSV, UTF-8 (*.csv)"


def visible_fields(services: UiServices, form: str) -> list[str]:
    """The fields the policy lets the user see (and so export), in form order."""
    return services.records.policy(services.actor, form).visible_fields(form)


def documents_folder() -> Path:
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(folder or Path.home())


def safe_file_name(text: str) -> str:
    """A form title usable as a file name on Windows too."""
    cleaned = "".join("_" if ch in '<>:"/\\|?*' else ch for ch in text).strip(" .")
    return cleaned or "export"


class ExportDialog(QDialog):
    """File, columns and subtables for exporting one list; "Export" runs it."""

    exported = Signal(object)  # ExportResult

    #: Records read per page; tests lower it to cancel a large export midway.
    page_size = 1000

    def __init__(
        self,
        services: UiServices,
        form: FormSpec,
        query: RecordQuery,
        list_columns: list[str],
        count: int | None = None,
        run_dialog: RunDialog | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.form = form
        self.query = query
        self.count = count
        self.run_dialog = run_dialog or (lambda dialog: dialog.exec())
        self.task: LongTask | None = None
        self.result_: ExportResult | None = None
        self.setWindowTitle(tr("Export {form}").format(form=form.title))
        self.path_edit = QLineEdit(self, placeholderText=tr("Choose where to save…"))
        self.columns = self._columns_list(list_columns)
        self.subtables = self._subtables_combo()
        self.include_id = QCheckBox(tr("Record ID column (needed to import subtables back)"), self)
        # On when the list shows its "No." column or subtables need the link back.
        self.include_id.setChecked("id" in list_columns or self.subtables.isEnabled())
        self.scope = QLabel(self.describe_scope(), self, wordWrap=True)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton(
            tr("Export"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setIcon(icons.icon("mdi6.microsoft-excel"))
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        self._build()

    # -- building -------------------------------------------------------------
    def _columns_list(self, list_columns: list[str]) -> QListWidget:
        """Every visible field, checked when the list shows it (list order first)."""
        widget = QListWidget(self)
        widget.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        by_key = {spec.key: spec for spec in self.form.fields}
        keys = visible_fields(self.services, self.form.key)
        shown = [key for key in list_columns if key in keys]
        subtables = {key for key in keys if self._is_subtable(key)}
        for key in shown + [key for key in keys if key not in shown]:
            item = QListWidgetItem(by_key[key].label or key, widget)
            item.setData(KEY_ROLE, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = key in shown or key in subtables  # a list never shows subtables
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            if key in subtables:
                item.setIcon(icons.icon("mdi6.table"))
        return widget

    def _is_subtable(self, key: str) -> bool:
        spec = next(spec for spec in self.form.fields if spec.key == key)
        return bool(self.services.registry.of(spec).children(spec))

    def _subtables_combo(self) -> QComboBox:
        combo = QComboBox(self)
        combo.addItem(tr("On a sheet of their own"), "sheet")
        combo.addItem(tr("Flattened: one line per subtable row"), "flatten")
        combo.addItem(tr("Leave out"), "omit")
        has_subtables = any(self._is_subtable(key) for key in self.all_keys())
        combo.setEnabled(has_subtables)
        return combo

    def _build(self) -> None:
        form = QFormLayout()
        form.addRow(tr("File:"), file_row(self, self.path_edit, tr("Choose…"), self.choose_file))
        form.addRow(tr("Records:"), self.scope)
        form.addRow(tr("Subtables:"), self.subtables)
        form.setRowVisible(self.subtables, self.subtables.isEnabled())  # none: no choice
        form.addRow("", self.include_id)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(tr("Columns (drag to change the order):"), self))
        layout.addWidget(self.columns, 1)
        layout.addWidget(self.buttons)
        self.resize(560, 500)

    # -- what the list shows ------------------------------------------------------
    def describe_scope(self) -> str:
        """The current filter, search and sort, in words."""
        labels = {spec.key: spec.label or spec.key for spec in self.form.fields}
        labels.update({key: tr(text) for key, text in SYSTEM_COLUMNS.items()})
        query = self.query
        count = (
            tr("All records")
            if self.count is None
            else tr("{count} records").format(count=f"{self.count:,}")
        )
        lines = [tr("{count} of the current list").format(count=count)]
        if query.filter is not None:
            lines.append(tr("Filter: {text}").format(text=filter_text(query.filter, labels)))
        if query.search:
            lines.append(tr("Search: “{text}”").format(text=query.search))
        order = tr("descending") if query.sort.desc else tr("ascending")
        field = labels.get(query.sort.field, query.sort.field)
        lines.append(tr("Sorted by {field}, {order}").format(field=field, order=order))
        if query.trash:
            lines.append(tr("From the trash"))
        return "\n".join(lines)

    def all_keys(self) -> list[str]:
        return [self.columns.item(row).data(KEY_ROLE) for row in range(self.columns.count())]

    def chosen_columns(self) -> list[str]:
        """The checked fields, in the order shown."""
        return [
            self.columns.item(row).data(KEY_ROLE)
            for row in range(self.columns.count())
            if self.columns.item(row).checkState() == Qt.CheckState.Checked
        ]

    def set_columns(self, keys: list[str]) -> None:
        """Check exactly ``keys`` (tests and scripts)."""
        for row in range(self.columns.count()):
            item = self.columns.item(row)
            on = item.data(KEY_ROLE) in keys
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    # -- exporting ----------------------------------------------------------------
    def choose_file(self) -> bool:
        start = self.path_edit.text() or str(
            documents_folder() / f"{safe_file_name(self.form.title)}.xlsx"
        )
        chosen, chosen_filter = file_dialogs.save_file(self, tr("Export to"), start, tr(FILE_TYPES))
        if chosen is None:
            return False
        path = str(chosen)
        if Path(path).suffix.lower() not in (".xlsx", ".csv"):
            path += ".csv" if "csv" in (chosen_filter or "").lower() else ".xlsx"
        self.path_edit.setText(path)
        return True

    def export(self) -> LongTask | None:
        """Run the export on a worker with progress; the result closes the dialog."""
        if not self.path_edit.text().strip() and not self.choose_file():
            return None
        if not self.chosen_columns():
            self._tell(QMessageBox.Icon.Warning, tr("Choose at least one column."))
            return None
        steps = export_records(
            self.services.records,
            self.form.key,
            Path(self.path_edit.text().strip()),
            actor=self.services.actor,
            visible_fields=visible_fields(self.services, self.form.key),
            query=self.query,
            columns=self.chosen_columns(),
            subtables=self.subtables.currentData(),
            include_id=self.include_id.isChecked(),
            page_size=self.page_size,
        )
        self.export_button.setEnabled(False)
        self.task = LongTask(steps, self.windowTitle(), self, run_dialog=self.run_dialog)
        self.task.succeeded.connect(self._done)
        self.task.finished.connect(lambda: self.export_button.setEnabled(True))
        return self.task.start()

    def _done(self, result: ExportResult) -> None:
        self.result_ = result
        self.exported.emit(result)
        self.show_result(result)
        self.accept()

    def show_result(self, result: ExportResult) -> QMessageBox:
        """ "Exported N records to …" with an "Open folder" button."""
        text = tr("Exported {count} records to {path}").format(
            count=f"{result.rows:,}", path=result.path
        )
        box = QMessageBox(QMessageBox.Icon.Information, self.windowTitle(), text, parent=self)
        open_folder = box.addButton(tr("Open folder"), QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Ok)
        self.run_dialog(box)
        if box.clickedButton() is open_folder:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(result.path.parent)))
        return box

    def reject(self) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()
        super().reject()

    def _tell(self, icon: QMessageBox.Icon, text: str) -> Any:
        return self.run_dialog(QMessageBox(icon, self.windowTitle(), text, parent=self))


def filter_text(node: Filter, labels: dict[str, str]) -> str:
    """A filter as a short sentence: "Name contains 泵 and Price at least 5"."""
    if isinstance(node, Condition):
        value = node.value
        if isinstance(value, list | tuple):
            value = ", ".join(str(item) for item in value)
        words = [labels.get(node.field, node.field), tr(OPERATOR_LABELS.get(node.op, node.op))]
        if node.op not in ("is_empty", "not_empty"):
            words.append(str(value))
        return " ".join(words)
    joiner = tr(" and ") if isinstance(node, AllOf) else tr(" or ")
    assert isinstance(node, AllOf | AnyOf)
    return joiner.join(filter_text(part, labels) for part in node.parts)
