"""“Try it”: the current form in the runtime's own RecordFormView, against a
throw-away SQLite workspace with a few sample records.

The spec is copied when the preview opens: edits in the preview never touch the
document, and the designer may go on editing while the preview is open.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from runtime.api import WorkspaceHandle, open_workspace
from runtime.services.accounts.trial import add_trial_user
from runtime.services.actor import Actor
from runtime.services.records.references import WorkspaceReferences
from runtime.services.records.service import RecordError, RecordService, ValidationFailed
from runtime.spec.models import AppSpec, FormSpec
from runtime.ui.form_view import RecordFormView
from runtime.ui.services import UiServices
from widgets.base import NO_REFERENCES, FieldValueError, ReferenceSource
from widgets.registry import FieldTypeRegistry

SAMPLE_RECORDS = 3


@dataclass
class PreviewSession:
    """A temporary workspace with the app installed and one preview user."""

    handle: WorkspaceHandle
    service: RecordService
    actor: Actor
    folder: tempfile.TemporaryDirectory

    def close(self) -> None:
        self.handle.close()
        self.folder.cleanup()


def open_session(spec: AppSpec) -> PreviewSession:
    """Install ``spec`` in a new SQLite file with a department and a user."""
    folder = tempfile.TemporaryDirectory(prefix="formwright-preview-")
    handle = open_workspace(f"sqlite:///{Path(folder.name) / 'preview.sqlite'}")
    handle.upgrade(spec)
    actor = add_trial_user(
        handle.workspace, "preview", "Preview user", "Preview ward", is_admin=True
    )
    return PreviewSession(handle, handle.app(spec.id, actor).service, actor, folder)


def sample_values(
    form: FormSpec,
    registry: FieldTypeRegistry,
    number: int,
    references: ReferenceSource = NO_REFERENCES,
) -> dict[str, Any]:
    """Values for the ``number``-th sample record: per field the first of its type's
    ``sample_values`` (from the ``number``-th on) that the field accepts; people and
    departments are the current user and their ward of ``references`` (the
    preview user's)."""
    values = {}
    for spec in form.fields:
        field_type = registry.of(spec)
        if not field_type.has_value or field_type.computed:
            continue
        samples = field_type.sample_values(spec)
        kind = field_type.reference_kind(spec)
        current = kind.current(references) if kind is not None else None
        if current is not None and samples:
            samples = [field_type.coerce(spec, current[0])]
        value = _first_valid(field_type, spec, samples, number)
        if value is not None:
            values[spec.key] = value
    return values


def _first_valid(field_type: Any, spec: Any, samples: list[Any], start: int) -> Any:
    for offset in range(len(samples)):
        value = samples[(start + offset) % len(samples)]
        try:
            field_type.validate(spec, field_type.coerce(spec, value))
        except (FieldValueError, TypeError, ValueError):
            continue
        return value
    return None


def add_samples(session: PreviewSession, form: FormSpec, count: int = SAMPLE_RECORDS) -> int:
    """Create up to ``count`` sample records, leaving out values the app refuses
    (a user id that does not exist, a file that was never stored...)."""
    created = 0
    registry = session.service.registry
    references = WorkspaceReferences(session.service, session.actor)
    for number in range(count):
        values = sample_values(form, registry, number, references)
        for _attempt in range(len(values) + 1):
            try:
                session.service.create(form.key, values, session.actor)
            except ValidationFailed as error:
                refused = {path.split(".")[0].split("[")[0] for path in error.errors}
                if not refused & set(values):
                    break
                values = {k: v for k, v in values.items() if k not in refused}
                continue
            except RecordError:
                break
            created += 1
            break
    return created


class PreviewWindow(QDialog):
    """The form as users will see it; Save stores a record in the preview workspace."""

    saved = Signal(int)

    def __init__(
        self,
        spec: AppSpec,
        form_key: str,
        registry: FieldTypeRegistry,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.spec = spec.model_copy(deep=True)
        self.form = self.spec.form(form_key)
        self.setWindowTitle(self.tr("Try it — {title}").format(title=self.form.title))
        self.resize(1000, 700)
        self.session = open_session(self.spec)
        for form in self.spec.forms:
            add_samples(self.session, form)
        services = UiServices(self.session.service, self.session.actor)
        self.view = RecordFormView(self.form, services.references, registry, self)
        self.status = QLabel(self.tr("Edits here are for trying only; the app is not changed."))
        self.save_button = QPushButton(self.tr("Save record"), self)
        self.save_button.clicked.connect(self.save)
        self.new_button = QPushButton(self.tr("New record"), self)
        self.new_button.clicked.connect(lambda: self.view.set_values({}))
        self.records = QListWidget(self)
        self._build()
        self.refresh_records()

    def _build(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.save_button)
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.view, 1)
        column.addLayout(buttons)
        right = QWidget(self)
        side = QVBoxLayout(right)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(QLabel(self.tr("Saved records")))
        side.addWidget(self.records)
        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([720, 260])
        QVBoxLayout(self).addWidget(splitter)

    def save(self) -> bool:
        """Store the form's values as a new record; errors show under the fields
        (text that is not a value of its field is refused here, before the service)."""
        problems = self.view.typing_problems()
        if problems:
            self.view.set_errors(problems)
            self.status.setText(self.tr("Please correct the marked fields."))
            return False
        try:
            record = self.session.service.create(
                self.form.key, self.view.values(), self.session.actor
            )
        except ValidationFailed as error:
            self.view.set_errors(error.errors)
            self.status.setText(self.tr("Please correct the marked fields."))
            return False
        except RecordError as error:
            self.status.setText(error.message)
            return False
        self.status.setText(self.tr("Saved record #{id}.").format(id=record.id))
        self.refresh_records()
        self.saved.emit(record.id)
        return True

    def refresh_records(self) -> None:
        self.records.clear()
        registry = self.session.service.registry
        shown = [s for s in self.form.fields if registry.of(s).has_value][:2]
        for record in self.session.service.page(self.form.key).records[:50]:
            text = " · ".join(registry.of(s).display(s, record.values.get(s.key)) for s in shown)
            self.records.addItem(f"#{record.id}  {text}")

    def done(self, result: int) -> None:
        self.session.close()
        super().done(result)
