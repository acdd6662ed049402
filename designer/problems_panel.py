"""The problems panel: what ``formwright check`` would say, kept current while
editing (debounced), each line a link to the field it names."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from designer.document import DesignerDocument, FieldPath
from resources import icons

PATH_ROLE = Qt.ItemDataRole.UserRole
_FIELD_PATH = re.compile(r"^forms\[(\d+)\](?:\.fields\[(\d+)\](?:\.fields\[(\d+)\])?)?")
_GRANT_FIELD = re.compile(r"^roles\[(\d+)\]\.grants\.(\w+)\.fields\.(\w+)$")
DEBOUNCE_MS = 250


def resolve(document: DesignerDocument, path: str) -> tuple[str | None, FieldPath | None]:
    """The form key and field a problem path such as ``forms[1].fields[3].max`` names."""
    match = _FIELD_PATH.match(path)
    if match is None:
        return None, None
    forms = document.spec.forms
    form_index, field_index, child_index = (
        int(group) if group is not None else None for group in match.groups()
    )
    if form_index >= len(forms):
        return None, None
    form = forms[form_index]
    if field_index is None or field_index >= len(form.fields):
        return form.key, None
    spec = form.fields[field_index]
    children = document.children(spec) or []
    if child_index is not None and child_index < len(children):
        return form.key, FieldPath(form.key, children[child_index].key, spec.key)
    return form.key, FieldPath(form.key, spec.key)


class ProblemsPanel(QListWidget):
    """One line per problem; a click selects the field (``form_activated`` first)."""

    form_activated = Signal(str)
    target_activated = Signal(tuple)

    def __init__(self, document: DesignerDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        document.problems_changed.connect(self._timer.start)
        document.spec_reset.connect(self._timer.start)
        self.itemClicked.connect(self.jump_to)
        self.refresh()

    def refresh(self) -> None:
        self._timer.stop()
        self.clear()
        error_icon = icons.icon("mdi6.alert-circle-outline", color="#c62828")
        for problem in self.document.problems():
            self._add(problem, error_icon, problem.path)
        warning_icon = icons.icon("mdi6.alert-outline", color="#b26a00")
        for problem in self.document.warnings():
            self._add(problem, warning_icon, self.tr("Warning: {path}").format(path=problem.path))
        if self.count() == 0:
            ok = QListWidgetItem(
                icons.icon("mdi6.check-circle-outline", color="#2e7d32"),
                self.tr("No problems: the app is ready to publish."),
                self,
            )
            ok.setFlags(Qt.ItemFlag.ItemIsEnabled)

    def _add(self, problem, icon, tip: str) -> None:
        text = self.tr("{place}: {problem}").format(
            place=self._where(problem.path), problem=problem.message
        )
        item = QListWidgetItem(icon, text, self)
        item.setData(PATH_ROLE, problem.path)
        item.setToolTip(tip)

    def _where(self, path: str) -> str:
        """The path in the builder's words: ``Repair request › Device`` when known."""
        form_key, field = resolve(self.document, path)
        if field is not None:
            spec = self.document.field(field.form, field.key)
            return f"{self.document.form(form_key).title} › {spec.label}"
        if form_key is not None:
            return self.document.form(form_key).title
        return self._grant_place(path) or path or self.tr("App")

    def _grant_place(self, path: str) -> str | None:
        """``roles[0].grants.staff.fields.bonus`` as ``Clerk › Staff › Bonus``."""
        match = _GRANT_FIELD.match(path)
        roles = self.document.spec.roles
        if match is None or int(match[1]) >= len(roles):
            return None
        form_key, key = match[2], match[3]
        forms = {form.key: form for form in self.document.spec.forms}
        if form_key not in forms:
            return None
        labels = {field.key: field.label for field in forms[form_key].fields}
        role = roles[int(match[1])]
        return f"{role.title} › {forms[form_key].title} › {labels.get(key, key)}"

    def jump_to(self, item: QListWidgetItem) -> None:
        path = item.data(PATH_ROLE)
        if not path:
            return
        form_key, field = resolve(self.document, path)
        if form_key is not None:
            self.form_activated.emit(form_key)
        if field is not None:
            self.document.set_selection([field])
        elif form_key is not None:
            self.target_activated.emit(("form", form_key))
