"""Turn raw ``app.json`` data or a package path into a validated AppSpec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runtime.spec.models import AppSpec
from runtime.spec.problems import Problem, SpecError
from runtime.spec.upgrade import upgrade_document
from runtime.spec.validate import validate_app
from widgets.base import flatten_errors
from widgets.registry import FieldTypeRegistry, default_registry


def parse_app_spec(data: Any, registry: FieldTypeRegistry = default_registry) -> AppSpec:
    """Upgrade, validate structure, then cross-references; SpecError lists all problems."""
    document = upgrade_document(data)
    try:
        spec = AppSpec.model_validate(document, context={"registry": registry})
    except ValidationError as error:
        problems = [Problem(path, message) for path, message in flatten_errors(error.errors())]
        raise SpecError(problems) from None
    problems = validate_app(spec, registry)
    if problems:
        raise SpecError(problems)
    return spec


def spec_problems(data: Any, registry: FieldTypeRegistry = default_registry) -> list[Problem]:
    """All problems of raw ``app.json`` data; empty when it is valid."""
    try:
        parse_app_spec(data, registry)
    except SpecError as error:
        return error.problems
    return []


def load_app(path: str | Path, registry: FieldTypeRegistry = default_registry) -> AppSpec:
    """Read a package (folder, app.json or .fwapp) and return its validated spec.

    Raises ``runtime.package.PackageError`` for unreadable packages and
    :class:`SpecError` for invalid content.
    """
    from runtime.package import read_package

    return parse_app_spec(read_package(path).app_json, registry)
