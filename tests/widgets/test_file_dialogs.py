"""The app's file dialogs: Qt's own, type by name only, the database's files hidden."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QFileInfo, Qt
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox

from widgets.editors import file_dialogs
from widgets.protected_files import is_database_file, protect_database


def database_in(folder: Path) -> Path:
    path = folder / "workspace.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    Path(f"{path}-wal").touch()
    Path(f"{path}-shm").touch()
    protect_database(path)
    return path


def test_the_database_files_are_hidden_and_refused_when_typed(qtbot, tmp_path, monkeypatch):
    database = database_in(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    dialog = file_dialogs.FileDialog(None, "Open", str(tmp_path), "")
    qtbot.addWidget(dialog)
    assert dialog.testOption(QFileDialog.Option.DontUseNativeDialog)
    dialog.show()
    proxy = dialog.proxyModel()
    source = proxy.sourceModel()
    qtbot.waitUntil(lambda: source.rowCount(source.index(str(tmp_path))) == 4)
    root = proxy.mapFromSource(source.index(str(tmp_path)))
    shown = {proxy.index(row, 0, root).data() for row in range(proxy.rowCount(root))}
    assert shown == {"notes.txt"}
    name_edit = dialog.findChild(QLineEdit, "fileNameEdit")
    qtbot.keyClicks(name_edit, f"{database.name}-wal")
    qtbot.keyClick(name_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and warnings and "open database" in warnings[0]
    dialog.reject()


def test_types_come_from_names_only(tmp_path):
    provider = file_dialogs.NameOnlyIconProvider()
    assert provider.type(QFileInfo(str(tmp_path))) == "Folder"
    assert "PDF" in provider.type(QFileInfo(str(tmp_path / "missing.pdf")))
    assert provider.type(QFileInfo(str(tmp_path / "workspace.sqlite-wal"))) == "File"
    assert not provider.icon(QFileInfo(str(tmp_path / "missing.pdf"))).isNull()


def test_links_and_siblings_of_a_database_are_its_files(tmp_path):
    database = database_in(tmp_path)
    link = tmp_path / "report.pdf"
    link.symlink_to(database)
    hard = tmp_path / "hard.xlsx"
    hard.hardlink_to(Path(f"{database}-wal"))
    for path in (database, f"{database}-wal", f"{database}-journal", link, hard):
        assert is_database_file(path), path
    assert not is_database_file(tmp_path / "workspace.sqlite.bak")


def test_no_other_module_makes_its_own_file_dialog():
    """Every dialog goes through widgets.editors.file_dialogs (a QFileDialog of its
    own would guess file types from their content again)."""
    root = Path(__file__).resolve().parents[2]
    own = root / "widgets" / "editors" / "file_dialogs.py"
    users = [
        str(path.relative_to(root))
        for folder in ("widgets", "runtime", "designer")
        for path in (root / folder).rglob("*.py")
        if path != own and "QFileDialog" in path.read_text(encoding="utf-8")
    ]
    assert users == []
