"""Calendar dates, and the parsing shared by the date, datetime and time types.

Users type dates in many ways ("2024-03-15", "2024/3/15", "2024年3月15日",
"20240315"); workbooks hold date objects or Excel serial numbers. The helpers here
turn all of them into ``datetime.date``/``datetime``/``time``; the datetime and time
types reuse them. Datetimes and times are kept to the minute (seconds are dropped).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, TypeVar

from sqlalchemy import Date
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldSpecBase, FieldType, FieldValueError, SpecProblem

_DATE = r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
_COMPACT_DATE = r"(?P<cy>\d{4})(?P<cm>\d{2})(?P<cd>\d{2})"
#: Excel's and spreadsheets' day/month/year or month/day/year: read only when one
#: of the first two parts is over 12 (else it is ambiguous and refused).
_PARTS_DATE = r"(?P<pa>\d{1,2})\s*(?P<sep>[-/.])\s*(?P<pb>\d{1,2})\s*(?P=sep)\s*(?P<py>\d{4})"
_TIME = (
    r"(?:(?P<hc>\d{2})(?P<mc>\d{2})|"  # 0730: four digits, as on a ward's charts
    r"(?P<ampm>上午|下午|晚上|凌晨|中午|早上|AM|PM)?\s*"
    r"(?P<h>\d{1,2})\s*(?:[:：]\s*(?P<mi>\d{1,2})|[时点]\s*(?:(?P<mi2>\d{1,2})\s*分?|(?P<half>半))?)"
    r"(?:\s*[:：]\s*(?P<s>\d{1,2}(?:\.\d+)?)|\s*(?P<s2>\d{1,2})\s*秒)?"
    r"\s*(?P<ampm2>AM|PM)?)"
)
_ANY_DATE = rf"(?:{_DATE}|{_COMPACT_DATE}|{_PARTS_DATE})"
DATE_RE = re.compile(_ANY_DATE, re.IGNORECASE)
TIME_RE = re.compile(_TIME, re.IGNORECASE)
DATETIME_RE = re.compile(rf"{_ANY_DATE}\s*[T ]?\s*{_TIME}", re.IGNORECASE)


def date_hint() -> str:
    """What to enter when a text is not a date (translated when raised)."""
    return tr("please enter a date like 2024-03-15")


def datetime_hint() -> str:
    return tr("please enter a date and time like 2024-03-15 08:30")


def time_hint() -> str:
    return tr("please enter a time like 08:30")


class AmbiguousDate(FieldValueError):
    """A date like 5/10/2024 that reads as two different days: never guessed."""

    def __init__(self, first: dt.date, second: dt.date) -> None:
        super().__init__(
            tr("ambiguous date: {first} or {second}? Please write it like {first}").format(
                first=first.isoformat(), second=second.isoformat()
            )
        )


#: Day 0 of Excel's 1900 date system (serial 1 is 1900-01-01; Excel counts a
#: 1900-02-29 that never was, so serials from 61 on are offset by this base).
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def normalize_text(text: str) -> str:
    """Full-width digits and punctuation (Chinese input methods) to ASCII, trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def _date_from_match(match: re.Match[str]) -> dt.date:
    """The date of a match; ValueError if there is no such day, AmbiguousDate if
    day and month could be swapped."""
    if match.group("y"):
        return dt.date(*(int(match.group(g)) for g in ("y", "m", "d")))
    if match.group("cy"):
        return dt.date(*(int(match.group(g)) for g in ("cy", "cm", "cd")))
    year, first, second = (int(match.group(g)) for g in ("py", "pa", "pb"))
    if first > 12 >= second:
        return dt.date(year, second, first)  # day/month/year
    if second > 12 >= first or first == second:
        return dt.date(year, first, second)  # month/day/year (or the same either way)
    if first > 12:
        raise ValueError  # both over 12: no month
    raise AmbiguousDate(dt.date(year, first, second), dt.date(year, second, first))


def _time_from_match(match: re.Match[str]) -> dt.time:
    groups = match.groupdict()
    if groups["hc"] is not None:
        return dt.time(int(groups["hc"]), int(groups["mc"]))
    hour = int(groups["h"])
    minute = 30 if groups["half"] else int(groups["mi"] or groups["mi2"] or 0)
    seconds = groups["s"] or groups["s2"]
    if seconds is not None and float(seconds) >= 60:
        raise ValueError
    ampm = (groups["ampm"] or groups["ampm2"] or "").upper()
    if ampm and hour > 12:
        raise ValueError  # "13:00 PM" is not a time
    if ampm in ("下午", "晚上", "PM") and hour < 12:
        hour += 12
    elif ampm in ("凌晨", "AM") and hour == 12:
        hour = 0
    return dt.time(hour, minute)


def parse_date_text(text: str) -> dt.date:
    """A date from text: ISO (``2024-03-15``), ``2024/3/15``, ``2024.3.15``,
    ``20240315``, ``2024年3月15日``, or ``15/3/2024`` and ``3/15/2024`` when only one
    reading is possible. Anything else raises FieldValueError (AmbiguousDate for
    ``5/10/2024``): a text is never read as another day."""
    match = DATE_RE.fullmatch(normalize_text(text))
    try:
        if match is None:
            raise ValueError
        return _date_from_match(match)
    except ValueError as error:
        if isinstance(error, AmbiguousDate):
            raise
        raise FieldValueError(date_hint()) from None


def parse_time_text(text: str) -> dt.time:
    """A time of day ("08:30", "8:30", "0830", "8时30分", "下午3点"), to the minute."""
    match = TIME_RE.fullmatch(normalize_text(text))
    try:
        if match is None:
            raise ValueError
        return _time_from_match(match)
    except ValueError:
        raise FieldValueError(time_hint()) from None


def parse_datetime_text(text: str) -> dt.datetime:
    """A date and time: any date :func:`parse_date_text` reads, then any time
    :func:`parse_time_text` reads; ISO with an offset is converted to naive local time.

    A date alone means midnight of that day.
    """
    text = normalize_text(text)
    try:
        return to_minute(local_naive(dt.datetime.fromisoformat(text)))
    except ValueError:
        pass
    match = DATETIME_RE.fullmatch(text)
    try:
        if match is not None:
            return dt.datetime.combine(_date_from_match(match), _time_from_match(match))
        return dt.datetime.combine(parse_date_text(text), dt.time())
    except ValueError as error:
        if isinstance(error, AmbiguousDate):
            raise
        raise FieldValueError(datetime_hint()) from None


def local_naive(value: dt.datetime) -> dt.datetime:
    """A naive local datetime (aware ones are converted to the local time zone)."""
    return value if value.tzinfo is None else value.astimezone().replace(tzinfo=None)


def to_minute(value: dt.datetime) -> dt.datetime:
    return value.replace(second=0, microsecond=0)


def excel_serial_to_datetime(serial: float) -> dt.datetime:
    """A datetime from an Excel 1900-system serial number, rounded to the minute."""
    if serial < 1 or serial >= 2958466:  # Excel's range: 1900-01-01 .. 9999-12-31
        raise FieldValueError(date_hint())
    if serial < 61:
        serial += 1  # before Excel's phantom 1900-02-29
    minutes = round(serial * 24 * 60)
    return EXCEL_EPOCH + dt.timedelta(minutes=minutes)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class TemporalSpec(FieldSpecBase):
    """The attributes date, datetime and time share: ISO limits."""

    min: str | None = None
    max: str | None = None


#: The spec model of one temporal type.
TemporalSpecT = TypeVar("TemporalSpecT", bound=TemporalSpec)


class TemporalFieldType(FieldType[TemporalSpecT]):
    """Shared behaviour of date, datetime and time: ISO limits, typed Excel cells.

    Subclasses set the hooks: how text, objects and Excel serials become a value,
    how a value is shown, and how ``min``/``max`` are read.
    """

    display_format: str = "%Y-%m-%d"

    def hint(self) -> str:
        """What to enter when a value is not one of this type."""
        return date_hint()

    def example_text(self, example: str) -> str:
        """The first part of :meth:`describe`: "date like 2024-03-15"."""
        return tr("date like {example}").format(example=example)

    def limit(self, text: str) -> Any:
        """A ``min``/``max`` spec attribute as a value (strict ISO)."""
        raise NotImplementedError

    def from_text(self, text: str) -> Any:
        raise NotImplementedError

    def from_object(self, value: Any) -> Any:
        """A value from a date/datetime/time object, or ``None`` if not one of those."""
        raise NotImplementedError

    def from_serial(self, serial: float) -> Any:
        raise NotImplementedError

    def limits(self, spec: TemporalSpecT) -> tuple[Any, Any]:
        low = self.limit(spec.min) if spec.min else None
        high = self.limit(spec.max) if spec.max else None
        return low, high

    def check_spec(self, spec: TemporalSpecT) -> list[SpecProblem]:
        problems = []
        parsed = {}
        for attribute in ("min", "max"):
            text = getattr(spec, attribute)
            if not text:
                continue
            try:
                parsed[attribute] = self.limit(text)
            except ValueError:
                example = self.display(spec, self.sample_values(spec)[0]).replace(" ", "T")
                problems.append(
                    SpecProblem(
                        attribute, tr("not an ISO value like {example}").format(example=example)
                    )
                )
        if len(parsed) == 2 and parsed["min"] > parsed["max"]:
            problems.append(SpecProblem("min", tr("the minimum is later than the maximum")))
        if problems:
            return problems  # the default cannot be checked against broken limits
        return super().check_spec(spec)

    def coerce(self, spec: TemporalSpecT, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            return self.from_text(value) if value.strip() else None
        result = self.from_object(value)
        if result is None:
            raise FieldValueError(self.hint())
        return result

    def is_canonical(self, value: Any) -> bool:
        """Whether a value is already exactly what ``coerce`` would return."""
        return False

    def cell_checker(self, spec: TemporalSpecT):
        """Limits parsed once; canonical values skip parsing (bulk imports)."""
        low, high = self.limits(spec)
        coerce, validate, is_canonical = self.coerce, self.validate, self.is_canonical

        def check(value: Any) -> Any:
            if not is_canonical(value):
                value = coerce(spec, value)
            if value is not None and (
                (low is not None and value < low) or (high is not None and value > high)
            ):
                validate(spec, value)  # raises with the limit in its message
            return value

        return check

    def validate(self, spec: TemporalSpecT, value: Any) -> None:
        if value is None:
            return
        low, high = self.limits(spec)
        if low is not None and value < low:
            raise FieldValueError(
                tr("must be {limit} or later").format(limit=self.display(spec, low))
            )
        if high is not None and value > high:
            raise FieldValueError(
                tr("must be {limit} or earlier").format(limit=self.display(spec, high))
            )

    def to_json(self, spec: TemporalSpecT, value: Any) -> Any:
        return None if value is None else self.iso(value)

    def iso(self, value: Any) -> str:
        return value.isoformat()

    def display(self, spec: TemporalSpecT, value: Any, context: Any = None) -> str:
        """``display_format`` text. A canonical value (naive, of the type's own
        class) takes ``isoformat``, which gives the same text several times faster
        than ``strftime`` (slower still once Qt is loaded); lists show thousands."""
        if value is None:
            return ""
        if value.__class__ is self.value_class and getattr(value, "tzinfo", None) is None:
            return self.iso_display(value)
        return value.strftime(self.display_format)

    #: The class of a canonical value (``dt.date``, ``dt.datetime``, ``dt.time``).
    value_class: type = dt.date

    def iso_display(self, value: Any) -> str:
        """``display_format`` of a canonical value, through ``isoformat``."""
        return value.isoformat()

    def to_excel(self, spec: TemporalSpecT, value: Any, context: Any = None) -> Any:
        return value

    def from_excel(self, spec: TemporalSpecT, cell: Any, context: Any = None) -> Any:
        if is_number(cell):
            return self.from_serial(float(cell))
        return super().from_excel(spec, cell, context)

    def describe(self, spec: TemporalSpecT) -> str:
        text = self.example_text(self.display(spec, self.sample_values(spec)[0]))
        if spec.min and spec.max:
            return tr("{text}, from {min}, until {max}").format(
                text=text, min=spec.min, max=spec.max
            )
        if spec.min:
            return tr("{text}, from {min}").format(text=text, min=spec.min)
        if spec.max:
            return tr("{text}, until {max}").format(text=text, max=spec.max)
        return text


class DateSpec(TemporalSpec):
    pass


class DateType(TemporalFieldType[DateSpec]):
    name = "date"
    spec_model = DateSpec
    title = "Date"
    title_zh = "日期"
    group = "datetime"
    icon = "mdi6.calendar"
    editor = "widgets.editors.date:DateEditor"
    description = "A calendar day, picked from a calendar or typed like 2024-03-15."
    sample_attributes = {"min": "2000-01-01", "max": "2099-12-31"}

    def sample_values(self, spec: DateSpec) -> list[Any]:
        return [dt.date(2024, 3, 15), dt.date(2000, 1, 1), dt.date(2025, 12, 31)]

    def limit(self, text: str) -> dt.date:
        return dt.date.fromisoformat(text)

    def from_text(self, text: str) -> dt.date:
        return parse_date_text(text)

    def is_canonical(self, value: Any) -> bool:
        return value.__class__ is dt.date

    def from_object(self, value: Any) -> dt.date | None:
        # openpyxl reads date cells as datetimes at midnight
        if isinstance(value, dt.datetime):
            return value.date()
        return value if isinstance(value, dt.date) else None

    def from_serial(self, serial: float) -> dt.date:
        return excel_serial_to_datetime(serial).date()

    def sql_type(self, spec: DateSpec) -> TypeEngine:
        return Date()

    def excel_number_format(self, spec: DateSpec) -> str:
        return "yyyy-mm-dd"

    def expression_type(self, spec: DateSpec) -> ExprType:
        return "date"


FIELD_TYPE = DateType()
