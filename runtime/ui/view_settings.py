"""Per-user list settings (columns, sort, filter, saved views) as plain JSON.

The list page writes through :class:`ViewSettingsStore`; the application backs it
with the workspace's ``fw_settings`` table, tests and the designer preview use
:class:`InMemoryViewSettings`. Filters are stored as JSON trees so a saved view
survives restarts and app upgrades (unknown fields are dropped on load).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Protocol

from runtime.services.query import AllOf, AnyOf, Condition, Filter, Sort
from runtime.spec.models import FormSpec
from widgets.registry import FieldTypeRegistry, default_registry

#: Operators whose value is a piece of text or one list element, kept as it is.
TEXT_OPERATORS = frozenset({"contains", "not_contains", "starts_with"})


class ViewSettingsStore(Protocol):
    """Loads and saves one JSON object per (user, scope); scope is ``app.form``."""

    def load(self, user_id: int | None, scope: str) -> dict[str, Any]: ...

    def save(self, user_id: int | None, scope: str, data: dict[str, Any]) -> None: ...


class InMemoryViewSettings:
    """A store that lives as long as the process (tests, preview)."""

    def __init__(self) -> None:
        self._data: dict[tuple[int | None, str], dict[str, Any]] = {}

    def load(self, user_id: int | None, scope: str) -> dict[str, Any]:
        return copy.deepcopy(self._data.get((user_id, scope), {}))

    def save(self, user_id: int | None, scope: str, data: dict[str, Any]) -> None:
        self._data[(user_id, scope)] = copy.deepcopy(data)


@dataclass
class ListView:
    """What a list shows: columns, sort and filter (search is not remembered)."""

    columns: list[str] = field(default_factory=list)
    sort: Sort = field(default_factory=Sort)
    filter: Filter | None = None

    def to_json(self, form: FormSpec, registry: FieldTypeRegistry = default_registry) -> dict:
        return {
            "columns": list(self.columns),
            "sort": {"field": self.sort.field, "desc": self.sort.desc},
            "filter": filter_to_json(self.filter, form, registry),
        }

    @classmethod
    def from_json(
        cls, data: dict, form: FormSpec, registry: FieldTypeRegistry = default_registry
    ) -> ListView:
        sort = data.get("sort") or {}
        return cls(
            columns=[str(key) for key in data.get("columns") or []],
            sort=Sort(str(sort.get("field", "id")), bool(sort.get("desc", False))),
            filter=filter_from_json(data.get("filter"), form, registry),
        )


def filter_to_json(node: Filter | None, form: FormSpec, registry: FieldTypeRegistry) -> Any:
    """A JSON tree of a filter; values go through their field type's ``to_json``."""
    if node is None:
        return None
    if isinstance(node, AllOf | AnyOf):
        parts = [filter_to_json(part, form, registry) for part in node.parts]
        return {"all" if isinstance(node, AllOf) else "any": parts}
    spec = None if node.op in TEXT_OPERATORS else _field(form, node.field)
    return {"field": node.field, "op": node.op, "value": _value_json(spec, node.value, registry)}


def filter_from_json(data: Any, form: FormSpec, registry: FieldTypeRegistry) -> Filter | None:
    """The filter of a JSON tree; conditions on fields the form no longer has are dropped."""
    if not isinstance(data, dict):
        return None
    for key, kind in (("all", AllOf), ("any", AnyOf)):
        if key in data:
            parts = [filter_from_json(part, form, registry) for part in data[key]]
            kept = tuple(part for part in parts if part is not None)
            return kind(kept) if kept else None
    spec = _field(form, str(data.get("field")))
    if spec is None:
        return None
    field_type = registry.of(spec)
    value = data.get("value")
    if data.get("op") in TEXT_OPERATORS:
        pass  # a piece of text or one element of a list, not a whole value
    elif isinstance(value, list) and data.get("op") in ("between", "in"):
        value = [field_type.from_json(spec, item) for item in value]
    elif value is not None:
        value = field_type.from_json(spec, value)
    return Condition(spec.key, data["op"], value)


def _value_json(spec: Any, value: Any, registry: FieldTypeRegistry) -> Any:
    if spec is None or value is None:
        return value
    field_type = registry.of(spec)
    if isinstance(value, list | tuple):
        return [field_type.to_json(spec, item) for item in value]
    return field_type.to_json(spec, value)


def _field(form: FormSpec, key: str) -> Any:
    return next((spec for spec in form.fields if spec.key == key), None)
