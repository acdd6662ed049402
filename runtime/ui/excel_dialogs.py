"""The main window's Excel actions: export, import and the import template.

:class:`ExcelActions` connects the main window's ``export_requested``,
``import_requested`` and ``template_requested`` signals to the dialogs, and
enables the actions for the form on screen only when the policy allows them.
Every modal dialog goes through ``run_dialog`` so tests can answer it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from runtime.services.excel.template import write_template
from runtime.services.query import RecordQuery
from runtime.ui.excel_export_dialog import ExportDialog, documents_folder, safe_file_name
from runtime.ui.excel_import_dialog import ImportDialog
from runtime.ui.i18n import tr
from runtime.ui.long_task import USER_ERRORS, RunDialog, error_text
from runtime.ui.main_window import MainWindow
from runtime.ui.record_list import RecordListPage
from widgets.editors import file_dialogs

__all__ = ["ExcelActions", "ExportDialog", "ImportDialog"]
STATUS_MS = 8000


class ExcelActions(QObject):
    """Export, import and template for the list on screen in one main window."""

    def __init__(self, window: MainWindow, run_dialog: RunDialog) -> None:
        super().__init__(window)
        self.window = window
        self.run_dialog = run_dialog
        window.export_requested.connect(self.export)
        window.import_requested.connect(self.import_)
        window.template_requested.connect(self.template)
        window.stack.currentChanged.connect(self.update_actions)
        self.update_actions()

    def _page(self) -> RecordListPage | None:
        page = self.window.current_page()
        return page if isinstance(page, RecordListPage) else None

    def update_actions(self) -> None:
        """Enable each action only when the policy allows it for the form on screen."""
        page, actions = self._page(), self.window.actions_
        allowed = self.window.services.allowed
        may_export = page is not None and allowed(page.form.key, "export")
        may_import = page is not None and allowed(page.form.key, "import")
        actions.export.setEnabled(may_export)
        actions.import_.setEnabled(may_import)
        actions.template.setEnabled(may_import)

    def export(self, form: str, query: RecordQuery) -> ExportDialog | None:
        """The export dialog for the current list (its query and visible columns)."""
        page = self._page()
        if page is None or page.form.key != form:
            return None
        dialog = ExportDialog(
            self.window.services,
            page.form,
            query,
            page.model.column_keys(),
            page.model.count,
            self.run_dialog,
            self.window,
        )
        self.run_dialog(dialog)
        dialog.deleteLater()
        return dialog

    def import_(self, form: str) -> ImportDialog | None:
        """The import wizard; the list re-reads itself after rows were written."""
        page = self._page()
        if page is None or page.form.key != form:
            return None
        dialog = ImportDialog(self.window.services, page.form, self.run_dialog, self.window)
        dialog.imported.connect(lambda _result: page.refresh())
        dialog.undone.connect(lambda _result: page.refresh())
        self.run_dialog(dialog)
        dialog.deleteLater()
        return dialog

    def template(self, form: str) -> Path | None:
        """Save the form's import template (the fields the user may import into)."""
        services = self.window.services
        title = services.form(form).title
        start = documents_folder() / f"{safe_file_name(title)} {tr('template')}.xlsx"
        chosen, _ = file_dialogs.save_file(
            self.window, tr("Save import template"), str(start), tr("Excel workbook (*.xlsx)")
        )
        if chosen is None:
            return None
        path = str(chosen)
        target = Path(path) if path.lower().endswith(".xlsx") else Path(f"{path}.xlsx")
        writable = sorted(services.writable_fields(form, "import"))
        try:
            written = write_template(services.spec, form, target, writable, services.registry)
        except USER_ERRORS as error:
            box = QMessageBox(QMessageBox.Icon.Warning, tr("Template"), error_text(error))
            self.run_dialog(box)
            return None
        message = tr("Template saved to {path}").format(path=written)
        self.window.statusBar().showMessage(message, STATUS_MS)
        return written
