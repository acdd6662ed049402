"""Notice when nobody has touched the application for a while (for auto-lock).

An application-wide event filter restarts a single-shot timer on user input; the
timer's timeout is ``idle``. Restarts are throttled to one per second, since the
filter sees every mouse move.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal

INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)
THROTTLE_SECONDS = 1.0


class IdleWatcher(QObject):
    """Emits ``idle`` after ``minutes`` without keyboard, mouse or touch input."""

    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self, singleShot=True)
        self.timer.timeout.connect(self.idle)
        self.minutes = 0.0
        self._last_restart = 0.0
        self._installed = False

    def start(self, minutes: float) -> None:
        """Watch input and time out after ``minutes`` (0 or less: never)."""
        self.minutes = minutes
        if minutes <= 0:
            self.stop()
            return
        self.timer.setInterval(max(1, round(minutes * 60_000)))
        app = QCoreApplication.instance()
        if app is not None and not self._installed:
            app.installEventFilter(self)
            self._installed = True
        self.timer.start()

    def pause(self) -> None:
        """Stop counting (while locked or logged out); input is ignored."""
        self.timer.stop()

    def resume(self) -> None:
        if self.minutes > 0:
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        app = QCoreApplication.instance()
        if app is not None and self._installed:
            app.removeEventFilter(self)
        self._installed = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS and self.timer.isActive():
            now = time.monotonic()
            if now - self._last_restart >= THROTTLE_SECONDS:
                self._last_restart = now
                self.timer.start()
        return False
