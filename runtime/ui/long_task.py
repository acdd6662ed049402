"""Runs long work (a generator of :class:`Progress` steps) off the GUI thread.

The services write export, import and other slow work as generators whose return
value is the result; closing the generator cancels it and the service cleans up
(no partial file, no half-written batch). :class:`LongTask` drives one such
generator on a worker thread, shows a progress dialog with a Cancel button and
reports exactly one outcome: ``succeeded(result)``, ``failed(message)`` or
``cancelled()``. The generator is closed on the thread that runs it, because a
generator cannot be closed while another thread is inside it.

Tests set ``LongTask.synchronous = True`` (or pass ``synchronous=True``) to run the
steps on the calling thread, so they can iterate and cancel deterministically.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Generator
from typing import Any, ClassVar, TypeVar

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QWidget,
)

from resources import icons
from runtime.services.errors import ServiceError, database_problem_in
from runtime.services.excel.common import ExcelError
from runtime.services.progress import Progress, Steps
from runtime.ui.i18n import tr

log = logging.getLogger(__name__)

#: Errors whose message is meant for the user (one plain sentence).
USER_ERRORS = (ServiceError, ExcelError, OSError)
SHOW_AFTER_MS = 300
T = TypeVar("T")
RunDialog = Callable[[QDialog], Any]


def step_text(message: str) -> str:
    """The user's words for a service's step name ("exporting", "checking", …)."""
    texts = {
        "exporting": tr("Exporting records…"),
        "saving": tr("Saving the file…"),
        "reading the file": tr("Reading the file…"),
        "checking": tr("Checking the rows…"),
        "importing": tr("Importing…"),
        "undoing the import": tr("Moving the import's records to the trash…"),
        "finding the selected records": tr("Finding the selected records…"),
        "moving to the trash": tr("Moving records to the trash…"),
        "restoring": tr("Restoring records…"),
        "backing up": tr("Backing up the database…"),
        "installing": tr("Installing…"),
        "upgrading": tr("Upgrading…"),
    }
    return texts.get(message, message or tr("Working…"))


def step_texts(steps: Steps[T]) -> Generator[str, None, T]:
    """The steps in the user's words (:func:`step_text`); returns the steps' result."""
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            return stop.value
        yield step_text(step.message)


def error_text(error: BaseException) -> str:
    """A failure as one sentence: the service's own message when it has one; a
    database error's plain sentence (never its SQL and values)."""
    problem = database_problem_in(error)
    if problem is not None:
        return problem
    if isinstance(error, USER_ERRORS):
        return getattr(error, "message", None) or str(error)
    return tr("Unexpected error: {error}").format(error=error)


class _Relay(QObject):
    """Carries the worker's news to the GUI thread (queued connections)."""

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()


class _Run(QRunnable):
    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self.work = work

    def run(self) -> None:
        # RuntimeError: the task was deleted while this ran, so nobody is listening.
        with contextlib.suppress(RuntimeError):
            self.work()


def file_row(parent: QWidget, path_edit: QWidget, button_text: str, choose) -> QHBoxLayout:
    """A path field with a "Choose…" button beside it (the Excel dialogs' first row)."""
    button = QPushButton(icons.icon("mdi6.folder-open-outline"), button_text, parent)
    button.clicked.connect(choose)
    row = QHBoxLayout()
    row.addWidget(path_edit, 1)
    row.addWidget(button)
    return row


class LongTask(QObject):
    """One run of a step generator, with a progress dialog and a Cancel button."""

    progressed = Signal(object)  # Progress
    succeeded = Signal(object)  # the generator's return value
    failed = Signal(str)  # a message for the user
    cancelled = Signal()
    finished = Signal()  # after any of the three above

    #: Run on the calling thread (tests); the default for new tasks.
    synchronous: ClassVar[bool] = False

    def __init__(
        self,
        steps: Steps[Any],
        title: str,
        parent: QWidget | None = None,
        *,
        run_dialog: RunDialog | None = None,
        synchronous: bool | None = None,
    ) -> None:
        super().__init__(parent)
        self.steps = steps
        self.title = title
        self.run_dialog = run_dialog or (lambda dialog: dialog.exec())
        self.run_synchronously = LongTask.synchronous if synchronous is None else synchronous
        self.outcome: str | None = None  # "succeeded", "failed" or "cancelled"
        self.result: Any = None
        self.error = ""
        self._cancel = threading.Event()
        # The pool first: children die in creation order, and the pool's destructor
        # waits for the worker, which must still find the relay alive.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.progressed.connect(self._on_progress)
        self._relay.succeeded.connect(self._on_success)
        self._relay.failed.connect(self._on_failure)
        self._relay.cancelled.connect(self._on_cancel)
        self.progress_dialog = self._make_progress_dialog(parent)

    def _make_progress_dialog(self, parent: QWidget | None) -> QProgressDialog:
        dialog = QProgressDialog(step_text(""), tr("Cancel"), 0, 0, parent)
        dialog.setWindowTitle(self.title)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(SHOW_AFTER_MS)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumWidth(360)
        dialog.canceled.connect(self.cancel)
        return dialog

    # -- running --------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.outcome is None

    def start(self) -> LongTask:
        """Begin the work; on the calling thread when synchronous (returns when done)."""
        self.progress_dialog.setValue(0)  # starts the "show after" timer
        if self.run_synchronously:
            self._drive()
        else:
            self._pool.start(_Run(self._drive))
        return self

    def cancel(self) -> None:
        """Stop after the current step; the generator is closed where it runs."""
        self._cancel.set()

    def wait(self, msecs: int = -1) -> bool:
        """Block until the worker thread is done (its news still arrives queued)."""
        return self._pool.waitForDone(msecs)

    def _drive(self) -> None:
        """Iterate the steps (any thread); every outcome is sent through the relay."""
        relay = self._relay
        try:
            while not self._cancel.is_set():
                try:
                    step = next(self.steps)
                except StopIteration as stop:
                    relay.succeeded.emit(stop.value)
                    return
                relay.progressed.emit(step)
            self.steps.close()
            relay.cancelled.emit()
        except Exception as error:
            if not isinstance(error, USER_ERRORS):
                log.exception("long task %r failed", self.title)
            with contextlib.suppress(Exception):
                self.steps.close()
            relay.failed.emit(error_text(error))

    # -- outcomes (GUI thread) ----------------------------------------------------
    def _on_progress(self, step: Progress) -> None:
        # Listeners first: once shown, a modal QProgressDialog's setValue runs the
        # event loop, which handles the next queued steps before this one returns.
        self.progressed.emit(step)
        dialog = self.progress_dialog
        dialog.setLabelText(step_text(step.message))
        if step.total:
            dialog.setMaximum(step.total)
            dialog.setValue(min(step.done, step.total))
        else:
            dialog.setMaximum(0)  # unknown: a busy bar

    def _on_success(self, result: Any) -> None:
        self.result = result
        self._finish("succeeded")
        self.succeeded.emit(result)
        self.finished.emit()

    def _on_failure(self, message: str) -> None:
        self.error = message
        self._finish("failed")
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.title,
            message,
            parent=self.progress_dialog.parentWidget(),
        )
        self.run_dialog(box)
        self.failed.emit(message)
        self.finished.emit()

    def _on_cancel(self) -> None:
        self._finish("cancelled")
        self.cancelled.emit()
        self.finished.emit()

    def _finish(self, outcome: str) -> None:
        self.outcome = outcome
        self.progress_dialog.canceled.disconnect(self.cancel)
        self.progress_dialog.reset()
        self.progress_dialog.hide()
