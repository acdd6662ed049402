"""Editor of lookup fields: a picker searching the target form's records (server-side)."""

from __future__ import annotations

from widgets.editors._pickers import ReferenceEditor


class LookupEditor(ReferenceEditor):
    def search(self, text: str) -> list[tuple[int, str]]:
        if not self.spec.form:
            return []
        return self.references.search_records(self.spec.form, self.spec.display_field, text)
