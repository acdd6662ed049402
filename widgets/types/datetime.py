"""A date with a time of day, as a naive local datetime to the minute."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType
from widgets.types.date import (
    TemporalFieldType,
    TemporalSpec,
    datetime_hint,
    excel_serial_to_datetime,
    local_naive,
    parse_datetime_text,
    to_minute,
)


class DateTimeSpec(TemporalSpec):
    pass


class DateTimeType(TemporalFieldType[DateTimeSpec]):
    name = "datetime"
    spec_model = DateTimeSpec
    title = "Date and time"
    title_zh = "日期时间"
    group = "datetime"
    icon = "mdi6.calendar-clock"
    editor = "widgets.editors.datetime:DateTimeEditor"
    description = "A moment to the minute, like 2024-03-15 08:30 (admission, a dose given)."
    display_format = "%Y-%m-%d %H:%M"
    value_class = dt.datetime

    def hint(self) -> str:
        return datetime_hint()

    def example_text(self, example: str) -> str:
        return tr("date and time like {example}").format(example=example)

    def sample_values(self, spec: DateTimeSpec) -> list[Any]:
        return [
            dt.datetime(2024, 3, 15, 8, 30),
            dt.datetime(2023, 12, 31, 23, 59),
            dt.datetime(2025, 1, 2, 0, 0),
        ]

    def limit(self, text: str) -> dt.datetime:
        return local_naive(dt.datetime.fromisoformat(text))

    def from_text(self, text: str) -> dt.datetime:
        return parse_datetime_text(text)

    def is_canonical(self, value: Any) -> bool:
        return (
            value.__class__ is dt.datetime
            and value.tzinfo is None
            and not value.second
            and not value.microsecond
        )

    def from_object(self, value: Any) -> dt.datetime | None:
        if isinstance(value, dt.datetime):
            return to_minute(local_naive(value))
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time())
        return None

    def from_serial(self, serial: float) -> dt.datetime:
        return excel_serial_to_datetime(serial)

    def iso(self, value: dt.datetime) -> str:
        return value.isoformat(timespec="minutes")

    def iso_display(self, value: dt.datetime) -> str:
        return value.isoformat(" ", "minutes")

    def sql_type(self, spec: DateTimeSpec) -> TypeEngine:
        return DateTime()

    def excel_number_format(self, spec: DateTimeSpec) -> str:
        return "yyyy-mm-dd hh:mm"

    def expression_type(self, spec: DateTimeSpec) -> ExprType:
        return "datetime"


FIELD_TYPE = DateTimeType()
