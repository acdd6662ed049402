"""What the ids of a reference field are ids *of*: the typed reference kinds.

A user, department or lookup field holds ids. Its type says what they name with
a :class:`ReferenceKind` (``FieldType.reference_kind``): :data:`USER`,
:data:`DEPARTMENT` or a :class:`RecordRef` (a form and the field its records
are named by). Kinds are frozen values: they key name caches and the maps of an
:class:`widgets.base.ExcelContext`.

Code never asks *which* kind it holds. What a kind does in the widgets layer it
does itself (:meth:`ReferenceKind.current`: the id a "current user" default
starts with); where its names live is looked up in one mapping, by the kind's
class (``runtime.store.names.NAME_TABLES``). A later kind (a role, a
department's head) is one class here and one entry there.

Every kind also has a *plain spelling*, the form kinds had before they were
typed and the one the CLI, integrators and older tests write: ``"user"``,
``"department"``, ``("record", form, display_field)``. A kind equals and hashes
as its plain spelling, so either keys the same dict entry, and
:func:`as_reference_kind` reads one back.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from widgets.base import ReferenceSource


class ReferenceKind:
    """Base of the kinds: a frozen dataclass per kind, with a :attr:`tag`.

    ``parts`` is ``(tag, *fields)``; the plain spelling is the tag alone for a
    kind without fields.
    """

    tag: ClassVar[str]
    _by_tag: ClassVar[dict[str, type[ReferenceKind]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.tag in ReferenceKind._by_tag:
            raise ValueError(f"reference kind {cls.tag!r} is already defined")
        ReferenceKind._by_tag[cls.tag] = cls

    @cached_property
    def parts(self) -> tuple[Any, ...]:
        return (self.tag, *(getattr(self, item.name) for item in fields(self)))  # type: ignore[arg-type]

    @property
    def plain(self) -> Any:
        """The plain spelling: ``"user"``, ``("record", "device", "name")``."""
        return self.parts if len(self.parts) > 1 else self.tag

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ReferenceKind):
            return self.parts == other.parts
        return self.plain == other

    def __hash__(self) -> int:
        return hash(self.plain)

    def __getitem__(self, index: int) -> Any:
        """``kind[1]`` reads the parts, as code written for plain kinds does."""
        return self.parts[index]

    def current(self, references: ReferenceSource) -> tuple[int, str] | None:
        """(id, name) a field of this kind starts with when it follows the
        logged-in user (``default_current``); None when the kind has no such one."""
        return None


@dataclass(frozen=True, eq=False)
class UserRef(ReferenceKind):
    """Users of the workspace (named by display name, else user name)."""

    tag = "user"

    def current(self, references: ReferenceSource) -> tuple[int, str] | None:
        return references.current_user()


@dataclass(frozen=True, eq=False)
class DepartmentRef(ReferenceKind):
    """Departments of the workspace (named by name; found by name or code)."""

    tag = "department"

    def current(self, references: ReferenceSource) -> tuple[int, str] | None:
        return references.current_department()


@dataclass(frozen=True, eq=False)
class RecordRef(ReferenceKind):
    """Records of ``form``, named by their ``display_field``.

    The display field is part of the kind: two lookups of one form may show
    different fields, and each name is resolved (and permitted) by its own. An
    empty ``display_field`` means the field the app's lookups of ``form`` show.
    """

    tag = "record"
    form: str
    display_field: str = ""


USER = UserRef()
DEPARTMENT = DepartmentRef()


def as_reference_kind(value: Any) -> ReferenceKind:
    """A kind, or the kind a plain spelling names (``"user"``,
    ``("record", form)``, ``("record", form, display_field)``).

    ValueError for anything else.
    """
    if isinstance(value, ReferenceKind):
        return value
    parts = (value,) if isinstance(value, str) else value
    kind_class = ReferenceKind._by_tag.get(parts[0]) if isinstance(parts, tuple) and parts else None
    try:
        return kind_class(*parts[1:])  # type: ignore[misc]
    except TypeError:  # no such tag (None is not callable), or the wrong fields
        raise ValueError(f"not a reference kind: {value!r}") from None
