"""Screenshots of the designer in English and Chinese for the docs.

Run: ``.venv/bin/python tools/designer_screenshots.py`` (offscreen; needs
fonts-noto-cjk for the Chinese one). Writes docs/screenshots/designer-en.png and
designer-zh.png: the equipment repair request form with a field selected.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from designer.document import DesignerDocument  # noqa: E402
from designer.files import RecoveryStore  # noqa: E402
from designer.main_window import DesignerWindow  # noqa: E402
from resources.i18n import install_language  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def shoot(language: str, path: Path, with_problems: bool = False) -> None:
    app = QApplication.instance() or QApplication([])
    install_language(language)
    folder = Path(tempfile.mkdtemp(prefix="fw-shots-"))
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    document = DesignerDocument.open(ROOT / "sample_apps" / "equipment_repair")
    window = DesignerWindow(document=document, recovery=RecoveryStore(folder), settings=settings)
    window.resize(1500, 940)
    window.show()
    window.size_docks()
    if with_problems:  # a formula of the wrong type and one that does not parse
        document.set_field_property("request", "urgency", "visible_when", 'fault & "x"')
        document.set_field_property("request", "fault", "visible_when", "device = ")
    window.canvas.show_form("request")
    window.canvas.build_all()
    window.canvas.select(["urgency"])
    window.outline.expandAll()
    for _ in range(5):
        app.processEvents()
    window.outline.scrollToItem(window.outline.items[("field", "request", "urgency")])
    app.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(path))
    document.mark_saved()
    window.close()
    print(f"wrote {path}")


def main() -> None:
    shoot("en", OUT / "designer-en.png")
    shoot("zh_CN", OUT / "designer-zh.png")
    shoot("zh_CN", OUT / "designer-problems-zh.png", with_problems=True)


if __name__ == "__main__":
    main()
