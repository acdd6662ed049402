"""Designer interactions on a 300-field form: show it, add a field, undo 300 steps.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_designer.py``.
Target: each interaction under 100 ms. Times include the Qt work of the canvas,
inspector, outline and problems panel of a real main window (offscreen).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from designer.canvas import Canvas, CanvasArea
from designer.document import build_large_form
from designer.files import RecoveryStore
from designer.main_window import DesignerWindow

TARGET_MS = 100.0


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def settle(app: QApplication) -> None:
    app.processEvents()
    app.processEvents()


def main() -> None:
    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="fw-bench-"))
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    document = build_large_form(300)
    fields = len(document.form("form_1").fields)

    other = build_large_form(300)
    start = time.perf_counter()
    alone = CanvasArea(Canvas(other))
    alone.resize(1000, 800)
    alone.show()
    settle(app)
    canvas_only = ms(start)
    alone.close()
    alone.deleteLater()
    settle(app)

    start = time.perf_counter()
    window = DesignerWindow(document=document, recovery=RecoveryStore(folder), settings=settings)
    window.show()
    settle(app)
    show = ms(start)
    start = time.perf_counter()
    window.canvas.build_all()
    settle(app)
    previews = ms(start)

    start = time.perf_counter()
    window.canvas.add_new("text", 150)
    settle(app)
    add = ms(start)

    start = time.perf_counter()
    document.set_field_property("form_1", "field_150", "label", "Renamed")
    settle(app)
    label = ms(start)

    steps = []
    for _ in range(300):
        start = time.perf_counter()
        document.undo_stack.undo()
        settle(app)
        steps.append(ms(start))
    left = len(document.form("form_1").fields)

    rows = [
        (f"canvas alone: show a {fields}-item form (first paint)", canvas_only),
        ("whole window: open and show it (first paint)", show),
        ("  ...all 312 previews built in the background", previews),
        ("add a field in the middle (drop)", add),
        ("edit a label (one cell updated)", label),
        ("undo, mean of 300 steps", statistics.mean(steps)),
        ("undo, slowest of 300 steps", max(steps)),
        ("undo, 300 steps in total", sum(steps)),
    ]
    print(f"designer benchmark ({fields} items; {left} left after 300 undos)")
    for name, value in rows:
        flag = (
            ""
            if name.startswith("  ") or "total" in name
            else (" ok" if value < TARGET_MS else " SLOW")
        )
        print(f"  {name:<50} {value:8.1f} ms{flag}")
    document.mark_saved()
    window.close()


if __name__ == "__main__":
    main()
