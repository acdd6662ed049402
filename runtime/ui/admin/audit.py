"""The audit log viewer: filters, pages of 100 rows (newest first), chain check.

The chain check hashes every row, which takes a while on a log of millions, so it
runs as a :class:`LongTask`: off the GUI thread, with a bar and a Cancel button.
"""

from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtGui import QHideEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
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
from runtime.services.audit_log import (
    PAGE_SIZE,
    VERIFY_BATCH,
    AuditFilter,
    AuditLine,
    AuditLog,
    ChainReport,
)
from runtime.spec.models import AppSpec
from runtime.ui.i18n import tr
from runtime.ui.long_task import LongTask, RunDialog

OK_STYLE = "color: #2e7d32;"
BROKEN_STYLE = "color: #c62828; font-weight: bold;"


class AuditPanel(QWidget):
    """Who did what, when, from which workstation."""

    #: Rows hashed per progress step; tests lower it to cancel a check midway.
    verify_batch = VERIFY_BATCH

    def __init__(self, log: AuditLog, spec: AppSpec | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.log = log
        self.spec = spec
        self.user = self._combo()
        self.action = self._combo()
        self.form = self._combo()
        self.start_on, self.start = self._date(tr("From"))
        self.end_on, self.end = self._date(tr("To"))
        self.table = self._make_table()
        self.page_label = QLabel(self)
        self.newer_button = self._button("mdi6.chevron-left", tr("Newer"), self.newer)
        self.older_button = self._button("mdi6.chevron-right", tr("Older"), self.older)
        self.verify_button = self._button("mdi6.link-lock", tr("Verify chain"), self.verify)
        self.verify_label = QLabel(self, wordWrap=True)
        self.task: LongTask | None = None
        self.ask: RunDialog = lambda dialog: dialog.exec()
        self.rows: list[AuditLine] = []
        self._cursors: list[int | None] = [None]
        self._build()
        self.fill_choices()
        self.apply()

    # -- building -------------------------------------------------------------
    def _combo(self) -> QComboBox:
        combo = QComboBox(self)
        combo.setMinimumContentsLength(10)
        combo.currentIndexChanged.connect(lambda _index: self.apply())
        return combo

    def _date(self, text: str) -> tuple[QCheckBox, QDateEdit]:
        check = QCheckBox(text, self)
        edit = QDateEdit(QDate.currentDate(), self, calendarPopup=True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setEnabled(False)
        check.toggled.connect(edit.setEnabled)
        check.toggled.connect(lambda _on: self.apply())
        edit.dateChanged.connect(lambda _day: self.apply())
        return check, edit

    def _button(self, icon: str, text: str, slot) -> QPushButton:
        button = QPushButton(icons.icon(icon), text, self)
        button.clicked.connect(slot)
        return button

    def _make_table(self) -> QTableWidget:
        headers = [tr("When"), tr("User"), tr("Workstation"), tr("Action")]
        headers += [tr("App"), tr("Form"), tr("Record"), tr("Details")]
        table = QTableWidget(0, len(headers), self)
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().setVisible(False)
        table.setWordWrap(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        return table

    def _build(self) -> None:
        filters = QHBoxLayout()
        for text, widget in ((tr("User"), self.user), (tr("Action"), self.action)):
            filters.addWidget(QLabel(text, self))
            filters.addWidget(widget)
        filters.addWidget(QLabel(tr("Form"), self))
        filters.addWidget(self.form)
        for widget in (self.start_on, self.start, self.end_on, self.end):
            filters.addWidget(widget)
        filters.addStretch(1)
        paging = QHBoxLayout()
        paging.addWidget(self.verify_button)
        paging.addWidget(self.verify_label, 1)
        for widget in (self.page_label, self.newer_button, self.older_button):
            paging.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(paging)

    def fill_choices(self) -> None:
        """Offer the user names and actions the log has, and the app's forms."""
        every = tr("(all)")
        choices = (
            (self.user, [(name, name) for name in self.log.distinct_values("username")]),
            (self.action, [(name, name) for name in self.log.distinct_values("action")]),
            (self.form, [(f.title, f.key) for f in self.spec.forms] if self.spec else []),
        )
        for combo, items in choices:
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(every, None)
            for text, data in items:
                combo.addItem(text, data)
            combo.blockSignals(False)

    # -- reading ----------------------------------------------------------------
    def current_filter(self) -> AuditFilter:
        form = self.form.currentData()
        return AuditFilter(
            username=self.user.currentData(),
            action=self.action.currentData(),
            app_id=self.spec.id if form and self.spec else None,
            form=form,
            start=self.start.date().toPython() if self.start_on.isChecked() else None,
            end=self.end.date().toPython() if self.end_on.isChecked() else None,
        )

    def apply(self) -> None:
        """Show the first (newest) page of the filtered log."""
        self._cursors = [None]
        self.show_page()

    def show_page(self) -> None:
        where = self.current_filter()
        self.rows = self.log.page(where, self._cursors[-1], PAGE_SIZE)
        self.table.setRowCount(len(self.rows))
        for row, line in enumerate(self.rows):
            texts = (line.local_time(), line.username, line.workstation, line.action)
            texts += (line.app_id, line.form, "" if line.record_id is None else str(line.record_id))
            for column, text in enumerate((*texts, line.details)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        total = self.log.count(where)
        first = (len(self._cursors) - 1) * PAGE_SIZE
        shown = f"{first + 1}–{first + len(self.rows)}" if self.rows else "0"
        self.page_label.setText(tr("Rows {shown} of {total}").format(shown=shown, total=total))
        self.newer_button.setEnabled(len(self._cursors) > 1)
        self.older_button.setEnabled(len(self.rows) == PAGE_SIZE and first + PAGE_SIZE < total)

    def older(self) -> None:
        if self.rows:
            self._cursors.append(self.rows[-1].id)
            self.show_page()

    def newer(self) -> None:
        if len(self._cursors) > 1:
            self._cursors.pop()
            self.show_page()

    # -- the chain check ------------------------------------------------------------
    def verify(self) -> LongTask:
        """Check the hash chain off the GUI thread, with a bar and Cancel; the label
        then says it is intact, names the first broken row, or that it was cancelled."""
        steps = self.log.verify_steps(self.verify_batch)
        self.verify_button.setEnabled(False)
        if self.task is not None:
            self.task.deleteLater()  # the last check's, finished: the button was off
        self.task = LongTask(steps, tr("Verify chain"), self, run_dialog=self.ask)
        self.task.succeeded.connect(self.show_report)
        self.task.cancelled.connect(self.show_cancelled)
        self.task.finished.connect(lambda: self.verify_button.setEnabled(True))
        return self.task.start()

    def show_report(self, report: ChainReport) -> None:
        if report.ok:
            text = tr("The audit log is intact: {rows} rows checked.").format(rows=report.rows)
        elif report.drifted:
            first = report.drifted[0]
            text = tr(
                "{count} records differ from their last audited state, first record "
                "#{record} of '{form}'."
            ).format(count=len(report.drifted), record=first.record_id, form=first.form)
        elif report.broken_id is None:
            text = tr("The audit log is not intact: {reason}.").format(reason=report.reason)
        else:
            text = tr("The audit log is broken at row #{row}: {reason}.").format(
                row=report.broken_id, reason=report.reason
            )
        self.verify_label.setText(text)
        self.verify_label.setStyleSheet(OK_STYLE if report.ok else BROKEN_STYLE)

    def show_cancelled(self) -> None:
        self.verify_label.setText(tr("Check cancelled."))
        self.verify_label.setStyleSheet("")

    def hideEvent(self, event: QHideEvent) -> None:
        # Closing the window (or locking the screen) stops the check: the task's
        # worker would otherwise walk on, and deleting the task waits for it.
        if self.task is not None and self.task.running:
            self.task.cancel()
        super().hideEvent(event)
