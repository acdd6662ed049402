"""Scenario: a clerk builds the equipment repair app from a blank document, using only
the document's edit methods, saves it, and the runtime checks and installs it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from designer.document import DesignerDocument
from runtime import cli
from runtime.api import open_workspace
from runtime.spec.load import load_app
from runtime.store.schema import departments_table

SAMPLE = Path(__file__).resolve().parents[2] / "sample_apps" / "equipment_repair"
REQUEST_TITLE = "报修单 Repair request"


def build_app(doc: DesignerDocument) -> None:
    doc.set_app_property("id", "equipment_repair")
    doc.set_app_property("title", "设备报修 Equipment repair")
    doc.set_app_property(
        "description",
        "Wards report broken equipment; the equipment department repairs it "
        "and records parts and cost.",
    )
    build_device_form(doc)
    build_request_form(doc)
    build_views(doc)
    build_roles(doc)


def build_device_form(doc: DesignerDocument) -> None:
    doc.rename_form_key("form_1", "device")
    doc.rename_form("device", "设备台账 Device register")
    doc.set_form_property("device", "icon", "mdi6.stethoscope")
    add = doc.add_field
    add("device", "text", "资产编号", key="asset_no", required=True, unique=True, max_length=30)
    doc.set_field_property("device", "asset_no", "pattern", "[A-Z]{2}-[0-9]{4,8}")
    doc.set_field_property("device", "asset_no", "placeholder", "EQ-000123")
    doc.set_field_property("device", "asset_no", "width", "1/3")
    # A Chinese label gets field_N; the clerk renames the key before publishing.
    key = add("device", "text", "设备名称", required=True, max_length=100, width="1/3")
    assert key == "field_1"
    doc.rename_field_key("device", key, "name")
    add("device", "text", "型号", key="model", max_length=60, width="1/3")
    add("device", "department", "使用科室", key="owner_dept", required=True, width="1/2")
    add("device", "date", "购置日期", key="purchased", width="1/4")
    add("device", "number", "原值", key="price", decimals=2, min=0, unit="元", width="1/4")
    add("device", "checkbox", "在用", key="in_service", default=True)


def build_request_form(doc: DesignerDocument) -> None:
    assert doc.add_form(REQUEST_TITLE) == "repair_request"
    doc.rename_form_key("repair_request", "request")
    doc.set_form_property("request", "icon", "mdi6.wrench")
    add = doc.add_field
    add("request", "serial", "报修单号", key="request_no", pattern="BX-{YYYY}{MM}-{seq:4}")
    doc.set_field_property("request", "request_no", "width", "1/3")
    add("request", "lookup", "设备", key="device", required=True, width="1/3", form="device")
    doc.set_field_property("request", "device", "display_field", "name")
    add("request", "user", "报修人", key="reporter", default_current=True, width="1/3")
    add("request", "datetime", "报修时间", key="reported_on", required=True, width="1/3")
    add_urgency(doc)
    add("request", "textarea", "故障描述", key="fault", required=True, max_length=2000)
    doc.set_field_property("request", "fault", "placeholder", "发生了什么？何时开始？")
    add("request", "image", "故障照片", key="photos", max_files=4, max_size_mb=10)
    assert doc.add_section("request", "维修记录 Repair") == "repair"
    add("request", "user", "维修工程师", key="engineer", width="1/2")
    add("request", "date", "完成日期", key="finished_on", width="1/2")
    add_parts(doc)
    add("request", "number", "人工费", key="labour", decimals=2, min=0, unit="元", width="1/2")
    add("request", "formula", "总费用", key="total_cost", width="1/2")
    doc.set_field_property("request", "total_cost", "expression", "SUM(parts.line_total) + labour")
    add("request", "attachment", "维修报告", key="report", max_files=3, max_size_mb=20)
    doc.set_field_property("request", "report", "extensions", ["pdf", "docx", "jpg", "png"])
    add_status(doc)
    add("request", "signature", "科室验收签名", key="ward_signature")
    doc.set_field_property("request", "ward_signature", "visible_when", 'status = "done"')


def add_urgency(doc: DesignerDocument) -> None:
    options = [{"value": "normal", "label": "一般"}]
    doc.add_field("request", "select", "紧急程度", key="urgency", required=True, options=options)
    doc.add_option("request", "urgency", "紧急", value="urgent")
    doc.add_option("request", "urgency", "危急（影响抢救）", value="critical")
    for name, value in {"display": "radio", "default": "normal", "width": "2/3"}.items():
        doc.set_field_property("request", "urgency", name, value)


def add_parts(doc: DesignerDocument) -> None:
    doc.add_field("request", "subtable", "更换配件", key="parts", max_rows=50)
    add = doc.add_field
    add("request", "text", "配件", key="part", parent="parts", required=True, max_length=100)
    doc.remove_field("request", "item")  # the column a new subtable starts with
    add("request", "number", "数量", key="qty", parent="parts", decimals=0, min=1, default=1)
    add("request", "number", "单价", key="unit_price", parent="parts", decimals=2, min=0)
    doc.set_field_property("request", "unit_price", "unit", "元")
    add("request", "formula", "小计", key="line_total", parent="parts", decimals=2)
    doc.set_field_property("request", "line_total", "expression", "qty * unit_price")


def add_status(doc: DesignerDocument) -> None:
    doc.add_field("request", "select", "状态", key="status", required=True)
    for value, label in [("open", "待处理"), ("in_progress", "维修中"), ("done", "已完成")]:
        doc.add_option("request", "status", label, value=value)
    doc.add_option("request", "status", "报废", value="scrapped")
    doc.remove_option("request", "status", "option_1")
    doc.remove_option("request", "status", "option_2")
    doc.set_field_property("request", "status", "default", "open")


def build_views(doc: DesignerDocument) -> None:
    doc.add_view(
        "request",
        "待处理报修 Open requests",
        key="open_requests",
        columns=["request_no", "device", "urgency", "reported_on", "status"],
        filter='status <> "done"',
    )
    doc.set_view_property("open_requests", "sort", [{"field": "reported_on", "desc": True}])
    key = doc.add_view("device", "全部设备 All devices", columns=["asset_no", "name"])
    assert key == "all_devices"
    doc.set_view_property(
        "all_devices", "columns", ["asset_no", "name", "owner_dept", "in_service"]
    )
    doc.set_view_property("all_devices", "sort", [{"field": "asset_no"}])


def build_roles(doc: DesignerDocument) -> None:
    assert doc.add_role("科室报修员 Ward clerk") == "ward_clerk"
    # Granting a form lists its fields as "edit"; the clerk only reads the repair part.
    doc.set_grant("ward_clerk", "request", actions=["create", "read", "update"])
    doc.set_grant("ward_clerk", "request", scope="department")
    repair_part = (
        "request_no",
        "engineer",
        "finished_on",
        "parts",
        "labour",
        "total_cost",
        "report",
        "status",
    )
    for field in repair_part:
        doc.set_field_mode("ward_clerk", "request", field, "readonly")
    doc.set_grant("ward_clerk", "device", actions=["read"], scope="department")
    doc.add_role("维修工程师 Engineer", key="engineer")
    doc.set_grant("engineer", "request", actions=["read", "update", "export"], scope="all")
    for field in ("request_no", "total_cost"):
        doc.set_field_mode("engineer", "request", field, "readonly")
    every = ["create", "read", "update", "export", "import"]
    doc.set_grant("engineer", "device", actions=every, scope="all")


@pytest.fixture
def built(qapp) -> DesignerDocument:
    doc = DesignerDocument.new()
    build_app(doc)
    return doc


def test_the_built_app_is_the_sample(built: DesignerDocument):
    assert built.problems() == []
    assert built.spec.to_json_dict() == load_app(SAMPLE).to_json_dict()


def test_every_step_undoes_back_to_the_blank_app(built: DesignerDocument):
    blank = DesignerDocument.new().spec.to_json_dict()
    while built.undo_stack.canUndo():
        built.undo_stack.undo()
    assert built.spec.to_json_dict() == blank
    while built.undo_stack.canRedo():
        built.undo_stack.redo()
    assert built.spec.to_json_dict() == load_app(SAMPLE).to_json_dict()


@pytest.mark.parametrize("name", ["equipment_repair", "equipment_repair.fwapp"])
def test_saved_app_passes_check_and_installs(built: DesignerDocument, tmp_path: Path, name):
    path = built.save(tmp_path / name)
    assert cli.main(["check", str(path)]) == 0

    with open_workspace(f"sqlite:///{tmp_path / 'w.sqlite'}") as workspace:
        workspace.upgrade(path)
        with workspace.workspace.engine.begin() as connection:
            result = connection.execute(departments_table.insert().values(name="ICU", active=True))
            department = result.inserted_primary_key[0]
        app = workspace.app("equipment_repair")
        device = app.create(
            "device", {"asset_no": "EQ-0001", "name": "Infusion pump", "owner_dept": department}
        )
        request = app.create(
            "request",
            {
                "device": device.id,
                "reported_on": datetime(2024, 3, 15, 9, 30),
                "urgency": "urgent",
                "fault": "Alarm keeps sounding",
                "status": "open",
                "parts": [{"part": "Filter", "qty": 2, "unit_price": "12.50"}],
                "labour": "10",
            },
        )
        assert request.values["urgency"] == "urgent"
        assert request.values["total_cost"] == Decimal("35.00")
        assert request.values["request_no"].startswith("BX-")
