"""The record window: one record's form, with Save / Save and new / Delete / Cancel.

It turns service answers into screens: ValidationFailed → messages under the
fields; ConflictError → the conflict dialog (nothing is overwritten silently);
DatabaseUnavailable → a banner, the form kept as typed for saving again once the
server is back; unsaved edits → a question before closing. New records start with defaults.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.services.errors import DatabaseUnavailable, ServiceError
from runtime.services.query import Record
from runtime.services.records.references import NameMap
from runtime.services.records.service import ConflictError, ValidationFailed
from runtime.spec.models import FormSpec
from runtime.ui.conflict_dialog import ConflictChoice, ConflictDialog
from runtime.ui.form_view import RecordFormView
from runtime.ui.history import history_lines
from runtime.ui.i18n import tr
from runtime.ui.services import UiServices
from widgets.base import ExcelContext, FieldSpecBase, FieldValueError, default_value

BANNER_STYLE = "background:#fdecea; color:#b71c1c; padding:6px 10px; border-radius:4px;"


class RecordWindow(QDialog):
    """Create, edit or delete one record of a form."""

    saved = Signal(int)
    deleted = Signal(int)

    def __init__(
        self,
        services: UiServices,
        form: FormSpec,
        record_id: int | None = None,
        parent: QWidget | None = None,
        trash: bool = False,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.form = form
        self.trash = trash
        self.record: Record | None = None
        self.context = ExcelContext(names=NameMap(services.references))
        self.view = RecordFormView(form, services.references, services.registry, self)
        self.banner = QLabel(self, wordWrap=True, styleSheet=BANNER_STYLE)
        self.history = self._make_history()
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.view, icons.icon("mdi6.form-select"), tr("Form"))
        self.tabs.addTab(self.history, icons.icon("mdi6.history"), tr("History"))
        self.save_button = self._button("mdi6.content-save", tr("Save"), self.save_and_close)
        self.save_new_button = self._button(
            "mdi6.content-save-move", tr("Save and new"), self.save_and_new
        )
        self.delete_button = self._button("mdi6.delete", tr("Delete"), self.delete_record)
        self.cancel_button = self._button("mdi6.close", tr("Cancel"), self.reject)
        self._build()
        QShortcut(QKeySequence.StandardKey.Save, self, self.save_and_close)
        QShortcut(QKeySequence("Ctrl+N"), self, self.save_and_new)
        self.load(record_id) if record_id is not None else self.start_new()

    # -- building -------------------------------------------------------------
    def _build(self) -> None:
        self.banner.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        for button in (self.save_new_button, self.save_button, self.cancel_button):
            buttons.addWidget(button)
        self.save_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        # As tall as the form needs (a short form is a small window), within reason.
        height = self.view.widget().sizeHint().height() + 130
        self.resize(920, max(420, min(760, height)))

    def _button(self, icon: str, text: str, slot) -> QPushButton:
        button = QPushButton(icons.icon(icon), text, self, autoDefault=False)
        button.clicked.connect(slot)
        return button

    def _make_history(self) -> QTableWidget:
        table = QTableWidget(0, 4, self)
        table.setHorizontalHeaderLabels([tr("When"), tr("Who"), tr("Action"), tr("Change")])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.verticalHeader().setVisible(False)
        header = table.horizontalHeader()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        return table

    # -- showing a record -----------------------------------------------------
    def start_new(self) -> None:
        """An empty form with the fields' defaults (and the current user/department)."""
        self.record = None
        self._apply_modes()
        empty = dict.fromkeys(self.view.cells)
        self.view.set_values(empty | self.defaults())
        self.setWindowTitle(tr("New — {form}").format(form=self.form.title))
        self._show_state()

    def load(self, record_id: int) -> None:
        self.record = self.services.records.get(
            self.form.key, record_id, self.services.actor, trash=self.trash
        )
        self._apply_modes()
        self.view.set_values(self.record.values)
        self.setWindowTitle(f"{self.form.title} — #{record_id}")
        self._show_state()
        self.load_history()

    def _action(self) -> str:
        return "create" if self.record is None else "update"

    def _apply_modes(self) -> None:
        """Hidden and read-only fields as the service's policy says, for this action."""
        form, action = self.form.key, self._action()
        self.view.apply_field_modes(self.services.field_modes(form, action))
        self.view.set_read_only(self.trash or not self.services.allowed(form, action))

    def _show_state(self) -> None:
        self.banner.hide()
        existing = self.record is not None
        can = {a: self.services.allowed(self.form.key, a) for a in ("create", "update", "delete")}
        self.tabs.setTabEnabled(1, existing)
        self.delete_button.setEnabled(existing and not self.trash and can["delete"])
        self.save_button.setEnabled(not self.trash and can[self._action()])
        self.save_new_button.setEnabled(not self.trash and can["create"])
        if not existing:
            self.history.setRowCount(0)

    def load_history(self) -> None:
        rows = self.services.history(self.form.key, self.record.id) if self.record else []
        lines = history_lines(rows, self.form, self.context, self.services.registry)
        self.history.setRowCount(len(lines))
        for row, line in enumerate(lines):
            for column, text in enumerate((line.when, line.who, line.action, line.change)):
                self.history.setItem(row, column, QTableWidgetItem(text))

    def defaults(self) -> dict[str, Any]:
        """Each field's default through its type; ``default_current`` people fields."""
        references, registry = self.services.references, self.services.registry
        values = {
            spec.key: default_value(registry.of(spec), spec, references)
            for spec in self.form.fields
        }
        return {key: value for key, value in values.items() if value is not None}

    def changes(self) -> dict[str, Any]:
        """What to send: the fields the user may set — all of them for a new record,
        else only the edited ones (so a conflict names only what I changed)."""
        writable = self.services.writable_fields(self.form.key, self._action())
        values = {k: v for k, v in self.view.values().items() if k in writable}
        cells = self.view.cells
        return {
            key: value
            for key, value in values.items()
            if not self.services.registry.of(cells[key].spec).computed
            and (
                self.record is None
                or not self._same(cells[key].spec, value, self.record.values.get(key))
            )
        }

    def _same(self, spec: FieldSpecBase, mine: Any, stored: Any) -> bool:
        field_type = self.services.registry.of(spec)
        try:
            return field_type.coerce(spec, mine) == field_type.coerce(spec, stored)
        except FieldValueError:
            return False

    def is_dirty(self) -> bool:
        return self.view.is_dirty()

    # -- saving ---------------------------------------------------------------
    def save(self) -> bool:
        """Save; True when the record is stored (errors are shown on the form).

        Text typed that is not a value of its field is never saved as another value
        or as empty: the form shows why under the field and nothing is written."""
        problems = self.view.typing_problems()
        if problems:
            self._show_errors(problems)
            return False
        try:
            self.services.save_files(self.pending_files())
            record = self._write(self.changes())
        except ValidationFailed as error:
            self._show_errors(error.errors)
            return False
        except ConflictError as error:
            return self.resolve_conflict(error)
        except DatabaseUnavailable as error:
            self._show_banner(
                tr("{problem}. Your entries are kept: save again when the server is back.").format(
                    problem=error.message
                )
            )
            return False
        except ServiceError as error:
            self._show_banner(error.message)
            return False
        self._stored(record)
        return True

    def _write(self, values: dict[str, Any]) -> Record:
        records, actor, form = self.services.records, self.services.actor, self.form.key
        if self.record is None:
            return records.create(form, values, actor)
        return records.update(form, self.record.id, values, self.record.version, actor)

    def _stored(self, record: Record) -> None:
        for cell in self.view.cells.values():
            getattr(cell.editor, "pending", {}).clear()
        self.load(record.id)
        self.saved.emit(record.id)

    def pending_files(self) -> dict[str, bytes]:
        """Bytes of files attached in this window that are not stored yet."""
        files: dict[str, bytes] = {}
        for cell in self.view.cells.values():
            files.update(getattr(cell.editor, "pending", None) or {})
        return files

    def save_and_close(self) -> None:
        if self.save():
            self.accept()

    def save_and_new(self) -> None:
        if self.save():
            self.start_new()

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.tabs.setCurrentIndex(0)
        self.view.set_errors(errors)
        general = [message for key, message in errors.items() if key not in self.view.cells]
        self._show_banner(" ".join([tr("Please correct the fields marked below."), *general]))

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    # -- conflicts --------------------------------------------------------------
    def resolve_conflict(self, error: ConflictError) -> bool:
        """Ask what to do; only "keep my values as a copy" ends in a saved record."""
        dialog = ConflictDialog(error, self.form, self.context, self.services.registry, self)
        dialog.exec()
        if dialog.choice is ConflictChoice.RELOAD:
            self.reload_and_reapply()
        elif dialog.choice is ConflictChoice.COPY:
            return self.save_as_copy()
        return False

    def reload_and_reapply(self) -> None:
        """Show the saved record with my changes on top, unsaved, for review."""
        mine = self.changes()
        self.load(self.record.id)
        for key, value in mine.items():
            editor = self.view.cells[key].editor
            editor.set_value(value)
            editor.value_changed.emit()  # marks the form dirty and reruns its rules
        self._show_banner(
            tr("The record was reloaded and your changes re-applied. Review, then save.")
        )

    def save_as_copy(self) -> bool:
        """Create a new record from my values (numbers assigned by the system are new)."""
        original, self.record = self.record, None
        values = {
            key: value
            for key, value in self.changes().items()
            if not self.services.registry.of(self.view.cells[key].spec).always_unique
        }
        try:
            record = self._write(values)
        except ValidationFailed as error:
            self.record = original
            self._show_errors(error.errors)
            return False
        self._stored(record)
        return True

    # -- deleting and closing -----------------------------------------------------
    def delete_record(self) -> None:
        if self.record is None:
            return
        answer = QMessageBox.question(self, tr("Delete"), tr("Move this record to the trash?"))
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.services.records.delete(self.form.key, self.record.id, self.services.actor)
        except ServiceError as error:
            self._show_banner(error.message)
            return
        self.deleted.emit(self.record.id)
        super().reject()

    def reject(self) -> None:
        """Esc, Cancel and the close box: ask first when there are unsaved edits."""
        if self.confirm_discard():
            super().reject()

    def confirm_discard(self) -> bool:
        if not self.is_dirty():
            return True
        buttons = (
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        answer = QMessageBox.question(
            self, self.form.title, tr("Save your changes to this record?"), buttons
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard
