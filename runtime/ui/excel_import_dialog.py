"""Import a workbook into a form: choose the file, check the mapping, then import.

A small wizard on one page. Choosing a file runs a dry run of
:func:`runtime.services.excel.importer.import_records`, which matches the columns to
fields and validates every row; the dialog shows that mapping (the user may change
it and check again), the errors and the counts. "Import" writes all or nothing,
"Import the valid rows only" leaves the bad rows out. Matching, converting and
validating are the service's: the dialog only shows what it reports.

An import into the form that did not finish (its process was killed) is shown
above everything, with "Resume" (the same file, checked by the service) and "Undo
this import" (its records to the trash); new imports wait until one of them is
done. A file or rows imported before are named in the check's summary, and
importing them asks first.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.services.excel.importer import RECORD_ID, CellError, ImportResult, import_records
from runtime.services.excel.journal import (
    ImportJournal,
    UndoResult,
    describe,
    duplicate_rows_message,
    in_progress,
    same_file_message,
)
from runtime.services.excel.template import importable_fields
from runtime.spec.models import FormSpec
from runtime.ui.excel_export_dialog import documents_folder
from runtime.ui.i18n import tr
from runtime.ui.login_dialog import error_label, show_message
from runtime.ui.long_task import LongTask, RunDialog, file_row
from runtime.ui.services import UiServices
from widgets.editors import file_dialogs

OPEN_TYPES = "Excel or text (*.xlsx *.csv *.tsv *.txt);;All files (*)"
#: Notes the service appends to ignored column names.
IGNORED_NOTES = (" (not importable)", " (unknown field)")
#: Errors listed in the table; the error workbook has them all.
SHOWN_ERRORS = 1000


class ImportDialog(QDialog):
    """Choose a file, see the mapping and the problems, import."""

    imported = Signal(object)  # ImportResult of a real (not dry) run
    undone = Signal(object)  # UndoResult: records were moved to the trash

    def __init__(
        self,
        services: UiServices,
        form: FormSpec,
        run_dialog: RunDialog | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.form = form
        self.run_dialog = run_dialog or (lambda dialog: dialog.exec())
        self.task: LongTask | None = None
        self.checked: ImportResult | None = None
        self.result_: ImportResult | None = None
        self.journal = ImportJournal(services.records)
        self.open_import = None
        self.setWindowTitle(tr("Import into {form}").format(form=form.title))
        self.targets = self._targets()
        self.path_edit = QLineEdit(self, readOnly=True, placeholderText=tr("No file chosen"))
        self.mapping_table = self._table([tr("Column in the file"), tr("Field")])
        self.upsert = self._upsert_combo()
        self.summary = QLabel(self, wordWrap=True)
        self.errors_table = self._table([tr("Row"), tr("Column"), tr("Problem")])
        self.message = error_label(self)
        self.buttons = QDialogButtonBox(self)
        self.check_button = self._button("mdi6.check-all", tr("Check"), self.check)
        self.import_button = self._button("mdi6.database-import", tr("Import"), self.import_all)
        self.valid_button = self._button(
            "mdi6.filter-check", tr("Import the valid rows only"), self.import_valid
        )
        self.errors_button = self._button(
            "mdi6.file-alert-outline", tr("Save error workbook…"), self.save_error_workbook
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close).setText(tr("Close"))
        self.buttons.rejected.connect(self.reject)
        self.banner, self.banner_text = QFrame(self), QLabel(self)
        self.resume_button = QPushButton(icons.icon("mdi6.play-outline"), tr("Resume"), self)
        self.undo_button = QPushButton(icons.icon("mdi6.undo"), tr("Undo this import"), self)
        self.resume_button.clicked.connect(self.resume)
        self.undo_button.clicked.connect(self.undo)
        self._build()
        self.show_open_import()

    # -- building -------------------------------------------------------------
    def _targets(self) -> list[tuple[str, str]]:
        """(field key, label) the columns may fill: the policy's importable fields."""
        services, key = self.services, self.form.key
        writable = sorted(services.writable_fields(key, "import"))
        fields = importable_fields(services.spec, key, services.registry, writable)
        targets = [(RECORD_ID, tr("Record ID"))]
        for spec, field_type in fields:
            if not field_type.children(spec):  # subtables come from their own sheets
                targets.append((spec.key, spec.label or spec.key))
        return targets

    def _upsert_combo(self) -> QComboBox:
        combo = QComboBox(self)
        combo.addItem(tr("Never: every row is a new record"), None)
        if self.services.allowed(self.form.key, "update"):
            key = self.form.key
            writable = sorted(self.services.writable_fields(key, "import"))
            for spec, field_type in importable_fields(
                self.services.spec, key, self.services.registry, writable
            ):
                if spec.unique or field_type.always_unique:
                    combo.addItem(tr("Same {field}").format(field=spec.label), spec.key)
        combo.setEnabled(combo.count() > 1)
        combo.currentIndexChanged.connect(self._mapping_changed)
        return combo

    def _table(self, headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers), self)
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().setVisible(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        return table

    def _button(self, icon: str, text: str, slot) -> QPushButton:
        button = self.buttons.addButton(text, QDialogButtonBox.ButtonRole.ActionRole)
        button.setIcon(icons.icon(icon))
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    def _build(self) -> None:
        form = QFormLayout()
        form.addRow(
            tr("File:"), file_row(self, self.path_edit, tr("Choose file…"), self.choose_file)
        )
        form.addRow(tr("Update existing records:"), self.upsert)
        layout = QVBoxLayout(self)
        layout.addWidget(self._banner())
        layout.addLayout(form)
        layout.addWidget(QLabel(tr("Columns and the fields they fill:"), self))
        layout.addWidget(self.mapping_table, 3)
        layout.addWidget(self.summary)
        layout.addWidget(self.errors_table, 2)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.errors_table.hide()
        self.resize(760, 680)

    def _banner(self) -> QFrame:
        """The unfinished import: what it is, and the two ways out."""
        banner = self.banner
        banner.setObjectName("unfinishedImport")
        banner.setFrameShape(QFrame.Shape.StyledPanel)
        banner.setStyleSheet(
            "#unfinishedImport { background: #fff4e0; border: 1px solid #e0a040; "
            "border-radius: 4px; }"
        )
        icon = QLabel(banner)
        icon.setPixmap(icons.icon("mdi6.alert-outline", color="#b06000").pixmap(28, 28))
        self.banner_text.setWordWrap(True)
        self.banner_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for button in (self.resume_button, self.undo_button):
            button.setAutoDefault(False)
        buttons = QVBoxLayout()
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.undo_button)
        buttons.addStretch(1)
        row = QHBoxLayout(banner)
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.banner_text, 1)
        row.addLayout(buttons)
        return banner

    def show_open_import(self) -> None:
        """Read the form's open import again and show it (or hide the banner)."""
        entry = self.open_import = self.journal.open_import(self.form.key)
        self.banner.setVisible(entry is not None)
        if entry is not None:
            if in_progress(entry):
                text = tr(
                    "An import into this form is in progress: {import_}. Wait for it to finish."
                )
            elif entry.state == "undoing":
                text = tr("Undoing an import stopped half-way: {import_}. Undo it again to finish.")
            else:
                text = tr(
                    "An import into this form did not finish: {import_}. New imports wait "
                    "until it is resumed with the same file or undone."
                )
            self.banner_text.setText(text.format(import_=describe(entry)))
            self.resume_button.setVisible(entry.state == "running")
        self._enable_buttons()

    # -- the file and its mapping ----------------------------------------------------
    @property
    def path(self) -> Path | None:
        text = self.path_edit.text()
        return Path(text) if text else None

    def choose_file(self) -> bool:
        """Ask for a file; a new file is matched and checked at once."""
        start = str(self.path.parent if self.path else documents_folder())
        path = file_dialogs.open_file(self, tr("Import from"), start, tr(OPEN_TYPES))
        if path is None:
            return False
        self.path_edit.setText(str(path))
        self.mapping_table.setRowCount(0)  # a new file: let the service match again
        self.checked = None
        self.check()
        return True

    def mapping(self) -> dict[str, str | None]:
        """Header → field key (None: ignore) as shown; empty before the first check."""
        result: dict[str, str | None] = {}
        for row in range(self.mapping_table.rowCount()):
            header = self.mapping_table.item(row, 0).data(Qt.ItemDataRole.UserRole)
            result[header] = self.mapping_table.cellWidget(row, 1).currentData()
        return result

    def set_mapping(self, header: str, key: str | None) -> None:
        """Point one file column at a field (tests; the combos do this for people)."""
        for row in range(self.mapping_table.rowCount()):
            if self.mapping_table.item(row, 0).data(Qt.ItemDataRole.UserRole) == header:
                combo = self.mapping_table.cellWidget(row, 1)
                combo.setCurrentIndex(combo.findData(key))
                return
        raise KeyError(header)

    def _show_mapping(self, result: ImportResult) -> None:
        rows = list(result.columns.items())
        for text in result.ignored_columns:
            rows.append((_ignored_header(text), None))
        table = self.mapping_table
        table.setRowCount(len(rows))
        for row, (header, key) in enumerate(rows):
            item = QTableWidgetItem(header)
            item.setData(Qt.ItemDataRole.UserRole, header)
            table.setItem(row, 0, item)
            table.setCellWidget(row, 1, self._target_combo(key))

    def _target_combo(self, key: str | None) -> QComboBox:
        combo = QComboBox(self.mapping_table)
        combo.addItem(tr("(do not import)"), None)
        for target, label in self.targets:
            combo.addItem(label, target)
        combo.setCurrentIndex(max(0, combo.findData(key)))
        combo.currentIndexChanged.connect(self._mapping_changed)
        return combo

    def _mapping_changed(self) -> None:
        """A changed mapping or upsert must be checked again before importing."""
        if self.checked is not None:
            self.checked = None
            self.summary.setText(tr("The choices changed: press Check again."))
        self._enable_buttons()

    # -- running ----------------------------------------------------------------
    def _run(self, on_done, **options) -> LongTask | None:
        if self.path is None:
            return None
        show_message(self.message, "")
        resuming = options.get("resume", False)
        steps = import_records(
            self.services.records,
            self.form.key,
            self.path,
            actor=self.services.actor,
            visible_fields=sorted(self.services.writable_fields(self.form.key, "import")),
            mapping=None if resuming else (self.mapping() or None),
            upsert_by=None if resuming else self.upsert.currentData(),
            **options,
        )
        return self._start(steps, on_done)

    def _start(self, steps, on_done, title: str | None = None) -> LongTask:
        self.task = LongTask(steps, title or self.windowTitle(), self, run_dialog=self.run_dialog)
        self.task.succeeded.connect(on_done)
        self.task.failed.connect(lambda text: show_message(self.message, text))
        self.task.finished.connect(self.show_open_import)
        self._set_busy()
        return self.task.start()

    def check(self) -> LongTask | None:
        """A dry run: the mapping, every row's problems and the counts."""
        return self._run(self._checked, dry_run=True)

    def import_all(self) -> LongTask | None:
        """Write every row, or none when any row has a problem."""
        allow = self._confirm_duplicates()
        return None if allow is None else self._run(self._imported, mode="all", **allow)

    def import_valid(self) -> LongTask | None:
        allow = self._confirm_duplicates()
        return None if allow is None else self._run(self._imported, mode="valid_only", **allow)

    def _confirm_duplicates(self) -> dict[str, bool] | None:
        """Ask before importing a file or rows imported before; None: the user said no."""
        checked = self.checked
        if checked is None or not (checked.same_file or checked.duplicates):
            return {}
        text = "\n".join([*duplicate_lines(checked), tr("Import them anyway?")])
        box = QMessageBox(QMessageBox.Icon.Warning, self.windowTitle(), text, parent=self)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        if self.run_dialog(box) != QMessageBox.StandardButton.Yes.value:
            return None
        return {"allow_duplicates": True}

    def resume(self) -> LongTask | None:
        """Continue the unfinished import with its file (asked for when it moved)."""
        entry = self.open_import
        if entry is None:
            return None
        path = Path(entry.source_path) if entry.source_path else None
        if path is None or not path.is_file():
            start = str(documents_folder() / (entry.file_name or ""))
            path = file_dialogs.open_file(self, tr("Resume the import with"), start, tr(OPEN_TYPES))
            if path is None:
                return None
        self.path_edit.setText(str(path))
        self.mapping_table.setRowCount(0)
        self.checked = None
        return self._run(self._imported, resume=True)

    def undo(self) -> LongTask | None:
        """Move the records the unfinished import created to the trash, after asking."""
        entry = self.open_import
        if entry is None:
            return None
        question = tr(
            "Move the records created by {import_} to the trash? Records it updated keep "
            "their values. Records in the trash can be restored."
        ).format(import_=describe(entry))
        box = QMessageBox(QMessageBox.Icon.Question, tr("Undo this import"), question, parent=self)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        if self.run_dialog(box) != QMessageBox.StandardButton.Yes.value:
            return None
        show_message(self.message, "")
        steps = self.journal.undo(entry.import_id, self.services.actor)
        return self._start(steps, self._undone, tr("Undo this import"))

    def _undone(self, result: UndoResult) -> None:
        self.summary.setText(
            tr("{count} records moved to the trash.").format(count=f"{result.trashed:,}")
        )
        self.errors_table.hide()
        self.undone.emit(result)

    def save_error_workbook(self) -> LongTask | None:
        """The file again with the bad cells marked and explained, where the user says."""
        if self.path is None:
            return None
        start = str(self.path.with_name(f"{self.path.stem}.errors.xlsx"))
        target, _ = file_dialogs.save_file(
            self, tr("Save error workbook"), start, tr("Excel workbook (*.xlsx)")
        )
        if target is None:
            return None
        mode = "valid_only" if self.valid_button.isEnabled() else "all"
        return self._run(self._errors_saved, dry_run=True, mode=mode, error_workbook=target)

    def _checked(self, result: ImportResult) -> None:
        if not self.mapping_table.rowCount():
            self._show_mapping(result)
        self.checked = result
        self._show_errors(result.errors)
        self.summary.setText(check_summary(result))

    def _imported(self, result: ImportResult) -> None:
        if result.errors and not (result.created or result.updated):
            self._checked(result)  # nothing written: show why
            return
        self.result_ = result
        self.checked = None  # imported: do not offer the same rows twice
        self.summary.setText(import_summary(result))
        self.errors_table.hide()
        self.imported.emit(result)

    def _errors_saved(self, result: ImportResult) -> None:
        self._checked(result)
        if result.error_workbook is not None:
            self.summary.setText(
                self.summary.text()
                + "\n"
                + tr("Error workbook saved to {path}").format(path=result.error_workbook)
            )

    def _show_errors(self, errors: list[CellError]) -> None:
        table = self.errors_table
        table.setRowCount(min(len(errors), SHOWN_ERRORS))
        for row, error in enumerate(errors[:SHOWN_ERRORS]):
            where = f"{error.column} ({error.label})" if error.column else error.label
            texts = (str(error.row) if error.row else "—", where, error.message)
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setToolTip(str(error))
                table.setItem(row, column, item)
        table.setVisible(bool(errors))

    def _set_busy(self) -> None:
        for button in self._action_buttons():
            button.setEnabled(False)

    def _action_buttons(self) -> list[QPushButton]:
        return [
            self.check_button,
            self.import_button,
            self.valid_button,
            self.errors_button,
            self.resume_button,
            self.undo_button,
        ]

    def _enable_buttons(self) -> None:
        checked = self.checked
        file_ok = checked is not None and not any(error.row == 0 for error in checked.errors)
        valid = file_ok and checked is not None and checked.rows_valid > 0
        free = self.open_import is None  # new imports wait for an unfinished one
        self.check_button.setEnabled(self.path is not None)
        self.import_button.setEnabled(free and valid and checked is not None and checked.ok)
        self.valid_button.setEnabled(free and valid and checked is not None and not checked.ok)
        self.errors_button.setEnabled(checked is not None and not checked.ok)
        alive = self.open_import is not None and in_progress(self.open_import)
        self.resume_button.setEnabled(not free and not alive)
        may_undo = self.services.allowed(self.form.key, "delete")
        self.undo_button.setEnabled(not free and not alive and may_undo)

    def reject(self) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()
        super().reject()


def _ignored_header(text: str) -> str:
    """The header of an ignored column, without the service's note."""
    for note in IGNORED_NOTES:
        if text.endswith(note):
            return text[: -len(note)]
    return text


def check_summary(result: ImportResult) -> str:
    bad = result.rows_total - result.rows_valid
    text = tr("{total} rows checked: {valid} ready to import, {bad} with problems.").format(
        total=f"{result.rows_total:,}", valid=f"{result.rows_valid:,}", bad=f"{bad:,}"
    )
    if len(result.errors) > SHOWN_ERRORS:
        text += " " + tr("The first {shown} of {count} problems are listed.").format(
            shown=f"{SHOWN_ERRORS:,}", count=f"{len(result.errors):,}"
        )
    return "\n".join([text, *duplicate_lines(result)])


def duplicate_lines(result: ImportResult) -> list[str]:
    """The file or rows of a check that were imported into the form before."""
    lines = []
    name, form = result.file.name, result.form
    if result.same_file is not None:
        lines.append(_sentence(same_file_message(result.same_file, name, form)))
    if result.duplicates:
        lines.append(_sentence(duplicate_rows_message(result.duplicates, name, form)))
    return lines


def _sentence(text: str) -> str:
    """A service's clause as a sentence of its own."""
    return f"{text[:1].upper()}{text[1:]}." if text else text


def import_summary(result: ImportResult) -> str:
    text = tr("{created} created, {updated} updated.").format(
        created=f"{result.created:,}", updated=f"{result.updated:,}"
    )
    if result.skipped:
        text += " " + tr("{skipped} rows with problems were left out.").format(
            skipped=f"{result.skipped:,}"
        )
    return text
