"""PRC resident identity card numbers (18 characters, ISO 7064 MOD 11-2 check digit).

Also the helpers :func:`birth_date` and :func:`sex` that read a valid number.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Literal

from resources.messages import tr
from widgets.base import FieldSpecBase, FieldValueError
from widgets.types._shared import StringFieldType

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
_SHAPE = re.compile(r"\d{17}[\dX]")


def check_character(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def normalize_id(text: str) -> str:
    """Full-width digits to ASCII, spaces and dashes removed, a lower-case x upper-cased."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\-]", "", text).upper()


def id_problem(number: str, today: dt.date | None = None) -> str | None:
    """Why ``number`` (normalised) is not a valid ID, in words a nurse understands."""
    if len(number) == 15 and number.isdigit():
        return tr("old 15-digit IDs are not accepted; please enter the 18-digit number")
    if len(number) != 18:
        return tr("an ID number has 18 characters (this one has {count})").format(count=len(number))
    if not _SHAPE.fullmatch(number):
        return tr("an ID number has 17 digits followed by a digit or X")
    if number[0] == "0":
        return tr("an ID number cannot start with 0")
    try:
        born = _birth(number)
    except ValueError:
        return tr("the birth date in the number ({digits}) is not a real date").format(
            digits=number[6:14]
        )
    if born > (today or dt.date.today()) or born.year < 1900:
        return tr("the birth date in the number ({date}) is not possible").format(
            date=born.isoformat()
        )
    if check_character(number[:17]) != number[17]:
        return tr("the check digit does not match — please check the number")
    return None


def _birth(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def birth_date(number: str) -> dt.date | None:
    """The date of birth in a valid ID number; ``None`` if the number is not valid."""
    number = normalize_id(number)
    return _birth(number) if id_problem(number) is None else None


def sex(number: str) -> Literal["male", "female"] | None:
    """``"male"`` or ``"female"`` (17th digit odd or even); ``None`` if not valid."""
    number = normalize_id(number)
    if id_problem(number) is not None:
        return None
    return "male" if int(number[16]) % 2 else "female"


class IdCardSpec(FieldSpecBase):
    pass


class IdCardType(StringFieldType[IdCardSpec]):
    name = "id_card"
    spec_model = IdCardSpec
    title = "ID card number"
    title_zh = "身份证号"
    group = "basic"
    icon = "mdi6.card-account-details-outline"
    editor = "widgets.editors.id_card:IdCardEditor"
    description = "A PRC resident ID number (18 characters), with its check digit verified."
    default_length = 18

    def sample_values(self, spec: IdCardSpec) -> list[Any]:
        return ["11010519491231002X", "440305199001011256", "330106201502280032"]

    def coerce(self, spec: IdCardSpec, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # a workbook cell holding the number as a number has lost its digits
            raise FieldValueError(tr("enter the ID number as text (Excel rounds long numbers)"))
        text = super().coerce(spec, value)
        if text is None:
            return None
        number = normalize_id(text)
        self.validate(spec, number)
        return number

    def validate(self, spec: IdCardSpec, value: Any) -> None:
        if value is None:
            return
        problem = id_problem(value)
        if problem:
            raise FieldValueError(problem)

    def describe(self, spec: IdCardSpec) -> str:
        return tr("18-character PRC ID number (enter as text; last character may be X)")


FIELD_TYPE = IdCardType()
