"""Editor of user fields: a searchable picker over the organisation's staff."""

from __future__ import annotations

from widgets.editors._pickers import ReferenceEditor


class UserEditor(ReferenceEditor):
    def search(self, text: str) -> list[tuple[int, str]]:
        return self.references.search_users(text)
