"""The runtime and the designer start on a real X display (Xvfb, Qt's xcb platform).

Offscreen tests never load the xcb plugin, whose system libraries (libxcb-icccm4,
libxcb-keysyms1, …; tools/setup.sh installs them) a fresh Debian lacks: this test
starts each program with ``QT_QPA_PLATFORM=xcb`` on an Xvfb of its own; the
program quits after its first window painted (``FORMWRIGHT_SMOKE_QUIT_AFTER_PAINT``,
runtime/ui/smoke.py). A missing library makes Qt abort, and the test fail.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPAIR = ROOT / "sample_apps" / "equipment_repair"
PLUGIN_FAILURE = "could not load the qt platform plugin"


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private Xvfb on a free display number (Xvfb picks it: -displayfd)."""
    xvfb = shutil.which("Xvfb")
    assert xvfb, "Xvfb is needed: tools/setup.sh installs xvfb"
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 10)
        assert ready, "Xvfb did not start"
        number = os.read(read_end, 32).decode().strip()
        assert number.isdigit(), f"Xvfb gave no display number: {number!r}"
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(timeout=10)


def start_on_x(display: str, tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("QT_LOGGING")
    }
    environment |= {
        "QT_QPA_PLATFORM": "xcb",
        "DISPLAY": display,
        "FORMWRIGHT_SMOKE_QUIT_AFTER_PAINT": "1",
        "FORMWRIGHT_LANG": "en",
        "PYTHONPATH": str(ROOT),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *argv],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )


def assert_painted(result: subprocess.CompletedProcess) -> None:
    problem = f"exit {result.returncode}; stderr: {result.stderr[-2000:]}"
    assert PLUGIN_FAILURE not in result.stderr.lower(), problem
    assert result.returncode == 0, problem
    assert "painted: " in result.stdout, problem


def test_the_runtime_paints_its_first_window_on_x(display, tmp_path):
    """On an empty database the first window is the administrator's first-run dialog."""
    result = start_on_x(display, tmp_path, "run", str(REPAIR), "--db", f"sqlite:///{tmp_path}/x.db")
    assert_painted(result)


def test_the_designer_paints_its_window_on_x(display, tmp_path):
    assert_painted(start_on_x(display, tmp_path, "design", str(REPAIR)))
