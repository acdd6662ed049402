"""E-mail addresses, checked by a practical pattern (no external library)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from resources.messages import tr
from widgets.base import FieldSpecBase, FieldValueError
from widgets.types._shared import StringFieldType

MAX_LENGTH = 254

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
EMAIL_RE = re.compile(rf"(?P<local>{_LOCAL})@(?P<domain>(?:{_LABEL}\.)+{_TLD})")


def hint() -> str:
    return tr("please enter an e-mail address like name@hospital.cn")


def normalize_email(text: str) -> str:
    """``Name@Hospital.CN`` → ``Name@hospital.cn`` (the local part keeps its case)."""
    raw = unicodedata.normalize("NFKC", text).strip()  # full-width ＠ from input methods
    raw = re.sub(r"^mailto:", "", raw, flags=re.IGNORECASE)
    match = EMAIL_RE.fullmatch(raw)
    if match is None or len(match.group("local")) > 64:
        raise FieldValueError(hint())
    address = f"{match.group('local')}@{match.group('domain').lower()}"
    if len(address) > MAX_LENGTH:
        raise FieldValueError(
            tr("an e-mail address has at most {limit} characters").format(limit=MAX_LENGTH)
        )
    return address


class EmailSpec(FieldSpecBase):
    pass


class EmailType(StringFieldType[EmailSpec]):
    name = "email"
    spec_model = EmailSpec
    title = "E-mail"
    title_zh = "电子邮箱"
    group = "basic"
    icon = "mdi6.email-outline"
    editor = "widgets.editors.email:EmailEditor"
    description = "An e-mail address, checked for a plausible form."
    default_length = MAX_LENGTH

    def sample_values(self, spec: EmailSpec) -> list[Any]:
        return ["zhang.san@hospital.cn", "Nurse.Li+icu@example.com", "it-support@xn--fiqs8s.cn"]

    def coerce(self, spec: EmailSpec, value: Any) -> Any:
        text = super().coerce(spec, value)
        return None if text is None else normalize_email(text)

    def validate(self, spec: EmailSpec, value: Any) -> None:
        if value is not None and normalize_email(value) != value:
            raise FieldValueError(hint())

    def describe(self, spec: EmailSpec) -> str:
        return tr("e-mail address, like name@hospital.cn")


FIELD_TYPE = EmailType()
