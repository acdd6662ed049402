"""Editor of a phone number; also the validated line edit the e-mail and ID editors share."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QLineEdit

from widgets.base import FieldValueError
from widgets.editors.base import FieldEditor
from widgets.registry import default_registry

_OK_STYLE = "color: #2e7d32;"
_BAD_STYLE = "color: #c62828; font-weight: bold;"


class ValidatedLineEditor(FieldEditor):
    """A line edit with a ✓/✗ mark after it; the mark's tooltip says what is wrong.

    A ✗ appears only once the input looks complete (:meth:`looks_complete`) or the
    user leaves the field, so nobody is scolded halfway through typing. On leaving,
    valid input is rewritten in its canonical form.
    """

    type_name = "phone"
    placeholder = ""
    max_length = 40

    keeps_typed_text = True

    def __init__(self, spec, references=None, parent=None) -> None:
        super().__init__(spec, references, parent)
        self.field_type = default_registry.get(self.type_name)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(self.tr(self.placeholder) if self.placeholder else "")
        self.line.setMaxLength(self.max_length)
        self.line.setClearButtonEnabled(True)
        self.line.textEdited.connect(self._on_edited)
        self.line.editingFinished.connect(self._on_finished)
        self.mark = QLabel(self)
        self.mark.setMinimumWidth(self.mark.fontMetrics().horizontalAdvance("✓") + 6)
        self.layout_.addWidget(self.line, 1)
        self.layout_.addWidget(self.mark)
        self.setFocusProxy(self.line)

    def looks_complete(self, text: str) -> bool:
        return False

    def detail(self, value: str) -> str:
        """Extra text shown after a ✓ (the ID editor shows birth date and sex)."""
        return ""

    def _check(self) -> tuple[Any, str | None]:
        """(canonical value or None, problem or None) of the current text."""
        try:
            value = self.field_type.coerce(self.spec, self.line.text())
            self.field_type.validate(self.spec, value)
        except FieldValueError as error:
            return None, error.message
        return value, None

    def _update_mark(self, finished: bool) -> None:
        value, problem = self._check()
        if value is not None:
            self.mark.setText(" ".join(filter(None, ["✓", self.detail(value)])))
            self.mark.setStyleSheet(_OK_STYLE)
            self.mark.setToolTip("")
        elif problem and (finished or self.looks_complete(self.line.text().strip())):
            self.mark.setText("✗")
            self.mark.setStyleSheet(_BAD_STYLE)
            self.mark.setToolTip(problem)
        else:
            self.mark.setText("")
            self.mark.setToolTip("")
        self.line.setToolTip(self.mark.toolTip())

    def problem(self) -> str | None:
        """What is wrong with the current text (``None`` when valid or empty)."""
        return self._check()[1]

    def _on_edited(self, _text: str) -> None:
        self._update_mark(finished=False)
        self.value_changed.emit()

    def _on_finished(self) -> None:
        value, _problem = self._check()
        if value is not None and value != self.line.text():
            self.line.setText(value)
        self._update_mark(finished=True)
        self.finished.emit()

    def value(self) -> Any:
        """The canonical value; invalid text is returned as typed so the form's
        validation reports it instead of silently dropping it."""
        value, _problem = self._check()
        if value is not None:
            return value
        text = self.line.text().strip()
        return text or None

    def set_value(self, value: Any) -> None:
        self.line.setText("" if value is None else str(value))
        self._update_mark(finished=True)

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.line.setReadOnly(read_only)
        self.line.setClearButtonEnabled(not read_only)


class PhoneEditor(ValidatedLineEditor):
    type_name = "phone"
    placeholder = "13800138000 / 010-12345678"

    def looks_complete(self, text: str) -> bool:
        return len(text) >= 11
