"""Editor of user fields: a searchable picker over the organisation's staff."""

from __future__ import annotations

from typing import Any

from widgets.editors._pickers import ReferenceEditor


class UserEditor(ReferenceEditor):
    def kind(self) -> Any:
        return "user"

    def search(self, text: str) -> list[tuple[int, str]]:
        return self.references.search_users(text)
