"""Browse a file dialog as a person would (for the database-lock tests).

Also a child process (``python -m tests.ui.file_dialog_tour URL``) that opens a
workspace, browses the attachment editor's Add… dialog in the database's folder,
then saves a record when told, and waits to be killed.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QFileSystemModel

SETTLE_SECONDS = 0.3


def browse_and_cancel(folder: Path, open_dialog: Callable[[], object], timeout=15.0) -> None:
    """Call ``open_dialog`` (which runs a modal file dialog); in the dialog go to
    ``folder`` as a person would, wait until the folder is read and the icons and
    types of its entries were asked for (what the view paints), then Cancel."""
    deadline = time.monotonic() + timeout
    state: dict = {"dialog": None, "loaded": False, "listed_at": None, "error": None}

    def loaded(path: str) -> None:
        state["loaded"] = state["loaded"] or Path(path) == folder

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if time.monotonic() > deadline:
            state["error"] = f"no file dialog listed {folder} in {timeout} s"
            if dialog is not None:
                dialog.reject()
            return
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(20, poll)
            return
        model = dialog.findChild(QFileSystemModel)
        if state["dialog"] is None:
            state["dialog"] = dialog
            model.directoryLoaded.connect(loaded)
            dialog.setDirectory(str(folder))
        if state["loaded"] and state["listed_at"] is None:
            root = model.index(str(folder))
            _ask_icons_and_types([model.index(row, 0, root) for row in range(model.rowCount(root))])
            state["listed_at"] = time.monotonic()
        listed = state["listed_at"]
        if listed is not None and time.monotonic() - listed > SETTLE_SECONDS:
            dialog.reject()
            return
        QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    open_dialog()
    assert state["error"] is None, state["error"]
    assert state["dialog"] is not None, "no file dialog was shown"


def _ask_icons_and_types(rows: list[QModelIndex]) -> None:
    for index in rows:
        index.data(Qt.ItemDataRole.DecorationRole)
        index.siblingAtColumn(2).data()  # the "Type" column


def _child(url: str) -> None:  # pragma: no cover - runs in a child process
    """Browse the Add… dialog in the database's folder, then save when told."""
    from runtime.api import open_workspace
    from widgets.editors.attachment import AttachmentEditor

    app = QApplication([])
    handle = open_workspace(url)
    database = Path(handle.workspace.engine.url.database)
    repair = handle.app("equipment_repair")
    request = next(form for form in repair.spec.forms if form.key == "request")
    spec = next(field for field in request.fields if field.key == "report")
    editor = AttachmentEditor(spec)
    editor.show()
    browse_and_cancel(database.parent, editor.add_button.click)
    print("browsed", flush=True)
    sys.stdin.readline()
    department = int(sys.argv[2])
    record = repair.create(
        "device", {"asset_no": "EQ-0001", "name": "泵", "owner_dept": department}
    )
    print(f"saved {record.id}", flush=True)
    sys.stdin.readline()  # killed here
    app.quit()


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _child(sys.argv[1])
