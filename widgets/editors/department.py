"""Editor of department fields: a searchable picker over the organisation's departments."""

from __future__ import annotations

from widgets.editors._pickers import ReferenceEditor


class DepartmentEditor(ReferenceEditor):
    def search(self, text: str) -> list[tuple[int, str]]:
        return self.references.search_departments(text)
