"""Editor of an e-mail address: a line edit with a ✓/✗ mark."""

from __future__ import annotations

from widgets.editors.phone import ValidatedLineEditor
from widgets.types.email import MAX_LENGTH


class EmailEditor(ValidatedLineEditor):
    type_name = "email"
    placeholder = "name@hospital.cn"
    max_length = MAX_LENGTH + 20  # room for spaces or "mailto:" that get stripped
