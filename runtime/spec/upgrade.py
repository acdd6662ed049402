"""Upgrades of older ``app.json`` formats, one explicit step per ``spec_version``.

Each step takes the raw JSON dict of version N and returns version N + 1. Steps
work on plain dicts (before pydantic), so old files need not fit today's models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from resources.messages import tr
from runtime.spec.models import FORMAT_NAME, SPEC_VERSION
from runtime.spec.problems import Problem, SpecError

UpgradeStep = Callable[[dict[str, Any]], dict[str, Any]]

#: ``UPGRADE_STEPS[n]`` turns a version-``n`` document into version ``n + 1``.
#: Format 1 is the first public one; the next format change adds ``UPGRADE_STEPS[1]``.
UPGRADE_STEPS: dict[int, UpgradeStep] = {}


def upgrade_document(
    data: Any,
    steps: dict[int, UpgradeStep] | None = None,
    target: int = SPEC_VERSION,
) -> dict[str, Any]:
    """Bring a raw ``app.json`` dict to the current format, or raise SpecError."""
    steps = UPGRADE_STEPS if steps is None else steps
    if not isinstance(data, dict):
        raise SpecError([Problem("", tr("app.json must contain a JSON object"))])
    if data.get("format") != FORMAT_NAME:
        raise SpecError(
            [
                Problem(
                    "format",
                    tr("not a Formwright app (format must be '{format}')").format(
                        format=FORMAT_NAME
                    ),
                )
            ]
        )
    version = data.get("spec_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SpecError([Problem("spec_version", tr("must be a whole number, 1 or more"))])
    if version > target:
        raise SpecError(
            [
                Problem(
                    "spec_version",
                    tr(
                        "this app was made by a newer Formwright (format {version}); "
                        "this version reads up to format {target} — please update Formwright"
                    ).format(version=version, target=target),
                )
            ]
        )
    while version < target:
        step = steps.get(version)
        if step is None:
            message = tr("no upgrade from format {version}").format(version=version)
            raise SpecError([Problem("spec_version", message)])
        data = step(dict(data))
        version += 1
        data["spec_version"] = version
    return data
