"""Designer wording that depends on the UI language: field type titles, groups,
attribute names. Strings are English source text passed through the translator."""

from __future__ import annotations

from resources.i18n import current_language, tr
from widgets.base import FieldType

GROUP_TITLES: dict[str, str] = {
    "basic": "Basic",
    "choice": "Choice",
    "datetime": "Date and time",
    "people": "People",
    "relations": "Relations",
    "files": "Files",
    "advanced": "Advanced",
    "layout": "Layout",
}

#: How attributes are named in the inspector (English source text).
PROPERTY_LABELS: dict[str, str] = {
    "key": "Key",
    "label": "Label",
    "title": "Title",
    "description": "Description",
    "id": "App id",
    "required": "Required",
    "help": "Help text",
    "default": "Default value",
    "width": "Width",
    "visible_when": "Visible when",
    "readonly": "Read-only",
    "unique": "Unique",
    "max_length": "Max length",
    "pattern": "Pattern",
    "placeholder": "Placeholder",
    "decimals": "Decimals",
    "min": "Minimum",
    "max": "Maximum",
    "unit": "Unit",
    "options": "Options",
    "display": "Display as",
    "min_selected": "At least",
    "max_selected": "At most",
    "multiple": "Several",
    "default_current": "Current user by default",
    "form": "Form",
    "display_field": "Shown field",
    "min_rows": "Min rows",
    "max_rows": "Max rows",
    "max_files": "Max files",
    "max_size_mb": "Max size (MB)",
    "extensions": "Extensions",
    "expression": "Expression",
    "result": "Result type",
    "collapsed": "Collapsed",
    "text": "Text",
    "icon": "Icon",
}


def type_title(field_type: FieldType) -> str:
    """The palette title in the UI language (``title_zh`` in Chinese)."""
    return field_type.title_zh if current_language() == "zh_CN" else field_type.title


def group_title(group: str) -> str:
    return tr(GROUP_TITLES.get(group, group.title()))


def property_label(name: str) -> str:
    return tr(PROPERTY_LABELS.get(name, name.replace("_", " ").capitalize()))
