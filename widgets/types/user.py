"""Users of the organisation; also the base of department and lookup (ids with names).

Values are ids. Text and Excel show names looked up in the :class:`ExcelContext`
filled by the services; an id without a known name shows as ``#12``, which reads
back as id 12.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import JSON, Integer
from sqlalchemy.types import TypeEngine

from resources.messages import tr
from widgets.base import (
    EMPTY_CONTEXT,
    ExcelContext,
    ExprType,
    FieldSpecBase,
    FieldType,
    FieldValueError,
    SpecT,
)
from widgets.references import USER, ReferenceKind

MULTI_SEPARATOR = "、"
SPLIT_RE = re.compile(r"[,，、;；]")
ID_RE = re.compile(r"#?\s*(\d+)")


class ReferenceTexts(NamedTuple):
    """The sentences of a reference type, each naming what it refers to (translated)."""

    choose: str  # please choose a user from the list
    only_one: str  # only one user can be chosen
    unknown: str  # no user named '{name}'
    several: str  # describe(), several allowed
    one: str  # describe(), one


class ReferenceFieldType(FieldType[SpecT]):
    """A field whose value is an id (or sorted ids) of something with a name."""

    def texts(self) -> ReferenceTexts:
        """This type's messages ("no user named 'X'"), as whole sentences so each
        translates as one: every reference type gives its own (user, department,
        lookup)."""
        raise NotImplementedError

    def is_multiple(self, spec: SpecT) -> bool:
        return bool(getattr(spec, "multiple", False))

    # -- values -------------------------------------------------------------
    def one_id(self, value: Any) -> int:
        if isinstance(value, bool):
            raise FieldValueError(self.texts().choose)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            match = ID_RE.fullmatch(value.strip())
            value = int(match.group(1)) if match else None
        if not isinstance(value, int) or value < 1:
            raise FieldValueError(self.texts().choose)
        return value

    def coerce(self, spec: SpecT, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        items = value if isinstance(value, (list, tuple, set)) else [value]
        ids = sorted({self.one_id(item) for item in items})
        if self.is_multiple(spec):
            return ids or None
        if len(ids) > 1:
            raise FieldValueError(self.texts().only_one)
        return ids[0] if ids else None

    def sql_type(self, spec: SpecT) -> TypeEngine:
        return JSON() if self.is_multiple(spec) else Integer()

    def expression_type(self, spec: SpecT) -> ExprType:
        return "list" if self.is_multiple(spec) else "any"

    # -- text ---------------------------------------------------------------
    def name_of(self, spec: SpecT, ident: int, context: ExcelContext) -> str:
        return context.names.get((self.reference_kind(spec), ident), f"#{ident}")

    def id_of(self, spec: SpecT, name: str, context: ExcelContext) -> int:
        """The id of a name, or of ``#12`` / ``12``; FieldValueError if unknown."""
        ident = context.reverse_names.get((self.reference_kind(spec), name))
        if ident is not None:
            return ident
        if ID_RE.fullmatch(name):
            return self.one_id(name)
        raise FieldValueError(self.texts().unknown.format(name=name))

    def display(self, spec: SpecT, value: Any, context: ExcelContext = EMPTY_CONTEXT) -> str:
        if value is None:
            return ""
        ids = value if isinstance(value, list) else [value]
        return MULTI_SEPARATOR.join(self.name_of(spec, ident, context) for ident in ids)

    def parse(self, spec: SpecT, text: str, context: ExcelContext = EMPTY_CONTEXT) -> Any:
        text = text.strip()
        if not text:
            return None
        names = SPLIT_RE.split(text) if self.is_multiple(spec) else [text]
        ids = [self.id_of(spec, name.strip(), context) for name in names if name.strip()]
        return self.coerce(spec, ids)

    def from_excel(self, spec: SpecT, cell: Any, context: ExcelContext = EMPTY_CONTEXT) -> Any:
        if isinstance(cell, str):
            return self.parse(spec, cell, context)
        return self.coerce(spec, cell)

    def describe(self, spec: SpecT) -> str:
        return self.texts().several if self.is_multiple(spec) else self.texts().one


class PeopleSpec(FieldSpecBase):
    multiple: bool = False
    default_current: bool = False


PeopleSpecT = TypeVar("PeopleSpecT", bound=PeopleSpec)


class PeopleFieldType(ReferenceFieldType[PeopleSpecT]):
    """Users and departments: may start as the logged-in user's (``default_current``)."""

    def follows_current(self, spec: PeopleSpecT) -> bool:
        return spec.default_current


class UserSpec(PeopleSpec):
    pass


class UserType(PeopleFieldType[UserSpec]):
    name = "user"
    spec_model = UserSpec
    title = "User"
    title_zh = "人员"
    group = "people"
    icon = "mdi6.account"
    editor = "widgets.editors.user:UserEditor"
    description = "A member of staff (or several), chosen from the organisation."

    def texts(self) -> ReferenceTexts:
        return ReferenceTexts(
            tr("please choose a user from the list"),
            tr("only one user can be chosen"),
            tr("no user named '{name}'"),
            tr("user names, several separated by 、 or ,"),
            tr("user name (or #id)"),
        )

    def reference_kind(self, spec: UserSpec) -> ReferenceKind:
        return USER

    def sample_values(self, spec: UserSpec) -> list[Any]:
        return [[1, 2], [7]] if spec.multiple else [1, 2, 42]


FIELD_TYPE = UserType()
