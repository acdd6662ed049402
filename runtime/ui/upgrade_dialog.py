"""Install or upgrade an app: show the plan, then run it after confirmation.

The plan's lines (``MigrationPlan.describe``), its blockers and the values that
will not convert are shown before anything changes. The work itself is a
generator of step texts (back up, upgrade, done) that the dialog runs with a
progress bar; an error stays in the dialog and nothing is half-done (the
migration is one transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QListWidget,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from resources import icons
from runtime.package import PackageError
from runtime.services.errors import WorkspaceError
from runtime.services.upgrade import MigrationPlan
from runtime.spec import SpecError
from runtime.ui.i18n import tr
from runtime.ui.login_dialog import error_label, show_message

#: The work, as a generator of texts for the status line (see RuntimeApp._upgrade_steps).
StepTexts = Callable[[], Iterator[str]]
FAILURES = (WorkspaceError, PackageError, SpecError, OSError)


class UpgradeDialog(QDialog):
    """The plan of an install or upgrade, with "Install"/"Upgrade" and "Cancel"."""

    def __init__(
        self,
        plan: MigrationPlan,
        app_title: str,
        steps: StepTexts,
        backup_note: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.plan = plan
        self.steps = steps
        self.applied = False
        self.setWindowTitle(self._title(app_title))
        self.changes = QListWidget(self)
        self.changes.addItems([step.description for step in plan.steps] or [tr("No changes")])
        self.blockers = error_label(self)
        self.unconverted = self._unconverted_table()
        self.progress = QProgressBar(self)
        self.status = QLabel(self)
        self.message = error_label(self)
        self.buttons = QDialogButtonBox(self)
        verb = tr("Install") if plan.is_install else tr("Upgrade")
        self.apply_button = self.buttons.addButton(verb, QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setIcon(icons.icon("mdi6.database-arrow-up"))
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText(tr("Cancel"))
        self.buttons.accepted.connect(self.confirm)
        self.buttons.rejected.connect(self.reject)
        self._build(app_title, backup_note)

    def _title(self, app_title: str) -> str:
        if self.plan.is_install:
            return tr("Install {app}").format(app=app_title)
        return tr("Upgrade {app}").format(app=app_title)

    def _heading(self, app_title: str) -> str:
        plan = self.plan
        if plan.is_install:
            return tr(
                "{app} (version {version}) is not installed in this database yet. "
                "Installing it creates:"
            ).format(app=app_title, version=plan.to_version)
        return tr(
            "This package has a newer version of {app}: version {old} → {new}. "
            "Upgrading keeps every value and changes:"
        ).format(app=app_title, old=plan.from_version, new=plan.to_version)

    def _unconverted_table(self) -> QTableWidget:
        rows = self.plan.unconverted
        table = QTableWidget(len(rows), 4, self)
        table.setHorizontalHeaderLabels([tr("Field"), tr("Record"), tr("Value"), tr("Reason")])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        for row, item in enumerate(rows):
            texts = (f"{item.form}.{item.field}", f"#{item.record_id}", item.value, item.reason)
            for column, text in enumerate(texts):
                table.setItem(row, column, QTableWidgetItem(text))
        table.setVisible(bool(rows))
        return table

    def _build(self, app_title: str, backup_note: str) -> None:
        layout = QVBoxLayout(self)
        title = QLabel(f"<h3>{self.windowTitle()}</h3>", self)
        title.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(title)
        layout.addWidget(QLabel(self._heading(app_title), self, wordWrap=True))
        layout.addWidget(self.changes, 1)
        if self.plan.blockers:
            text = tr("The upgrade cannot run until this is corrected:")
            lines = "\n".join(f"• {blocker}" for blocker in self.plan.blockers)
            show_message(self.blockers, f"{text}\n{lines}")
            self.apply_button.setEnabled(False)
        layout.addWidget(self.blockers)
        if self.plan.unconverted:
            note = tr("These values cannot become the new type; they are kept in the old column:")
            layout.addWidget(QLabel(note, self, wordWrap=True))
        layout.addWidget(self.unconverted, 1)
        if backup_note:
            layout.addWidget(QLabel(backup_note, self, wordWrap=True))
        self.progress.hide()
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(640, 480)

    def lines(self) -> list[str]:
        """Everything the dialog says about the plan (for tests and logs)."""
        return self.plan.describe()

    def confirm(self) -> bool:
        """Run the steps with a progress bar; accept when done, stay open on an error."""
        if self.plan.blockers:
            return False
        self.apply_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        try:
            for text in self.steps():
                self.status.setText(text)
                QCoreApplication.processEvents()
        except FAILURES as error:
            self._failed(error)
            return False
        self.applied = True
        self.accept()
        return True

    def _failed(self, error: Exception) -> None:
        self.progress.hide()
        self.status.clear()
        message = getattr(error, "message", None) or str(error)
        show_message(self.message, tr("Nothing was changed: {reason}").format(reason=message))
        self.cancel_button.setEnabled(True)
