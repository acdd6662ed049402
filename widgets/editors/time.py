"""Editor of a time of day (to the minute), with a "now" and a clear button."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QT_TR_NOOP

from widgets.editors.date import TemporalEditor

_DAY = dt.date(2000, 1, 1)


class TimeEditor(TemporalEditor):
    """Typed as ``07:30``, ``7:30`` or ``0730``; Up/Down step by a minute within the day."""

    type_name = "time"
    calendar_popup = False
    empty_text = "hh:mm"
    step = dt.timedelta(minutes=1)
    start_icon = "mdi6.clock-check-outline"
    start_tip = QT_TR_NOOP("Now")

    def start_value(self) -> dt.time:
        return dt.datetime.now().time().replace(second=0, microsecond=0)

    def shifted(self, value: Any, steps: int) -> dt.time:
        moved = dt.datetime.combine(_DAY, value) + steps * self.step
        if moved.date() != _DAY:
            return value  # no wrapping past midnight
        return moved.time()
