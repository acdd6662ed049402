"""Python's cyclic garbage collection, on the GUI thread only.

CPython runs a cyclic collection in whichever thread allocates past the threshold.
The runtime reads pages, counts, exports and imports on worker threads, so that is
often a worker; and when the garbage holds a Qt object made on the GUI thread (a
closed dialog caught in a reference cycle), the object is then destroyed on the
worker, while the GUI thread may be using it: Qt objects must die on their own
thread, and the process can crash. :class:`GuiThreadCollector` turns the automatic
collection off and runs the same generational collection from a timer on the GUI
thread (the approach pyqtgraph takes). Garbage without cycles is freed at once as
always; only cycles wait, up to one timer interval.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Collects like CPython's automatic collector would, but from a GUI-thread timer.

    Keep it alive as long as the application (a child of the QApplication).
    """

    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self, interval=interval_ms)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def stop(self) -> None:
        """Give collection back to CPython (automatic, any thread)."""
        self._timer.stop()
        gc.enable()

    @staticmethod
    def collect() -> int:
        """Collect the oldest generation whose count passed its threshold; returns
        the generation collected, -1 when none was due."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        due = [generation for generation in range(3) if counts[generation] > thresholds[generation]]
        if not due:
            return -1
        gc.collect(due[-1])
        return due[-1]


def collect_on_gui_thread(app: QObject) -> GuiThreadCollector:
    """Install the collector on ``app`` once; later calls return the same one."""
    existing = app.findChild(GuiThreadCollector)
    return existing if existing is not None else GuiThreadCollector(app)
