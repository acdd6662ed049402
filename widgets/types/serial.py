"""Serial numbers like ``EQ-2024-0001``, assigned by the data engine on save.

The pattern mixes literal text with tokens ``{YYYY} {YY} {MM} {DD} {seq:N}``. The
sequence restarts whenever the date part (:func:`period_key`) changes, so values
stay unique: the data engine keeps one counter per (field, period key).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from pydantic import Field
from sqlalchemy import String
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import ExprType, FieldSpecBase, FieldType, FieldValueError, SpecProblem

DEFAULT_PATTERN = "{YYYY}{MM}{DD}-{seq:4}"
TOKEN_RE = re.compile(r"\{([^{}]*)\}")
SEQ_RE = re.compile(r"seq:(\d+)")
DATE_TOKENS: dict[str, tuple[str, str]] = {
    # token: (strftime format, regex of what it produces)
    "YYYY": ("%Y", r"\d{4}"),
    "YY": ("%y", r"\d{2}"),
    "MM": ("%m", r"(?:0[1-9]|1[0-2])"),
    "DD": ("%d", r"(?:0[1-9]|[12]\d|3[01])"),
}


class SerialSpec(FieldSpecBase):
    pattern: str = Field(default=DEFAULT_PATTERN, min_length=1, max_length=40)
    unique: bool = True  # serial numbers are unique by nature


def _parts(pattern: str) -> list[tuple[str, str]]:
    """The pattern as ``("text", literal)`` and ``("token", name)`` parts."""
    parts: list[tuple[str, str]] = []
    position = 0
    for match in TOKEN_RE.finditer(pattern):
        if match.start() > position:
            parts.append(("text", pattern[position : match.start()]))
        parts.append(("token", match.group(1)))
        position = match.end()
    if position < len(pattern):
        parts.append(("text", pattern[position:]))
    return parts


def _seq_digits(token: str) -> str:
    """The digit count N of a ``seq:N`` token (of a pattern :func:`pattern_problem`
    accepted: any token not a date token is one)."""
    match = SEQ_RE.fullmatch(token)
    if match is None:
        raise ValueError(f"not a sequence token: {token!r}")
    return match.group(1)


def pattern_problem(pattern: str) -> str | None:
    """Why a pattern can't be used, or ``None`` when it is fine."""
    seq_count = 0
    for kind, text in _parts(pattern):
        if kind == "text":
            if "{" in text or "}" in text:
                return tr("unmatched { or } in the pattern")
            continue
        seq = SEQ_RE.fullmatch(text)
        if seq:
            seq_count += 1
            if not 1 <= int(seq.group(1)) <= 9:
                return tr("the number of digits in {seq:N} must be 1 to 9")
        elif text not in DATE_TOKENS:
            return tr(
                "unknown token {{{token}}}; use {{YYYY}} {{YY}} {{MM}} {{DD}} {{seq:N}}"
            ).format(token=text)
    if seq_count != 1:
        return tr("the pattern needs exactly one {seq:N}, e.g. {seq:4}")
    return None


def period_key(pattern: str, when: date) -> str:
    """The date part of a serial: the sequence restarts when it changes.

    It is exactly the date tokens as they appear in the value (joined by ``-``), so
    a pattern without a year (``{MM}-{seq:3}``) continues its count across years
    instead of producing duplicates. ``""`` when the pattern has no date token.
    """
    tokens = [name for kind, name in _parts(pattern) if kind == "token" and name in DATE_TOKENS]
    return "-".join(when.strftime(DATE_TOKENS[name][0]) for name in tokens)


def format_serial(pattern: str, when: date, seq: int) -> str:
    """The serial number for sequence ``seq`` (from 1) on day ``when``."""
    out = []
    for kind, text in _parts(pattern):
        if kind == "text":
            out.append(text)
        elif text in DATE_TOKENS:
            out.append(when.strftime(DATE_TOKENS[text][0]))
        else:
            out.append(str(seq).zfill(int(_seq_digits(text))))
    return "".join(out)


@lru_cache(maxsize=256)
def serial_regex(pattern: str) -> re.Pattern[str]:
    """A regex matching values of the pattern; group ``seq`` is the sequence number.

    The sequence may grow past its digits (``{seq:2}`` → ``100``) rather than fail.
    """
    out = []
    for kind, text in _parts(pattern):
        if kind == "text":
            out.append(re.escape(text))
        elif text in DATE_TOKENS:
            out.append(DATE_TOKENS[text][1])
        else:
            out.append(rf"(?P<seq>\d{{{_seq_digits(text)},}})")
    return re.compile("".join(out))


def serial_number(pattern: str, value: str) -> int | None:
    """The sequence number inside a value, or ``None`` if it doesn't fit the pattern."""
    match = serial_regex(pattern).fullmatch(value)
    return int(match.group("seq")) if match else None


class SerialType(FieldType[SerialSpec]):
    name = "serial"
    assigns_on_create = True
    spec_model = SerialSpec
    title = "Serial number"
    title_zh = "流水号"
    group = "advanced"
    icon = "mdi6.barcode"
    editor = "widgets.editors.serial:SerialEditor"
    description = "A number like EQ-2024-0001 given automatically when a record is saved."
    searchable = True
    sample_attributes = {"pattern": "EQ-{YYYY}-{seq:4}"}

    def sample_values(self, spec: SerialSpec) -> list[Any]:
        return [
            format_serial(spec.pattern, date(2024, 3, 15), 1),
            format_serial(spec.pattern, date(2024, 11, 2), 137),
            format_serial(spec.pattern, date(2025, 1, 6), 2),
        ]

    def check_spec(self, spec: SerialSpec) -> list[SpecProblem]:
        # A default makes no sense here; report that alone, not also its value.
        problems = [p for p in super().check_spec(spec) if p.attribute != "default"]
        problem = pattern_problem(spec.pattern)
        if problem:
            problems.append(SpecProblem("pattern", problem))
        if spec.default is not None:
            problems.append(SpecProblem("default", tr("a serial number is assigned on save")))
        return problems

    def coerce(self, spec: SerialSpec, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a digits-only serial read back from a workbook
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise FieldValueError(tr("please enter a serial number"))
        text = str(value).strip()
        return text or None

    def validate(self, spec: SerialSpec, value: Any) -> None:
        if value is None or pattern_problem(spec.pattern):
            return
        if serial_number(spec.pattern, value) is None:
            example = format_serial(spec.pattern, date.today(), 1)
            raise FieldValueError(
                tr("'{value}' is not a serial number like {example}").format(
                    value=value, example=example
                )
            )

    def assign_on_create(self, spec: SerialSpec, when, next_number) -> Any:
        """The next number of the period ``when`` falls in, formatted by the pattern."""
        return format_serial(spec.pattern, when, next_number(period_key(spec.pattern, when)))

    def sql_type(self, spec: SerialSpec) -> TypeEngine:
        return String(64)

    def to_excel(self, spec: SerialSpec, value: Any, context: Any = None) -> Any:
        return value

    def expression_type(self, spec: SerialSpec) -> ExprType:
        return "text"

    def describe(self, spec: SerialSpec) -> str:
        if pattern_problem(spec.pattern):
            return tr("serial number, assigned on save")
        example = format_serial(spec.pattern, date.today(), 1)
        return tr("serial number like {example}, assigned on save (leave empty)").format(
            example=example
        )


FIELD_TYPE = SerialType()
