"""Lint and layering run with the tests, so CI and developers see the same verdict."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied():
    result = run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_layers_hold():
    """widgets ← runtime ← designer, and the Qt-free core never imports PySide6."""
    result = run(str(BIN / "lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing_in_the_typed_core():
    """The packages listed in pyproject's [tool.mypy] ``files`` type-check clean.

    The cache lives in the repository's (ignored) .mypy_cache, so a second run
    takes a few seconds instead of twenty.
    """
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout


def test_qt_free_core_imports_without_qt():
    """Import the core in a fresh interpreter with PySide6 made unimportable."""
    code = (
        "import sys; sys.modules['PySide6'] = None; sys.modules['qtawesome'] = None\n"
        "import runtime.spec, runtime.package, runtime.expressions, widgets.registry\n"
        "import runtime.cli\n"
        "from widgets.registry import default_registry\n"
        "assert len(default_registry.names()) >= 24\n"
    )
    result = run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr


def test_only_the_record_services_reach_the_record_repository():
    """The import contract keeps the repository's module to the record services; this
    keeps its instance there too (``service.repository.…`` from elsewhere would
    write or read around the one write pipeline and its checks)."""
    allowed = (ROOT / "runtime" / "services" / "records", ROOT / "runtime" / "store")
    reaching = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("runtime", "designer")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not any(path.is_relative_to(place) for place in allowed)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.repository\b", line)
    ]
    assert reaching == []
