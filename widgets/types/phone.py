"""Telephone numbers: Chinese mobiles, landlines with area code, extensions, short numbers.

Values are normalised: spaces and brackets go, an area code is joined with "-",
and an extension ("转123", "ext 123") becomes "-123": ``0571-88886666-123``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from resources.messages import tr
from widgets.base import FieldSpecBase, FieldValueError
from widgets.types._shared import StringFieldType

_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)(\d{1,6})$", re.IGNORECASE)
_MOBILE = re.compile(r"(?:\+?86-?)?(1[3-9]\d{9})")
# 3-digit area codes: 010 and 020-029; all others have 4 digits.
_LANDLINE = re.compile(r"\(?(0(?:10|2\d|[3-9]\d{2}))\)?-?(\d{7,8})(?:-(\d{1,6}))?")
_LOCAL = re.compile(r"([1-9]\d{2,7})(?:-(\d{1,6}))?")  # local or internal short number
_SERVICE = re.compile(r"([48]00)-?(\d{3})-?(\d{4})")  # 400/800 service lines


def hint() -> str:
    return tr("please enter a phone number like 13800138000 or 010-12345678")


def normalize_phone(text: str) -> str:
    """The canonical form of a phone number; FieldValueError if it is not one."""
    raw = unicodedata.normalize("NFKC", text)
    raw = re.sub(r"[\s\u00a0]", "", raw).replace("—", "-").replace("–", "-")
    raw = re.sub(r"^\+86-?(?=0)", "", raw)
    raw, extension = _split_extension(raw)
    mobile = _MOBILE.fullmatch(raw.replace("-", ""))
    if mobile and not extension:
        return mobile.group(1)
    for pattern, build in (
        (_SERVICE, lambda m: "-".join(m.groups())),
        (_LANDLINE, lambda m: "-".join(g for g in m.groups() if g)),
        (_LOCAL, lambda m: "-".join(g for g in m.groups() if g)),
    ):
        match = pattern.fullmatch(raw)
        if match:
            number = build(match)
            return f"{number}-{extension}" if extension else number
    raise FieldValueError(hint())


def _split_extension(raw: str) -> tuple[str, str | None]:
    match = _EXTENSION.search(raw)
    if match is None:
        return raw, None
    return raw[: match.start()].rstrip("-"), match.group(1)


class PhoneSpec(FieldSpecBase):
    pass


class PhoneType(StringFieldType[PhoneSpec]):
    name = "phone"
    spec_model = PhoneSpec
    title = "Phone"
    title_zh = "电话"
    group = "basic"
    icon = "mdi6.phone"
    editor = "widgets.editors.phone:PhoneEditor"
    description = "A mobile, landline (with area code and extension) or internal short number."
    default_length = 40

    def sample_values(self, spec: PhoneSpec) -> list[Any]:
        return ["13800138000", "010-12345678", "0571-8888888-123", "6021"]

    def coerce(self, spec: PhoneSpec, value: Any) -> Any:
        text = super().coerce(spec, value)
        return None if text is None else normalize_phone(text)

    def validate(self, spec: PhoneSpec, value: Any) -> None:
        if value is not None and normalize_phone(value) != value:
            raise FieldValueError(hint())

    def describe(self, spec: PhoneSpec) -> str:
        return tr("phone number, like 13800138000, 010-12345678 or 0571-8888888转123")


FIELD_TYPE = PhoneType()
