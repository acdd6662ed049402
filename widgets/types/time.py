"""A time of day to the minute (a shift start, a dose time)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Time
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldValueError
from widgets.types.date import TemporalFieldType, TemporalSpec, parse_time_text, time_hint


class TimeSpec(TemporalSpec):
    pass


class TimeType(TemporalFieldType[TimeSpec]):
    name = "time"
    spec_model = TimeSpec
    title = "Time"
    title_zh = "时间"
    group = "datetime"
    icon = "mdi6.clock-outline"
    editor = "widgets.editors.time:TimeEditor"
    description = "A time of day to the minute, typed like 08:30 or 8时30分."
    display_format = "%H:%M"
    value_class = dt.time

    def hint(self) -> str:
        return time_hint()

    def example_text(self, example: str) -> str:
        return tr("time like {example}").format(example=example)

    def sample_values(self, spec: TimeSpec) -> list[Any]:
        return [dt.time(8, 30), dt.time(0, 0), dt.time(23, 59)]

    def limit(self, text: str) -> dt.time:
        return dt.time.fromisoformat(text)

    def from_text(self, text: str) -> dt.time:
        return parse_time_text(text)

    def is_canonical(self, value: Any) -> bool:
        return (
            value.__class__ is dt.time
            and value.tzinfo is None
            and not value.second
            and not value.microsecond
        )

    def from_object(self, value: Any) -> dt.time | None:
        """Times, datetimes (their time) and durations under a day (calamine)."""
        if isinstance(value, dt.datetime):
            value = value.time()
        if isinstance(value, dt.timedelta):
            return self._from_minutes(round(value.total_seconds() / 60))
        if isinstance(value, dt.time) and value.tzinfo is None:
            return value.replace(second=0, microsecond=0)
        return None

    def from_serial(self, serial: float) -> dt.time:
        """A time from Excel's fraction of a day (the date part, if any, is dropped)."""
        return self._from_minutes(round(serial * 24 * 60) % (24 * 60))

    def _from_minutes(self, minutes: int) -> dt.time:
        if not 0 <= minutes < 24 * 60:
            raise FieldValueError(time_hint())
        return dt.time(minutes // 60, minutes % 60)

    def iso(self, value: dt.time) -> str:
        return value.isoformat(timespec="minutes")

    def iso_display(self, value: dt.time) -> str:
        return value.isoformat("minutes")

    def sql_type(self, spec: TimeSpec) -> TypeEngine:
        return Time()

    def excel_number_format(self, spec: TimeSpec) -> str:
        return "hh:mm"

    def expression_type(self, spec: TimeSpec) -> ExprType:
        return "time"


FIELD_TYPE = TimeType()
