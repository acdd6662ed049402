"""Editor of department fields: a searchable picker over the organisation's departments."""

from __future__ import annotations

from typing import Any

from widgets.editors._pickers import ReferenceEditor


class DepartmentEditor(ReferenceEditor):
    def kind(self) -> Any:
        return "department"

    def search(self, text: str) -> list[tuple[int, str]]:
        return self.references.search_departments(text)
