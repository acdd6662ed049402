"""Someone saved the record first: show who and what, and let the user choose.

Nothing is overwritten silently. The choices are: reload the record and re-apply
my changes on top (for review before saving), keep my values as a new record,
or go back to the form.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.services.records.service import ConflictError
from runtime.spec.models import FormSpec
from runtime.ui.history import EMPTY, local_time_text
from runtime.ui.i18n import tr
from widgets.base import ExcelContext, FieldValueError
from widgets.registry import FieldTypeRegistry, default_registry


class ConflictChoice(Enum):
    RELOAD = "reload"
    COPY = "copy"
    CANCEL = "cancel"


class ConflictDialog(QDialog):
    """Who saved when, and a table of field / your value / their value."""

    def __init__(
        self,
        error: ConflictError,
        form: FormSpec,
        context: ExcelContext | None = None,
        registry: FieldTypeRegistry = default_registry,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, windowTitle=tr("Someone else saved this record"))
        self.error = error
        self.form = form
        self.context = context or ExcelContext()
        self.registry = registry
        self.choice = ConflictChoice.CANCEL
        self.table = self._make_table()
        self.reload_button = self._choice_button(
            "mdi6.refresh", tr("Reload and re-apply my changes"), ConflictChoice.RELOAD
        )
        self.copy_button = self._choice_button(
            "mdi6.content-copy", tr("Keep my values as a copy"), ConflictChoice.COPY
        )
        self.cancel_button = self._choice_button("mdi6.close", tr("Cancel"), ConflictChoice.CANCEL)
        self.reload_button.setDefault(True)
        self._build()

    def _build(self) -> None:
        when = local_time_text(self.error.saved_at)
        text = tr(
            "<b>{name}</b> saved this record at <b>{when}</b>, after you opened it. "
            "Nothing of yours has been saved yet."
        )
        summary = QLabel(text.format(name=_escape(self.error.saved_by), when=when), self)
        summary.setWordWrap(True)
        hint = QLabel(tr("These fields differ between your form and the saved record:"), self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.reload_button, self.copy_button, self.cancel_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.resize(680, 360)

    def _make_table(self) -> QTableWidget:
        specs = {spec.key: spec for spec in self.form.fields}
        table = QTableWidget(len(self.error.differences), 3, self)
        table.setHorizontalHeaderLabels([tr("Field"), tr("Your value"), tr("Their value")])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.setWordWrap(True)
        for row, (key, (mine, theirs)) in enumerate(self.error.differences.items()):
            spec = specs.get(key)
            label = spec.label if spec is not None else key
            for column, text in enumerate((label, self.text(spec, mine), self.text(spec, theirs))):
                table.setItem(row, column, QTableWidgetItem(text))
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return table

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.table.resizeRowsToContents()  # only now do the columns have their widths

    def text(self, spec: Any, value: Any) -> str:
        """A value as the list shows it; "(empty)" for nothing."""
        if spec is None:
            return "" if value is None else str(value)
        field_type = self.registry.of(spec)
        try:
            text = field_type.display(spec, field_type.coerce(spec, value), self.context)
        except (FieldValueError, TypeError, ValueError):
            text = str(value)
        return text or tr(EMPTY)

    def _choice_button(self, icon: str, text: str, choice: ConflictChoice) -> QPushButton:
        button = QPushButton(icons.icon(icon), text, self)
        button.clicked.connect(lambda: self.choose(choice))
        return button

    def choose(self, choice: ConflictChoice) -> None:
        self.choice = choice
        self.accept() if choice is not ConflictChoice.CANCEL else self.reject()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
