"""Copy and paste of fields: JSON on the clipboard, fresh keys on paste."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

from designer.cascade import rename_in_expression
from designer.document import DesignerDocument
from designer.keys import unique_key
from runtime.spec.models import field_json
from widgets.base import FieldSpecBase
from widgets.registry import FieldTypeRegistry

FIELDS_MIME = "application/x-formwright-fields"


def fields_mime(specs: list[FieldSpecBase]) -> QMimeData:
    """The fields as JSON, under our own type and as plain text."""
    text = json.dumps([field_json(spec) for spec in specs], ensure_ascii=False, indent=1)
    mime = QMimeData()
    mime.setData(FIELDS_MIME, text.encode())
    mime.setText(text)
    return mime


def release_clipboard() -> None:
    """Take our fields off the clipboard before the process exits.

    Qt destroys the clipboard's data in its exit handlers, after Python has shut
    down; a QMimeData made in Python then calls back into the finished interpreter
    and the process dies with a segmentation fault instead of exiting cleanly.
    """
    app = QApplication.instance()
    if app is None:
        return
    mime = QApplication.clipboard().mimeData()
    if mime is not None and mime.hasFormat(FIELDS_MIME):
        QApplication.clipboard().clear()


def fields_from_mime(mime: QMimeData) -> list[dict[str, Any]]:
    """The field objects on the clipboard (ours, or JSON text that looks like fields)."""
    if mime.hasFormat(FIELDS_MIME):
        raw = bytes(mime.data(FIELDS_MIME).data()).decode()
    elif mime.hasText():
        raw = mime.text()
    else:
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    items = data if isinstance(data, list) else [data]
    return [item for item in items if isinstance(item, dict) and "type" in item]


def paste_fields(
    document: DesignerDocument,
    form_key: str,
    items: list[dict[str, Any]],
    index: int | None,
    parent: str | None = None,
) -> list[str]:
    """Add copies of ``items`` at ``index`` as one undo step; returns their new keys."""
    keys: list[str] = []
    with document.edit_group(f"Paste {len(items)} field(s)"):
        for offset, item in enumerate(items):
            data = dict(item)
            data.pop("key", None)
            type_name, label = data.pop("type"), data.pop("label", "Field")
            if "fields" in data:
                taken = document.field_keys(form_key)
                data["fields"] = _fresh_columns(data["fields"], taken, document.registry)
            at = None if index is None else index + offset
            keys.append(document.add_field(form_key, type_name, label, at, parent, **data))
    return keys


def _fresh_columns(
    columns: list[dict[str, Any]], taken: set[str], registry: FieldTypeRegistry
) -> list[dict[str, Any]]:
    """Columns with keys free in the form, their row formulas following the renames."""
    renames: dict[str, str] = {}
    for column in columns:
        renames[column["key"]] = unique_key(column["key"], taken | set(renames.values()))
    fresh = []
    for column in columns:
        spec = registry.get(column["type"]).spec_model.model_validate(column)
        spec.key = renames[spec.key]
        for attribute in ("visible_when", *registry.of(spec).expressions(spec)):
            text = getattr(spec, attribute)
            for old, new in renames.items():
                text = rename_in_expression(text, old, new) if text else text
            setattr(spec, attribute, text)
        fresh.append(field_json(spec))
    return fresh
