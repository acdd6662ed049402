"""The AppSpec document: models, validation, format upgrades."""

from runtime.spec.load import load_app, parse_app_spec, spec_problems
from runtime.spec.models import (
    ACTIONS,
    SPEC_VERSION,
    AppSpec,
    FormSpec,
    Grant,
    RoleSpec,
    SortKey,
    ViewSpec,
)
from runtime.spec.problems import Problem, SpecError
from runtime.spec.validate import validate_app

__all__ = [
    "ACTIONS",
    "SPEC_VERSION",
    "AppSpec",
    "FormSpec",
    "Grant",
    "Problem",
    "RoleSpec",
    "SortKey",
    "SpecError",
    "ViewSpec",
    "load_app",
    "parse_app_spec",
    "spec_problems",
    "validate_app",
]
