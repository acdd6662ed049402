"""The errors a record operation reports to the user.

Kept apart from the record service so screens and the CLI can import what they
catch (NotFound, ValidationFailed, ConflictError) without the service's
machinery; ``runtime.services.records.service`` re-exports every one of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from resources.messages import tr
from runtime.services.errors import ServiceError


class RecordError(ServiceError):
    """Base of the errors a record operation reports to the user."""


class NotFound(RecordError):
    pass


class StorageFailed(RecordError):
    """The database could not do the write (read-only, full, unreachable…); the
    message is a plain sentence, never the driver's text (SQL and values)."""


class ValidationFailed(RecordError):
    """Values that do not fit; ``errors`` maps a field path to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        first = "; ".join(f"{key}: {message}" for key, message in list(errors.items())[:3])
        super().__init__(tr("please correct the form — {problems}").format(problems=first))


class ConflictError(RecordError):
    """Someone saved the record after the caller read it; nothing was written.

    ``differences`` maps each field key to (the caller's value, the stored value).
    """

    def __init__(
        self,
        record_id: int,
        saved_by: str,
        saved_at: datetime,
        current_version: int,
        differences: dict[str, tuple[Any, Any]],
    ) -> None:
        self.record_id = record_id
        self.saved_by = saved_by
        self.saved_at = saved_at
        self.current_version = current_version
        self.differences = differences
        if differences:
            template = tr(
                "{user} saved this record at {time} UTC after you opened it (changed: {fields})"
            )
        else:
            template = tr(
                "{user} saved this record at {time} UTC after you opened it"
                " (changed: no field you changed)"
            )
        super().__init__(
            template.format(
                user=saved_by, time=f"{saved_at:%Y-%m-%d %H:%M}", fields=", ".join(differences)
            )
        )
