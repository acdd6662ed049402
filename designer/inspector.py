"""The inspector: the selected thing's attributes, generated from its spec model.

Rows come from the pydantic model of the selection (a field type's ``spec_model``,
``FormSpec`` or ``AppSpec``); each row's editor is chosen by
``designer.inspector_editors.PROPERTY_EDITORS``. Every edit is one document call
(typing merges into one undo step there); a refused edit shows its message under
the row. Views and roles are edited by their own editors, shown here too.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from designer.document import DesignerDocument, EditError
from designer.document_model import no_such
from designer.i18n import property_label, type_title
from designer.inspector_editors import PropertyContext, editor_for
from resources import icons
from runtime.spec.models import AppSpec, FormSpec
from runtime.spec.validate import can_be_unique
from widgets.base import FieldSpecBase, FieldValueError, SpecModel

#: Attributes never shown as rows (edited elsewhere or fixed).
HIDDEN = {
    "field": {"key", "type", "fields"},
    "form": {"key", "fields", "icon"},
    "app": {"id", "format", "spec_version", "version", "published", "forms", "views", "roles"},
}
#: Attributes that mean nothing for layout items (sections, notes).
VALUE_ONLY = {"required", "default", "readonly", "unique", "help"}
ERROR_STYLE = "color: #c62828;"

Target = tuple[str, ...]


class Row:
    """One attribute: its editor and the line that shows a refused edit."""

    def __init__(self, editor: QWidget, error: QLabel) -> None:
        self.editor = editor
        self.error = error


class Inspector(QScrollArea):
    """Shows the attributes of one target: ("field", form, key), ("form", form),
    ("app",), ("view", key) or ("role", key)."""

    def __init__(self, document: DesignerDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.target: Target = ("app",)
        self.current_form: str | None = None
        self.rows: dict[str, Row] = {}
        self.key_edit: QLineEdit | None = None
        self._editing: str | None = None
        self.setWidgetResizable(True)
        self.setMinimumWidth(300)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        document.selection_changed.connect(self.follow_selection)
        document.property_changed.connect(self._on_field_property)
        document.form_changed.connect(self._on_form_property)
        document.app_property_changed.connect(self._on_app_property)
        document.field_key_changed.connect(self._on_key_changed)
        document.form_key_changed.connect(self._on_form_key_changed)
        document.spec_reset.connect(self._check_target)
        for removed in (document.field_removed, document.form_removed):
            removed.connect(self._check_target)
        for removed in (document.view_removed, document.role_removed):
            removed.connect(self._check_target)
        self.show_target(self.target)

    # -- choosing what to show ---------------------------------------------------
    def set_current_form(self, form_key: str) -> None:
        self.current_form = form_key
        if not self.document.selection():
            self.show_target(("form", form_key))

    def follow_selection(self) -> None:
        paths = self.document.selection()
        if len(paths) == 1:
            self.show_target(("field", paths[0].form, paths[0].key))
        elif len(paths) > 1:
            self.rows, self.key_edit = {}, None
            self._show_page(self._message(self.tr("{n} fields selected").format(n=len(paths))))
        elif self.target[0] == "field" and self.current_form:
            self.show_target(("form", self.current_form))

    def show_target(self, target: Target) -> None:
        self.target = tuple(target)
        self.rows, self.key_edit = {}, None
        if not self._exists(self.target):
            self.target = ("form", self.current_form) if self.current_form else ("app",)
        kind = self.target[0]
        if kind in ("view", "role"):
            from designer.roles_editor import RoleEditor
            from designer.views_editor import ViewEditor

            editor = ViewEditor if kind == "view" else RoleEditor
            self._show_page(editor(self.document, self.target[1]))
            return
        self._show_page(self._build_page())

    def _exists(self, target: Target) -> bool:
        try:
            self._owner(target)
        except (EditError, TypeError):
            return False
        return True

    def _check_target(self, *_args: object) -> None:
        if not self._exists(self.target):
            self.show_target(("form", self.current_form) if self.current_form else ("app",))

    def _show_page(self, page: QWidget) -> None:
        old = self.takeWidget()
        if old is not None:
            old.deleteLater()
        self.setWidget(page)

    def _message(self, text: str) -> QWidget:
        label = QLabel(text)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return label

    # -- building the rows ---------------------------------------------------------
    def _owner(self, target: Target) -> SpecModel:
        kind, *keys = target
        spec = self.document.spec
        if kind == "app":
            return spec
        if kind == "form":
            return self.document.form(keys[0])
        if kind == "field":
            return self.document.field(keys[0], keys[1])
        item = getattr(spec, kind)(keys[0])
        if item is None:
            raise EditError(no_such(kind, keys[0]))
        return item

    def _build_page(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.addWidget(self._header())
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        column.addLayout(form)
        column.addStretch(1)
        if self.target[0] in ("field", "form") or self.target == ("app",):
            self._add_key_row(form)
        owner = self._owner(self.target)
        for name, info in type(owner).model_fields.items():
            if self._shows(owner, name):
                self._add_row(form, owner, name, info)
        return page

    def _header(self) -> QLabel:
        owner = self._owner(self.target)
        if isinstance(owner, FieldSpecBase):
            field_type = self.document.registry.of(owner)
            icon = icons.icon(field_type.icon, color="#37474f").pixmap(18, 18)
            text = f"{type_title(field_type)}"
        else:
            icon = None
            text = self.tr("Form") if isinstance(owner, FormSpec) else self.tr("App")
            if isinstance(owner, AppSpec):
                state = self.tr("published") if owner.published else self.tr("draft")
                text += f" — v{owner.version} ({state})"
        header = QLabel(f"<b>{text}</b>")
        if icon is not None:
            header.setText(f"<b>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;{text}</b>")
            badge = QLabel(header)
            badge.setPixmap(icon)
        return header

    def _shows(self, owner: SpecModel, name: str) -> bool:
        kind = self.target[0]
        if name in HIDDEN.get(kind, set()):
            return False
        if isinstance(owner, FieldSpecBase) and name in VALUE_ONLY:
            field_type = self.document.registry.of(owner)
            if name == "unique" and not can_be_unique(field_type, owner):
                return owner.unique  # shown while set, so the problem can be unticked
            return field_type.has_value and not (field_type.computed and name == "default")
        return True

    def _add_key_row(self, form: QFormLayout) -> None:
        kind = self.target[0]
        key = self.target[-1] if kind != "app" else self.document.spec.id
        edit = QLineEdit(key)
        edit.setObjectName("key")
        frozen = kind == "app" and self.document.spec.published
        if kind == "field":
            frozen = self.document.is_key_frozen(self.target[1], self.target[2])
        elif kind == "form":
            frozen = self.document.is_key_frozen(self.target[1])
        edit.setReadOnly(frozen)
        if frozen:
            edit.setToolTip(self.tr("Published: the key names stored data and can't change."))
        edit.editingFinished.connect(lambda: self._rename(edit.text().strip()))
        self.key_edit = edit
        error = self._error_label()
        form.addRow(property_label("id" if kind == "app" else "key"), _stack(edit, error))
        self.rows["key"] = Row(edit, error)

    def _add_row(self, form: QFormLayout, owner: SpecModel, name: str, info: Any) -> None:
        context = self._context(owner, name, info)
        editor = editor_for(context)
        if editor is None:
            return
        editor.setObjectName(f"property_{name}")
        error = self._error_label()
        editor.edited.connect(lambda value, name=name: self.apply(name, value))
        form.addRow(property_label(name), _stack(editor, error))
        self.rows[name] = Row(editor, error)

    def _context(self, owner: SpecModel, name: str, info: Any) -> PropertyContext:
        context = PropertyContext(self.document, self.target, name, info, getattr(owner, name))
        if name in ("visible_when", "filter"):
            context.is_expression, context.expression_result = True, "boolean"
        if isinstance(owner, FieldSpecBase):
            expressions = self.document.registry.of(owner).expressions(owner)
            if name in expressions:
                context.is_expression, context.expression_result = True, expressions[name]
            context.reference, context.reference_form = _reference(self.document, owner, name)
        return context

    def _error_label(self) -> QLabel:
        label = QLabel()
        label.setStyleSheet(ERROR_STYLE)
        label.setWordWrap(True)
        label.hide()
        return label

    # -- editing -----------------------------------------------------------------
    def apply(self, name: str, value: Any) -> None:
        """One document call for one edit; a refusal is shown under the row."""
        kind, *keys = self.target
        self._editing = name  # the row being typed in keeps its text as typed
        try:
            if kind == "field" and name == "default":
                value = self._default_value(value)
            if kind == "field":
                self.document.set_field_property(keys[0], keys[1], name, value)
            elif kind == "form":
                self.document.set_form_property(keys[0], name, value)
            elif kind == "app":
                self.document.set_app_property(name, value)
        except EditError as error:
            self._show_error(name, error.message)
        else:
            self._show_error(name, "")
        finally:
            self._editing = None

    def _default_value(self, text: Any) -> Any:
        """A default typed as text, read by the field's type (``"12"`` → 12)."""
        if not isinstance(text, str):
            return text
        spec = self._owner(self.target)
        field_type = self.document.registry.of(spec)
        try:
            return field_type.to_json(spec, field_type.parse(spec, text))
        except FieldValueError as error:
            raise EditError(error.message) from None

    def _rename(self, new_key: str) -> None:
        kind, *keys = self.target
        if new_key == (keys[-1] if keys else self.document.spec.id):
            return
        try:
            if kind == "field":
                self.document.rename_field_key(keys[0], keys[1], new_key)
            elif kind == "form":
                self.document.rename_form_key(keys[0], new_key)
            else:
                self.document.set_app_property("id", new_key)
        except EditError as error:
            self._show_error("key", error.message)

    def _show_error(self, name: str, message: str) -> None:
        row = self.rows.get(name)
        if row is not None:
            row.error.setText(message)
            row.error.setVisible(bool(message))

    def error_text(self, name: str) -> str:
        row = self.rows.get(name)
        return row.error.text() if row is not None and not row.error.isHidden() else ""

    # -- following the document ----------------------------------------------------
    def _on_field_property(self, form: str, key: str, name: str) -> None:
        if self.target[:3] != ("field", form, key):
            return
        spec = self.document.field(form, key)
        if _reference(self.document, spec, name)[0] == "form":
            self.show_target(self.target)  # the choices of the shown field depend on it
        else:
            self._refresh(self.target, name)

    def _on_form_property(self, form: str, name: str) -> None:
        self._refresh(("form", form), name)

    def _on_app_property(self, name: str) -> None:
        if name == "published":  # keys freeze: every key row turns read-only
            self.show_target(self.target)
        else:
            self._refresh(("app",), name)

    def _refresh(self, target: Target, name: str) -> None:
        row = self.rows.get(name)
        if tuple(target) == self.target and row is not None and name != self._editing:
            row.editor.set_value(getattr(self._owner(self.target), name))

    def _on_key_changed(self, form: str, old: str, new: str) -> None:
        if self.target[:3] == ("field", form, old):
            self.show_target(("field", form, new))

    def _on_form_key_changed(self, old: str, new: str) -> None:
        if self.current_form == old:
            self.current_form = new
        if len(self.target) > 1 and self.target[0] in ("form", "field") and self.target[1] == old:
            self.show_target((self.target[0], new, *self.target[2:]))


def _stack(editor: QWidget, error: QLabel) -> QWidget:
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(2)
    column.addWidget(editor)
    column.addWidget(error)
    return box


def _reference(
    document: DesignerDocument, spec: FieldSpecBase, name: str
) -> tuple[str | None, str | None]:
    """Whether attribute ``name`` names a form or a field (and of which form), as the
    field type's ``references`` says for a probe with every empty text filled in."""
    filled = {
        attribute: "probe"
        for attribute, info in type(spec).model_fields.items()
        if info.annotation is str and not getattr(spec, attribute)
    }
    probe = spec.model_copy(update=filled)
    for reference in document.registry.of(spec).references(probe):
        if reference.attribute == name:
            form = reference.target if reference.kind == "form" else reference.target[0]
            return reference.kind, None if form == "probe" else form
    return None, None
