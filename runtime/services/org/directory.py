"""The department tree as an in-memory snapshot, and users' memberships (Qt-free).

Departments form a tree (hospital → division → department → ward); each has a
unique code and optionally a head (a user). Users belong to one or more
departments, one of them primary. :class:`OrgDirectory` answers the fast
questions: ``descendants`` for the ``department_tree`` row scope, ``head_of`` for
approvals. The rows live in :mod:`runtime.store.org` (``Department``) and
:mod:`runtime.store.accounts` (``memberships``); both names are importable from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from resources.messages import tr
from runtime.services.accounts.errors import AccountError
from runtime.store.accounts import memberships
from runtime.store.connection import Connection
from runtime.store.org import Department, load_departments

#: Levels of the tree, with the words a sheet may use for them.
KINDS: dict[str, str] = {
    "hospital": "hospital",
    "医院": "hospital",
    "院区": "hospital",
    "division": "division",
    "大科": "division",
    "部": "division",
    "department": "department",
    "科室": "department",
    "ward": "ward",
    "病区": "ward",
    "护理单元": "ward",
}
MAX_CODE_LENGTH = 64
MAX_NAME_LENGTH = 200
#: Separators between several department codes or roles in one cell.
LIST_SEPARATORS = re.compile(r"[,，、;；\s]+")


class OrgError(AccountError):
    """An organisation change that cannot be done; ``message`` says why."""


class OrgDirectory:
    """A snapshot of the department tree."""

    def __init__(self, departments: Iterable[Department]) -> None:
        self._by_id = {department.id: department for department in departments}
        self._by_code = {d.code.casefold(): d for d in self._by_id.values() if d.code}
        self._children: dict[int | None, list[Department]] = {}
        for department in sorted(self._by_id.values(), key=lambda d: (d.name, d.id)):
            self._children.setdefault(department.parent_id, []).append(department)

    @classmethod
    def load(cls, connection: Connection) -> OrgDirectory:
        """The tree as the database holds it now."""
        return cls(load_departments(connection))

    def __iter__(self) -> Iterator[Department]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, department_id: int) -> Department | None:
        return self._by_id.get(department_id)

    def by_code(self, code: str) -> Department | None:
        """A department by its code (case-insensitive)."""
        return self._by_code.get(code.strip().casefold())

    def roots(self) -> list[Department]:
        """Departments without a parent (or whose parent is missing)."""
        return [d for d in self._by_id.values() if d.parent_id not in self._by_id]

    def children(self, department_id: int) -> list[Department]:
        return list(self._children.get(department_id, ()))

    def descendants(self, department_ids: Iterable[int], include_self: bool = True) -> set[int]:
        """Every department below the given ones — and, by default, the given ones
        themselves: the departments a ``department_tree`` scope reaches."""
        start = [i for i in department_ids if i in self._by_id]
        found: set[int] = set(start) if include_self else set()
        stack = list(start)
        while stack:
            for child in self._children.get(stack.pop(), ()):
                if child.id not in found:
                    found.add(child.id)
                    stack.append(child.id)
        return found

    def ancestors(self, department_id: int) -> list[Department]:
        """The parent, its parent … up to the root (cycle-safe)."""
        chain: list[Department] = []
        seen = {department_id}
        current = self._by_id.get(department_id)
        while current is not None and current.parent_id is not None:
            if current.parent_id in seen:
                break
            seen.add(current.parent_id)
            current = self._by_id.get(current.parent_id)
            if current is not None:
                chain.append(current)
        return chain

    def path(self, department_id: int, separator: str = " / ") -> str:
        """``Hospital / Surgery / Ward 3``."""
        department = self._by_id.get(department_id)
        if department is None:
            return f"#{department_id}"
        names = [d.name for d in reversed(self.ancestors(department_id))]
        return separator.join([*names, department.name])

    def head_of(self, department_id: int, inherited: bool = False) -> int | None:
        """The head's user id; with ``inherited`` the nearest head up the tree."""
        department = self._by_id.get(department_id)
        if department is None:
            return None
        if department.head_user_id is not None or not inherited:
            return department.head_user_id
        for ancestor in self.ancestors(department_id):
            if ancestor.head_user_id is not None:
                return ancestor.head_user_id
        return None

    def headed_by(self, user_id: int) -> list[Department]:
        """The departments a user heads."""
        return [d for d in self._by_id.values() if d.head_user_id == user_id]

    def would_cycle(self, department_id: int, new_parent_id: int | None) -> bool:
        """True when making ``new_parent_id`` the parent would close a loop."""
        if new_parent_id is None:
            return False
        return new_parent_id in self.descendants([department_id])


def normalize_kind(text: str | None) -> str | None:
    """``"病区"`` → ``"ward"``; ``None`` for an empty text; ValueError if unknown."""
    if text is None or not text.strip():
        return None
    kind = KINDS.get(text.strip().casefold())
    if kind is None:
        raise ValueError(
            tr("'{text}' is not a level; use hospital, division, department or ward").format(
                text=text
            )
        )
    return kind


__all__ = [
    "KINDS",
    "LIST_SEPARATORS",
    "MAX_CODE_LENGTH",
    "MAX_NAME_LENGTH",
    "Department",
    "OrgDirectory",
    "OrgError",
    "memberships",
    "normalize_kind",
]
