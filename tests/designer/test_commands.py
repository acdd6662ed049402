"""Every edit of the document is one undo step whose undo restores the spec exactly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from designer.document import DesignerDocument

SAMPLE = Path(__file__).resolve().parents[2] / "sample_apps" / "equipment_repair"

Edit = Callable[[DesignerDocument], object]

EDITS: dict[str, Edit] = {
    # fields
    "add field": lambda d: d.add_field("request", "text", "Room", index=0),
    "add field with attributes": lambda d: d.add_field(
        "device", "number", "Weight", decimals=1, unit="kg", width="1/2"
    ),
    "add column to subtable": lambda d: d.add_field("request", "text", "Note", parent="parts"),
    "add section": lambda d: d.add_section("request", "Acceptance", index=15),
    "remove field": lambda d: d.remove_field("device", "model"),
    "remove field used elsewhere": lambda d: d.remove_field("request", "status"),
    "remove subtable": lambda d: d.remove_field("request", "parts"),
    "remove subtable column": lambda d: d.remove_field("request", "unit_price"),
    "remove section": lambda d: d.remove_field("request", "repair"),
    "remove field shown by a lookup": lambda d: d.remove_field("device", "name"),
    "move field down": lambda d: d.move_field("request", "fault", 12),
    "move field to another section": lambda d: d.move_field("request", "engineer", 2),
    "move field into subtable": lambda d: d.move_field("request", "labour", 1, parent="parts"),
    "move column out of subtable": lambda d: d.move_field("request", "qty", 0),
    "duplicate field": lambda d: d.duplicate_field("device", "name"),
    "duplicate subtable": lambda d: d.duplicate_field("request", "parts"),
    "set label": lambda d: d.set_field_property("request", "fault", "label", "Fault"),
    "set column attribute": lambda d: d.set_field_property("request", "qty", "max", 99),
    "set options": lambda d: d.set_field_property(
        "request", "urgency", "options", [{"value": "normal", "label": "Normal"}]
    ),
    "set visible_when": lambda d: d.set_field_property(
        "request", "photos", "visible_when", 'urgency = "critical"'
    ),
    "rename field key": lambda d: d.rename_field_key("request", "status", "state"),
    "rename column key": lambda d: d.rename_field_key("request", "unit_price", "price"),
    "rename subtable key": lambda d: d.rename_field_key("request", "parts", "items"),
    "rename lookup target key": lambda d: d.rename_field_key("device", "name", "device_name"),
    # options
    "add option": lambda d: d.add_option("request", "urgency", "Low"),
    "remove option": lambda d: d.remove_option("request", "status", "scrapped"),
    "remove default option": lambda d: d.remove_option("request", "urgency", "normal"),
    "move option": lambda d: d.move_option("request", "status", "done", 0),
    # forms
    "add form": lambda d: d.add_form("Spare parts", index=1),
    "remove form": lambda d: d.remove_form("device"),
    "rename form": lambda d: d.rename_form("device", "Devices"),
    "set form icon": lambda d: d.set_form_property("device", "icon", "mdi6.monitor"),
    "rename form key": lambda d: d.rename_form_key("device", "equipment"),
    # views
    "add view": lambda d: d.add_view("device", "In service", columns=["name"], filter="in_service"),
    "remove view": lambda d: d.remove_view("open_requests"),
    "set view columns": lambda d: d.set_view_property("all_devices", "columns", ["name"]),
    "set view sort": lambda d: d.set_view_property(
        "all_devices", "sort", [{"field": "name", "desc": True}]
    ),
    "set view filter": lambda d: d.set_view_property("all_devices", "filter", "in_service"),
    # roles
    "add role": lambda d: d.add_role("Auditor"),
    "remove role": lambda d: d.remove_role("engineer"),
    "set role title": lambda d: d.set_role_property("engineer", "title", "Engineer"),
    "set grant actions": lambda d: d.set_grant("ward_clerk", "device", actions=["read", "export"]),
    "set grant scope": lambda d: d.set_grant("engineer", "request", scope="department"),
    "add grant": lambda d: d.set_grant("ward_clerk", "device", scope="all"),
    "set field mode": lambda d: d.set_field_mode("engineer", "request", "fault", "readonly"),
    "clear field mode": lambda d: d.set_field_mode("ward_clerk", "request", "labour", None),
    "remove grant": lambda d: d.remove_grant("ward_clerk", "device"),
    # app
    "set app title": lambda d: d.set_app_property("title", "Repairs"),
    "set app description": lambda d: d.set_app_property("description", ""),
}


@pytest.fixture
def repair(qapp) -> DesignerDocument:
    return DesignerDocument.open(SAMPLE)


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_edit_is_one_step_and_round_trips(repair: DesignerDocument, edit: Edit):
    before = repair.spec.to_json_dict()
    edit(repair)
    after = repair.spec.to_json_dict()
    assert after != before
    assert repair.undo_stack.count() == 1
    repair.undo_stack.undo()
    assert repair.spec.to_json_dict() == before
    repair.undo_stack.redo()
    assert repair.spec.to_json_dict() == after
    repair.undo_stack.undo()
    assert repair.spec.to_json_dict() == before
    assert not repair.is_dirty()


KEEP_VALID = [
    "add column to subtable",
    "remove field used elsewhere",
    "move field to another section",
    "duplicate subtable",
    "rename field key",
    "rename column key",
    "rename subtable key",
    "rename lookup target key",
    "rename form key",
    "remove default option",
    "remove role",
    "set field mode",
]


@pytest.mark.parametrize("name", KEEP_VALID)
def test_cascading_edits_leave_a_valid_app(repair: DesignerDocument, name: str):
    EDITS[name](repair)
    assert repair.problems() == []


def test_a_cleared_formula_is_reported_as_a_problem(repair: DesignerDocument):
    repair.remove_field("request", "parts")
    assert [str(p) for p in repair.problems()] == [
        "forms[1].fields[11].expression: enter the formula"
    ]
    assert repair.spec.form("request").field("total_cost").expression == ""


def test_remove_form_clears_lookups_and_removes_views_and_grants(repair: DesignerDocument):
    repair.remove_form("device")
    spec = repair.spec
    assert [view.key for view in spec.views] == ["open_requests"]
    assert all("device" not in role.grants for role in spec.roles)
    lookup = spec.form("request").field("device")
    assert (lookup.form, lookup.display_field) == ("", "")
    assert "cleaned" in repair.undo_stack.undoText()


def test_rename_keys_update_every_reference(repair: DesignerDocument):
    repair.rename_field_key("request", "unit_price", "price")
    repair.rename_field_key("request", "parts", "items")
    repair.rename_field_key("request", "labour", "labor")
    request = repair.spec.form("request")
    assert request.field("items").fields[3].expression == "qty * price"
    assert request.field("total_cost").expression == "SUM(items.line_total) + labor"
    clerk = repair.spec.role("ward_clerk").grants["request"].fields
    assert clerk["labor"] == clerk["items"] == clerk["engineer"] == "readonly"
    assert "labour" not in clerk and "parts" not in clerk
    repair.rename_field_key("device", "name", "title")
    assert request.field("device").display_field == "title"
    repair.rename_field_key("request", "status", "state")
    assert repair.spec.view("open_requests").filter == 'state <> "done"'
    assert request.field("ward_signature").visible_when == 'state = "done"'
    assert repair.problems() == []


def test_duplicate_subtable_renames_columns_and_row_formulas(repair: DesignerDocument):
    key = repair.duplicate_field("request", "parts")
    copy = repair.spec.form("request").field(key)
    assert key == "parts_copy"
    assert [child.key for child in copy.fields][-1] == "line_total_copy"
    assert copy.fields[3].expression == "qty_copy * unit_price_copy"
    assert repair.problems() == []
