"""Editor of a PRC resident ID number, with a live ✓/✗ and the birth date read from it."""

from __future__ import annotations

from PySide6.QtCore import QT_TR_NOOP

from widgets.editors.phone import ValidatedLineEditor
from widgets.types.id_card import birth_date, normalize_id, sex


class IdCardEditor(ValidatedLineEditor):
    type_name = "id_card"
    placeholder = QT_TR_NOOP("18 digits, last may be X")
    max_length = 24  # spaces between digit groups are allowed and removed

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        font = self.line.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.line.setFont(font)

    def looks_complete(self, text: str) -> bool:
        return len(normalize_id(text)) >= 18

    def detail(self, value: str) -> str:
        """The birth date and sex, so a nurse can compare them with the patient."""
        born = birth_date(value)
        words = {"male": self.tr("male"), "female": self.tr("female")}
        return f"{born.isoformat()} · {words[sex(value)]}" if born else ""
