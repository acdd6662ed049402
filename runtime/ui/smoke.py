"""``FORMWRIGHT_SMOKE_QUIT_AFTER_PAINT=1``: quit once the first window has painted.

CI starts the runtime and the designer on a real X display (Xvfb, the xcb platform)
with this set: a missing system library fails the start, a window that paints ends
the process with exit status 0 (tests/ui/test_xcb_smoke.py).
"""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

ENVIRONMENT = "FORMWRIGHT_SMOKE_QUIT_AFTER_PAINT"


class _FirstPaint(QObject):
    """Sees every event of the application until a visible window paints."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.painted = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            not self.painted
            and event.type() == QEvent.Type.Paint
            and isinstance(watched, QWidget)
            and watched.isWindow()
            and watched.isVisible()
        ):
            self.painted = True
            print(f"painted: {watched.windowTitle()}", flush=True)
            QTimer.singleShot(0, self._quit)
        return False

    def _quit(self) -> None:
        self.app.closeAllWindows()  # a modal dialog (first run, login) is rejected
        self.app.exit(0)


def watch_first_paint(app: QApplication) -> None:
    """Install the watcher when the environment asks for it (else nothing)."""
    if os.environ.get(ENVIRONMENT) and app.findChild(_FirstPaint) is None:
        app.installEventFilter(_FirstPaint(app))


def painted() -> bool:
    """True once a window painted under the watcher (the run was a smoke test)."""
    app = QApplication.instance()
    watcher = app.findChild(_FirstPaint) if app is not None else None
    return bool(watcher and watcher.painted)


__all__ = ["ENVIRONMENT", "painted", "watch_first_paint"]
