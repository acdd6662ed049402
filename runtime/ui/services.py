"""Everything the runtime's windows need, in one object built after login.

The windows take a :class:`UiServices` and never build SQL or check permissions:
every method asks a service (records, files, settings, references).
"""

from __future__ import annotations

from collections.abc import Callable

from runtime.services.actor import Actor
from runtime.services.query import AuditRow
from runtime.services.records.files import FileStore
from runtime.services.records.references import WorkspaceReferences
from runtime.services.records.service import RecordService
from runtime.services.settings import WorkspaceSettings
from runtime.services.workspace import describe_database
from runtime.spec.models import AppSpec, FormSpec
from runtime.ui.view_settings import ViewSettingsStore
from widgets.base import ReferenceSource
from widgets.registry import FieldTypeRegistry


class UiServices:
    """The services of one app as one user (the app controller builds it)."""

    def __init__(
        self,
        records: RecordService,
        actor: Actor,
        references: ReferenceSource | None = None,
        view_settings: ViewSettingsStore | None = None,
        save_files: Callable[[dict[str, bytes]], None] | None = None,
    ) -> None:
        self.records = records
        self.actor = actor
        self.references = references or WorkspaceReferences(records, actor)
        self.view_settings = view_settings or WorkspaceSettings(records.workspace)
        self._save_files = save_files or FileStore(records.workspace).save_files

    @property
    def spec(self) -> AppSpec:
        return self.records.spec

    @property
    def registry(self) -> FieldTypeRegistry:
        return self.records.registry

    def form(self, key: str) -> FormSpec:
        return next(form for form in self.spec.forms if form.key == key)

    # -- what the service allows (asked, never decided here) -----------------
    def allowed(self, form: str, action: str) -> bool:
        return self.records.policy(self.actor, form).allowed(form, action)

    def readable_forms(self) -> list[str]:
        return self.records.policy(self.actor).readable_forms()

    def writable_fields(self, form: str, action: str) -> set[str]:
        return set(self.records.policy(self.actor, form).writable_fields(form, action))

    def field_modes(self, form: str, action: str) -> dict[str, str]:
        """``hidden``/``readonly`` per value field for an action (others are editable)."""
        policy = self.records.policy(self.actor, form)
        modes = {}
        for spec in self.form(form).fields:
            field_type = self.registry.of(spec)
            if field_type.has_value or field_type.children(spec):
                mode = policy.field_mode(form, spec.key, action)
                if mode is not None:
                    modes[spec.key] = mode
        return modes

    def database(self) -> str:
        """A password-free description of the workspace database."""
        return describe_database(self.records.workspace)

    def history(self, form: str, record_id: int) -> list[AuditRow]:
        return self.records.history(form, record_id, actor=self.actor)

    def save_files(self, files: dict[str, bytes]) -> None:
        """Store the bytes of newly attached files before the record that names them."""
        if files:
            self._save_files(files)
