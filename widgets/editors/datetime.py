"""Editor of a date and time (to the minute), with a calendar popup and a clear button."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QT_TR_NOOP

from widgets.base import FieldValueError
from widgets.editors.date import TemporalEditor
from widgets.types.date import datetime_hint, parse_date_text


class DateTimeEditor(TemporalEditor):
    """Typed as a date and a time (``2024-05-10 07:30``, ``20240510 0730``…)."""

    type_name = "datetime"
    empty_text = "yyyy-mm-dd hh:mm"
    step = dt.timedelta(minutes=1)
    start_icon = "mdi6.clock-check-outline"
    start_tip = QT_TR_NOOP("Now")

    def read(self, text: str) -> dt.datetime:
        """A date and a time. A date alone is refused here (the import reads it as
        midnight): someone who typed only the day has not said when."""
        try:
            parse_date_text(text)
        except FieldValueError:
            return super().read(text)
        raise FieldValueError(datetime_hint())

    def start_value(self) -> dt.datetime:
        return dt.datetime.now().replace(second=0, microsecond=0)

    def with_date(self, value: Any, day: dt.date) -> dt.datetime:
        """The picked day at the time already there (midnight when there is none);
        the time is then selected, ready to be typed over."""
        time = value.time() if isinstance(value, dt.datetime) else dt.time()
        return dt.datetime.combine(day, time)

    def _put(self, value: Any) -> None:
        super()._put(value)
        text = self.edit.text()
        if " " in text:
            start = text.index(" ") + 1
            self.edit.setSelection(start, len(text) - start)
