"""LongTask: the progress a task reports reaches its listeners in the order it was made."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QWidget

from runtime.services.progress import Progress
from runtime.ui.long_task import LongTask


def _no_steps():
    return
    yield


def test_progress_reaches_listeners_in_order_while_the_modal_dialog_shows(qtbot):
    """A modal QProgressDialog's ``setValue`` runs the event loop, where the next
    queued steps are handled: the listeners must still hear 1, 2, 3… in order."""
    parent = QWidget()
    qtbot.addWidget(parent)
    task = LongTask(_no_steps(), "Work", parent)
    parent.show()
    task.progress_dialog.setValue(0)  # as start() does: the dialog shows itself soon
    qtbot.waitUntil(task.progress_dialog.isVisible, timeout=5000)  # now setValue runs events
    heard: list[int] = []
    task.progressed.connect(lambda step: heard.append(step.done))
    steps = [Progress(done, 5, "checking") for done in range(1, 6)]
    worker = threading.Thread(target=lambda: [task._relay.progressed.emit(s) for s in steps])
    worker.start()  # from another thread, so every step is queued
    worker.join()
    qtbot.waitUntil(lambda: len(heard) == 5, timeout=5000)
    assert heard == [1, 2, 3, 4, 5]
    assert task.progress_dialog.value() == 5
