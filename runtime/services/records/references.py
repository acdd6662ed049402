"""What editors and lists ask about people, departments, records and files.

The runtime's windows and editors only see the :class:`widgets.base.ReferenceSource`
interface; this is its implementation over one workspace, as one user (names and
searches go through the one name resolver, so row scopes and field modes apply).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from runtime.services.actor import Actor
from runtime.services.records.files import FileStore
from runtime.services.records.service import RecordService
from widgets.base import ReferenceSource
from widgets.references import DEPARTMENT, USER, RecordRef


class WorkspaceReferences(ReferenceSource):
    """Names and searches for one app in one workspace, as one user: every name
    comes from the one resolver (:class:`runtime.services.names.NameResolver`),
    so row scopes and field modes apply, and names are cached until a commit
    renames (see NameResolver.names_changed)."""

    def __init__(self, records: RecordService, actor: Actor) -> None:
        self.records = records
        self.actor = actor
        self.resolver = records.names(actor)

    # -- searches -----------------------------------------------------------
    def search_users(self, text: str, limit: int = 50) -> list[tuple[int, str]]:
        return self.resolver.search(USER, text, limit)

    def search_departments(self, text: str, limit: int = 50) -> list[tuple[int, str]]:
        return self.resolver.search(DEPARTMENT, text, limit)

    def search_records(
        self, form: str, display_field: str, text: str, limit: int = 50
    ) -> list[tuple[int, str]]:
        """Records of ``form`` named by ``display_field``, among those the user may
        read (see NameResolver.search)."""
        return self.resolver.search(RecordRef(form, display_field), text, limit)

    # -- names --------------------------------------------------------------
    def name_of(self, kind: Any, ident: int) -> str:
        return self.resolver.name_of(kind, ident)

    def prefetch_names(self, wanted: Mapping[Any, Iterable[int]]) -> None:
        """Resolve the names of many ids at once (a list page: one query per kind)."""
        for kind, ids in wanted.items():
            self.resolver.names(kind, ids)

    # -- the session ----------------------------------------------------------
    def current_user(self) -> tuple[int, str] | None:
        if self.actor.user_id is None:
            return None
        return self.actor.user_id, self.actor.display_name or self.actor.username

    def current_department(self) -> tuple[int, str] | None:
        ident = self.actor.primary_department
        return None if ident is None else (ident, self.name_of(DEPARTMENT, ident))

    def read_file(self, sha256: str) -> bytes | None:
        return FileStore(self.records.workspace).read_file(sha256)


class NameMap(Mapping):
    """``ExcelContext.names`` that asks a ReferenceSource for names it has not seen."""

    def __init__(self, references: ReferenceSource) -> None:
        self.references = references

    def __getitem__(self, key: Any) -> str:
        kind, ident = key
        return self.references.name_of(kind, ident)

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0
