"""Shared set-up of the Excel tests: a form with one field per registered type."""

from __future__ import annotations

from typing import Any

from runtime.services.actor import SYSTEM
from runtime.services.excel.export import export_records
from runtime.services.excel.importer import import_records
from runtime.services.progress import run_steps
from runtime.services.records.service import RecordService
from runtime.spec.models import AppSpec
from runtime.store.workspace import Workspace
from tests.store.conftest import add_department, add_user, make_spec
from widgets.registry import default_registry

DEVICES = 17  # lookup samples point at device 1 and 17
DEPARTMENTS = 12  # department samples use ids up to 12


def every_type_fields() -> list[dict[str, Any]]:
    """One field per registered type with a value (key = type name)."""
    fields = []
    for field_type in default_registry:
        spec = field_type.sample_spec(f"f_{field_type.name}", f"{field_type.title} 列")
        data = spec.model_dump(mode="json", exclude_defaults=False)
        if field_type.name == "department":
            # A multiple (JSON) people field can't be installed on PostgreSQL yet: the
            # store puts a btree index on the JSON column (reported to the lead).
            data["multiple"] = False
        if field_type.name == "formula":
            data["expression"] = "ROUND(f_number * 2, 2)"
        if field_type.has_value:
            fields.append(data)
    return fields


def every_type_spec():
    device = {
        "key": "device",
        "title": "Devices",
        "fields": [{"key": "name", "type": "text", "label": "Name", "unique": True}],
    }
    form = {"key": "every", "title": "Every type", "fields": every_type_fields()}
    return make_spec("excel_all", [device, form])


def seeded_service(url: str, spec: AppSpec | None = None) -> RecordService:
    """A workspace with the every-type app (or ``spec``, a variant of it), users 1-2,
    departments 1-12, devices 1-17."""
    workspace = Workspace.open(url)
    spec = spec or every_type_spec()
    workspace.install(spec)
    service = RecordService(workspace, spec)
    for number in range(1, DEPARTMENTS + 1):
        add_department(workspace, f"科室 {number}", f"d{number}")
    add_user(workspace, "zhang.wei", "张伟", 1)
    add_user(workspace, "li.na", "李娜", 2)
    for number in range(1, DEVICES + 1):
        service.create("device", {"name": f"泵 {number}"})
    return service


def sample_record(index: int) -> dict[str, Any]:
    values = {}
    form = next(f for f in every_type_spec().forms if f.key == "every")
    for spec in form.fields:
        field_type = default_registry.of(spec)
        samples = field_type.sample_values(spec)
        if samples and not field_type.computed:
            values[spec.key] = samples[index % len(samples)]
    return values


def all_fields(service: RecordService, form: str) -> list[str]:
    tables = service.repository.form_tables(form)
    return [
        key
        for key in (s.key for s in tables.form.fields)
        if key in tables.columns or key in tables.children
    ]


def export(service, form, path, **options):
    return run_steps(
        export_records(
            service, form, path, actor=SYSTEM, visible_fields=all_fields(service, form), **options
        )
    )


def do_import(service, form, path, **options):
    return run_steps(
        import_records(
            service, form, path, actor=SYSTEM, visible_fields=all_fields(service, form), **options
        )
    )


def simple_spec():
    """A small form for import tests: text, number, date, select, checkbox, unique code."""
    return make_spec(
        "ward",
        [
            {
                "key": "patient",
                "title": "Patients",
                "fields": [
                    {
                        "key": "code",
                        "type": "text",
                        "label": "Code",
                        "unique": True,
                        "required": True,
                    },
                    {"key": "name", "type": "text", "label": "Name", "required": True},
                    {
                        "key": "age",
                        "type": "number",
                        "label": "Age",
                        "decimals": 0,
                        "min": 0,
                        "max": 150,
                    },
                    {"key": "admitted", "type": "date", "label": "Admitted"},
                    {
                        "key": "ward",
                        "type": "select",
                        "label": "Ward",
                        "options": [
                            {"value": "icu", "label": "ICU"},
                            {"value": "er", "label": "急诊科"},
                        ],
                    },
                    {"key": "urgent", "type": "checkbox", "label": "Urgent"},
                    {"key": "notes", "type": "textarea", "label": "Notes"},
                ],
            }
        ],
    )


def simple_service(url: str) -> RecordService:
    workspace = Workspace.open(url)
    spec = simple_spec()
    workspace.install(spec)
    return RecordService(workspace, spec)
