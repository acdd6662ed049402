"""Import templates: per form an .xlsx to fill in and import.

The data sheet has the importable fields' labels as header and one sample row
(``FieldType.sample_values`` through ``to_excel``); single-choice fields get a
data-validation list of option labels (long lists live on a hidden sheet); each
subtable has its own sheet linked by ``Record ID``; a help sheet describes every
column (``FieldType.describe``, required, type).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from resources.messages import tr
from runtime.services.excel.cells import Cells, open_workbook
from runtime.services.excel.common import (
    RECORD_ID_LABEL,
    ExcelError,
    column_letter,
    removing_on_failure,
    sheet_title,
    sibling_temp,
    subtable_children,
    text_width,
    value_fields,
)
from runtime.spec.models import AppSpec
from widgets.base import FieldSpecBase, FieldType
from widgets.protected_files import refuse_database_file
from widgets.registry import FieldTypeRegistry, default_registry

VALIDATION_ROWS = 10_000
INLINE_LIST_LIMIT = 255  # Excel's limit for a comma-separated validation list


def importable_fields(
    spec: AppSpec, form: str, registry: FieldTypeRegistry, visible_fields: Sequence[str] | None
) -> list[tuple[FieldSpecBase, FieldType]]:
    form_spec = next((f for f in spec.forms if f.key == form), None)
    if form_spec is None:
        raise ExcelError(tr("the app has no form '{form}'").format(form=form))
    allowed = None if visible_fields is None else set(visible_fields)
    return [
        (field, field_type)
        for field, field_type in value_fields(form_spec.fields, registry)
        if (allowed is None or field.key in allowed)
        and not field_type.computed
        and (field_type.excel_roundtrip or subtable_children(field_type, field, registry))
    ]


def write_template(
    spec: AppSpec,
    form: str,
    path: str | Path,
    visible_fields: Sequence[str] | None = None,
    registry: FieldTypeRegistry = default_registry,
) -> Path:
    """Write the import template of ``form`` to ``path`` (.xlsx)."""
    path = Path(path)
    refuse_database_file(path, ExcelError, writing=True)
    fields = importable_fields(spec, form, registry, visible_fields)
    form_spec = next(f for f in spec.forms if f.key == form)
    temp = sibling_temp(path)
    with removing_on_failure(temp):
        book = open_workbook(str(temp))
        cells = Cells(book)
        header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        required = book.add_format(
            {"bold": True, "bg_color": "#FCE4D6", "font_color": "#C00000", "border": 1}
        )
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        record_id = tr(RECORD_ID_LABEL)  # a header users read; import knows it in any language
        choose = tr("please choose one of the options")
        names: list[str] = []
        data = book.add_worksheet(sheet_title(form_spec.title, names))
        names.append(data.name)
        lists = None
        list_column = 0
        subtables = [(f, t) for f, t in fields if subtable_children(t, f, registry)]
        plain = [(f, t) for f, t in fields if not subtable_children(t, f, registry)]
        columns: list[tuple[FieldSpecBase, FieldType]] = []
        if subtables:
            data.write_string(0, 0, record_id, header)
            data.write_number(1, 0, 1)
        offset = 1 if subtables else 0
        for index, (field, field_type) in enumerate(plain):
            col = index + offset
            data.write_string(0, col, field.label, required if field.required else header)
            _write_sample(cells, data, 1, col, field, field_type)
            data.set_column(col, col, max(12, min(40, text_width(field.label) + 4)))
            labels = field_type.single_choice_labels(field)
            if labels:
                if len(",".join(labels)) <= INLINE_LIST_LIMIT and not any("," in x for x in labels):
                    source: list[str] | str = labels
                else:
                    if lists is None:
                        lists = book.add_worksheet("lists")
                        lists.hide()
                    for row, label in enumerate(labels):
                        lists.write_string(row, list_column, label)
                    letter = column_letter(list_column)
                    source = f"=lists!${letter}$1:${letter}${len(labels)}"
                    list_column += 1
                data.data_validation(
                    1,
                    col,
                    VALIDATION_ROWS,
                    col,
                    {
                        "validate": "list",
                        "source": source,
                        "error_title": field.label,
                        "error_message": choose,
                    },
                )
            columns.append((field, field_type))
        data.freeze_panes(1, 0)
        for field, field_type in subtables:
            sheet = book.add_worksheet(sheet_title(field.label, names))
            names.append(sheet.name)
            sheet.write_string(0, 0, record_id, header)
            samples = field_type.sample_values(field)
            rows = samples[0] if samples else [{}]
            children = subtable_children(field_type, field, registry)
            editable = [(c, t) for c, t in children if not t.computed]
            for col, (child, _child_type) in enumerate(editable, start=1):
                sheet.write_string(0, col, child.label, required if child.required else header)
                sheet.set_column(col, col, max(12, text_width(child.label) + 4))
            for line, row in enumerate(rows, start=1):
                sheet.write_number(line, 0, 1)
                for col, (child, child_type) in enumerate(editable, start=1):
                    value = row.get(child.key)
                    if value is not None:
                        cells.write(
                            sheet,
                            line,
                            col,
                            child_type.to_excel(child, value),
                            child_type.excel_number_format(child),
                        )
            sheet.freeze_panes(1, 0)
        help_sheet = book.add_worksheet(sheet_title(tr("Help"), names))
        titles = (tr("Column"), tr("Key"), tr("Required"), tr("Type"), tr("What to enter"))
        for col, title in enumerate(titles):
            help_sheet.write_string(0, col, title, header)
        line = 1
        yes = tr("yes")
        entries = [(field, field_type, "") for field, field_type in columns]
        for field, field_type in subtables:
            entries.append((field, field_type, ""))
            for child, child_type in subtable_children(field_type, field, registry):
                if not child_type.computed:
                    entries.append((child, child_type, f"{field.label} › "))
        for field, field_type, prefix in entries:
            help_sheet.write_string(line, 0, prefix + field.label)
            help_sheet.write_string(line, 1, field.key)
            help_sheet.write_string(line, 2, yes if field.required else "")
            help_sheet.write_string(line, 3, field_type.title)
            text = field_type.describe(field)
            if field.help:
                text += f" — {field.help}"
            help_sheet.write_string(line, 4, text, wrap)
            line += 1
        notes = [
            tr("Row 2 of the data sheet is an example: replace or delete it."),
            tr("Headers may be the field labels or keys; extra columns are ignored."),
            tr("Users, departments and linked records are written by name (or #id)."),
        ]
        if subtables:
            text = tr(
                "Subtable rows go on their own sheet; '{column}' links them to "
                "the row of the data sheet with the same number."
            )
            notes.append(text.format(column=record_id))
        for note in notes:
            line += 1
            help_sheet.write_string(line, 0, note)
        help_sheet.set_column(0, 0, 24)
        help_sheet.set_column(1, 3, 14)
        help_sheet.set_column(4, 4, 80)
        book.close()
        os.replace(temp, path)
    return path


def _write_sample(cells: Cells, sheet, row, col, field, field_type) -> None:
    samples = field_type.sample_values(field)
    if not samples:
        return
    value = field_type.to_excel(field, samples[0])
    cells.write(sheet, row, col, value, field_type.excel_number_format(field))
