"""The field-type registry: the only way other code reaches a field type."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

from widgets.base import PALETTE_GROUPS, FieldSpecBase, FieldType

# One module per type in widgets/types; each exposes ``FIELD_TYPE``.
BUILTIN_TYPE_MODULES: tuple[str, ...] = (
    "text",
    "textarea",
    "number",
    "date",
    "datetime",
    "time",
    "select",
    "multiselect",
    "checkbox",
    "phone",
    "email",
    "id_card",
    "serial",
    "user",
    "department",
    "lookup",
    "subtable",
    "attachment",
    "image",
    "signature",
    "rating",
    "formula",
    "section",
    "note",
)


class UnknownFieldType(KeyError):
    """Raised when a type name is not registered."""


class FieldTypeRegistry:
    """Field types by name. An instance; :meth:`copy` gives tests their own."""

    def __init__(self, types: list[FieldType[Any]] | None = None) -> None:
        self._types: dict[str, FieldType[Any]] = {}
        for field_type in types or []:
            self.register(field_type)

    def register(self, field_type: FieldType[Any]) -> None:
        if field_type.name in self._types:
            raise ValueError(f"field type {field_type.name!r} is already registered")
        if field_type.group not in PALETTE_GROUPS:
            raise ValueError(f"unknown palette group {field_type.group!r}")
        self._types[field_type.name] = field_type

    def unregister(self, name: str) -> None:
        del self._types[name]

    def copy(self) -> FieldTypeRegistry:
        return FieldTypeRegistry(list(self._types.values()))

    def get(self, name: str) -> FieldType[Any]:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownFieldType(name) from None

    def of(self, spec: FieldSpecBase) -> FieldType[Any]:
        """The type of a field spec (typed ``Any`` over its spec: callers pass the
        spec they hold, which is of that type's model)."""
        return self.get(spec.type)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[FieldType[Any]]:
        return iter(self._types.values())

    def names(self) -> list[str]:
        return list(self._types)

    def by_group(self) -> dict[str, list[FieldType[Any]]]:
        """Types grouped for the palette, groups in display order."""
        groups: dict[str, list[FieldType[Any]]] = {group: [] for group in PALETTE_GROUPS}
        for field_type in self._types.values():
            groups[field_type.group].append(field_type)
        return {group: types for group, types in groups.items() if types}


def load_builtin_types() -> list[FieldType[Any]]:
    types = []
    for module_name in BUILTIN_TYPE_MODULES:
        module = importlib.import_module(f"widgets.types.{module_name}")
        types.append(module.FIELD_TYPE)
    return types


default_registry = FieldTypeRegistry(load_builtin_types())
