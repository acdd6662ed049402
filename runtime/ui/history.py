"""The change history of one record as lines for the record window's History tab.

The rows come from ``RecordService.history`` (hidden fields already removed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runtime.services.query import AuditRow
from runtime.spec.models import FormSpec
from runtime.ui.i18n import tr
from widgets.base import ExcelContext, FieldValueError
from widgets.registry import FieldTypeRegistry, default_registry

#: Shown for a value that is not there (history, conflicts).
EMPTY = "(empty)"
#: What each audited action is called (translated where shown; "Created" is a
#: history action here, not the list's "Created" column: see ACTION_CONTEXT).
ACTION_CONTEXT = "history action"
ACTION_TEXT = {
    "create": "Created",
    "update": "Changed",
    "delete": "Moved to trash",
    "restore": "Restored",
    "purge": "Deleted for good",
}


@dataclass(frozen=True)
class HistoryLine:
    """One line of the History tab."""

    who: str
    when: str
    action: str
    change: str


def history_lines(
    rows: list[AuditRow],
    form: FormSpec,
    context: ExcelContext,
    registry: FieldTypeRegistry = default_registry,
) -> list[HistoryLine]:
    """Lines newest first; an update gives one line per changed field (old → new)."""
    lines: list[HistoryLine] = []
    for row in reversed(rows):
        when = local_time_text(row.at)
        action = action_text(row.action)
        who = row.display_name or row.username or tr("system")
        changes = _changes(row, form, context, registry) or [""]
        lines += [HistoryLine(who, when, action, change) for change in changes]
    return lines


def _changes(row: AuditRow, form: FormSpec, context, registry) -> list[str]:
    if row.action != "update" or not row.details:
        return []
    specs = {spec.key: spec for spec in form.fields}
    texts = []
    for key, pair in row.details.items():
        spec = specs.get(key)
        label = spec.label if spec is not None else key
        old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        texts.append(
            f"{label}: {_text(spec, old, context, registry)} → "
            f"{_text(spec, new, context, registry)}"
        )
    return texts


def _text(spec: Any, data: Any, context: ExcelContext, registry: FieldTypeRegistry) -> str:
    """A logged JSON value as the user sees it; "(empty)" for nothing."""
    if data is None or spec is None:
        return tr(EMPTY) if data is None else str(data)
    field_type = registry.of(spec)
    try:
        text = field_type.display(spec, field_type.from_json(spec, data), context)
    except (FieldValueError, TypeError, ValueError):
        text = str(data)
    return text or tr(EMPTY)


def action_text(action: str) -> str:
    """An audited action in the UI language (an unknown one as it was logged)."""
    text = ACTION_TEXT.get(action)
    return tr(text, ACTION_CONTEXT) if text else action


def local_time_text(value: datetime | None) -> str:
    """A stored naive-UTC time in the workstation's local time, to the minute."""
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")
