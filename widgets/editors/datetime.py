"""Editor of a date and time (to the minute), with a calendar popup and a clear button."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QT_TR_NOOP

from widgets.editors.date import TemporalEditor


class DateTimeEditor(TemporalEditor):
    type_name = "datetime"
    display_format = "yyyy-MM-dd HH:mm"
    empty_text = "yyyy-mm-dd hh:mm"
    sentinel_step = dt.timedelta(minutes=1)
    start_icon = "mdi6.clock-check-outline"
    start_tip = QT_TR_NOOP("Now")

    def to_datetime(self, value: Any) -> dt.datetime:
        return value

    def from_datetime(self, value: dt.datetime) -> Any:
        return value

    def start_value(self) -> dt.datetime:
        return dt.datetime.now().replace(second=0, microsecond=0)
