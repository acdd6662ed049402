"""Long work as steps: a generator of :class:`Progress` whose return value is the result.

Every slow use case (Excel export and import, undoing an import, the audit chain
check, bulk moves to the trash, an app upgrade) is written this way, so one
runner serves them all: a screen drives the generator with a bar and cancels by
closing it (``runtime.ui.long_task``); a script or the CLI calls :func:`run_steps`.
``Progress.message`` names the step in plain English ("exporting", "upgrading");
the screen turns that name into the user's words.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """One step of long work: ``done`` of ``total`` units (``total`` None: unknown)."""

    done: int
    total: int | None
    message: str = ""


Steps = Generator[Progress, None, T]


def run_steps(steps: Steps[T], on_progress: Callable[[Progress], Any] | None = None) -> T:
    """Drive a progress generator to its end and return its result."""
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(step)
