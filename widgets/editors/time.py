"""Editor of a time of day (to the minute), with a "now" and a clear button."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QT_TR_NOOP

from widgets.editors.date import TemporalEditor

#: Times are shown on one fixed day; the empty sentinel is the minute before it.
_DAY = dt.date(2000, 1, 1)


class TimeEditor(TemporalEditor):
    """A QDateTimeEdit showing only hours and minutes.

    Not a QTimeEdit: its range is one day, which leaves no room for the "empty"
    sentinel without giving up 00:00 — here the sentinel sits on the previous day.
    """

    type_name = "time"
    display_format = "HH:mm"
    calendar_popup = False
    empty_text = "hh:mm"
    sentinel_step = dt.timedelta(minutes=1)
    range_default = (
        dt.datetime.combine(_DAY, dt.time()),
        dt.datetime.combine(_DAY, dt.time(23, 59)),
    )
    start_icon = "mdi6.clock-check-outline"
    start_tip = QT_TR_NOOP("Now")

    def to_datetime(self, value: Any) -> dt.datetime:
        return dt.datetime.combine(_DAY, value)

    def from_datetime(self, value: dt.datetime) -> Any:
        return value.time()

    def start_value(self) -> dt.datetime:
        now = dt.datetime.now().time().replace(second=0, microsecond=0)
        return self.to_datetime(now)
