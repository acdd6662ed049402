"""The designer document: keys, merging, cascades, publishing, files, refusals, signals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from designer.document import DesignerDocument, EditError, FieldPath, build_large_form
from designer.keys import key_from_label, slug, unique_key
from runtime.package import PackageError
from runtime.spec.problems import SpecError

SAMPLE = Path(__file__).resolve().parents[2] / "sample_apps" / "equipment_repair"


@pytest.fixture
def repair(qapp) -> DesignerDocument:
    return DesignerDocument.open(SAMPLE)


# -- keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "taken", "key"),
    [
        ("Repair cost", set(), "repair_cost"),
        ("  Café / Crème brûlée ", set(), "cafe_creme_brulee"),
        ("血压", set(), "field_1"),
        ("血压", {"field_1", "field_2"}, "field_3"),
        ("血压 BP", set(), "bp"),
        ("123", set(), "field_1"),
        ("3rd floor", set(), "f_3rd_floor"),
        ("Name", {"name"}, "name_2"),
        ("Name", {"name", "name_2"}, "name_3"),
        ("ID", set(), "id_2"),
        ("Select", set(), "select_2"),
        ("Created at", set(), "created_at_2"),
        ("FW notes", set(), "f_fw_notes"),
        ("x" * 60, set(), "x" * 40),
        ("x" * 60, {"x" * 40}, "x" * 38 + "_2"),
    ],
)
def test_key_from_label(label: str, taken: set[str], key: str):
    assert key_from_label(label, taken) == key


def test_slug_and_unique_key_edges():
    assert slug("") == ""
    assert slug("a--b__c") == "a_b_c"
    assert unique_key("fw_x", set()) == "f_fw_x"
    assert key_from_label("表单", set(), "form") == "form_1"


# -- creating and opening -------------------------------------------------------


def test_new_document_is_a_valid_blank_app(qapp):
    document = DesignerDocument.new()
    assert [form.key for form in document.spec.forms] == ["form_1"]
    assert document.spec.forms[0].fields == []
    assert document.problems() == []
    assert not document.is_dirty()
    assert document.window_title() == "New app (untitled) — Formwright Designer"


def test_from_spec_copies_the_spec(repair: DesignerDocument):
    other = DesignerDocument.from_spec(repair.spec)
    other.set_app_property("title", "Copy")
    assert repair.spec.title != "Copy"


def test_open_reports_unreadable_and_invalid_packages(qapp, tmp_path: Path):
    with pytest.raises(PackageError):
        DesignerDocument.open(tmp_path / "missing.fwapp")
    folder = tmp_path / "bad"
    folder.mkdir()
    data = json.loads((SAMPLE / "app.json").read_text(encoding="utf-8"))
    data["forms"][0]["fields"][0]["max_length"] = "long"
    (folder / "app.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SpecError) as error:
        DesignerDocument.open(folder)
    assert error.value.problems[0].path == "forms[0].fields[0].max_length"


def test_open_keeps_an_app_with_dangling_references_for_repair(qapp, tmp_path: Path):
    folder = tmp_path / "dangling"
    folder.mkdir()
    data = json.loads((SAMPLE / "app.json").read_text(encoding="utf-8"))
    data["views"][0]["columns"].append("nowhere")
    (folder / "app.json").write_text(json.dumps(data), encoding="utf-8")
    document = DesignerDocument.open(folder)
    assert [p.path for p in document.problems()] == ["views[0].columns[5]"]
    document.set_view_property("open_requests", "columns", ["request_no"])
    assert document.problems() == []


# -- saving, dirty state, title ----------------------------------------------------


@pytest.mark.parametrize("name", ["repair", "repair.fwapp"])
def test_save_and_reopen_gives_the_same_spec(repair: DesignerDocument, tmp_path: Path, name):
    repair.add_field("device", "text", "Serial number", max_length=40)
    assert repair.is_dirty()
    assert repair.window_title().endswith("(equipment_repair)* — Formwright Designer")
    path = repair.save(tmp_path / name)
    assert not repair.is_dirty()
    assert repair.path == path
    assert repair.window_title() == f"{repair.spec.title} ({name}) — Formwright Designer"
    reopened = DesignerDocument.open(path)
    assert reopened.spec == repair.spec
    assert reopened.spec.to_json_dict() == repair.spec.to_json_dict()


def test_dirty_flag_follows_the_undo_stack(repair: DesignerDocument, qtbot, tmp_path: Path):
    with qtbot.waitSignal(repair.dirty_changed) as blocker:
        repair.rename_form("device", "Devices")
    assert blocker.args == [True]
    with qtbot.waitSignal(repair.dirty_changed) as blocker:
        repair.undo_stack.undo()
    assert blocker.args == [False]
    repair.undo_stack.redo()
    repair.save(tmp_path / "app")
    assert not repair.is_dirty()
    repair.undo_stack.undo()
    assert repair.is_dirty()


def test_revert_reloads_the_file(repair: DesignerDocument, qtbot):
    before = repair.spec.to_json_dict()
    repair.remove_form("device")
    repair.set_selection([("request", "fault")])
    with qtbot.waitSignals([repair.spec_reset, repair.selection_changed]):
        repair.revert()
    assert repair.spec.to_json_dict() == before
    assert (repair.selection(), repair.undo_stack.count(), repair.is_dirty()) == ([], 0, False)


def test_save_without_a_path_is_refused(qapp):
    with pytest.raises(EditError, match="where to save"):
        DesignerDocument.new().save()


# -- merging keystrokes ---------------------------------------------------------------


def test_keystroke_edits_merge_into_one_step(repair: DesignerDocument):
    original = repair.field("request", "fault").label
    for text in ("A", "Ab", "Abc"):
        repair.set_field_property("request", "fault", "label", text)
    assert repair.undo_stack.count() == 1
    assert repair.field("request", "fault").label == "Abc"
    repair.undo_stack.undo()
    assert repair.field("request", "fault").label == original


def test_edits_of_other_attributes_or_fields_do_not_merge(repair: DesignerDocument):
    repair.set_field_property("request", "fault", "label", "A")
    repair.set_field_property("request", "fault", "help", "B")
    repair.set_field_property("request", "photos", "help", "C")
    assert repair.undo_stack.count() == 3


def test_no_merge_across_a_save_point(repair: DesignerDocument, tmp_path: Path):
    repair.set_field_property("request", "fault", "label", "A")
    repair.mark_saved()
    repair.set_field_property("request", "fault", "label", "Ab")
    assert repair.undo_stack.count() == 2
    repair.undo_stack.undo()
    assert repair.field("request", "fault").label == "A"
    assert not repair.is_dirty()
    repair.undo_stack.redo()
    repair.save(tmp_path / "app")
    repair.set_field_property("request", "fault", "label", "Abc")
    assert repair.undo_stack.count() == 3


def test_typing_back_the_original_value_leaves_no_step(repair: DesignerDocument):
    original = repair.field("request", "fault").label
    repair.set_field_property("request", "fault", "label", "A")
    repair.set_field_property("request", "fault", "label", original)
    assert repair.undo_stack.count() == 0
    assert not repair.is_dirty()


def test_setting_the_same_value_pushes_nothing(repair: DesignerDocument):
    repair.set_field_property("request", "fault", "required", True)
    assert repair.undo_stack.count() == 0


# -- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("label", "", "label"),
        ("width", "5/7", "width"),
        ("max_length", 0, "max_length"),
        ("max_length", "long", "max_length"),
        ("colour", "red", "colour"),
        ("key", "other", "rename the key"),
        ("type", "number", "type can't change"),
    ],
)
def test_invalid_field_values_are_refused_without_a_step(
    repair: DesignerDocument, name: str, value, message: str
):
    before = repair.spec.to_json_dict()
    with pytest.raises(EditError, match=message):
        repair.set_field_property("device", "name", name, value)
    assert repair.undo_stack.count() == 0
    assert repair.spec.to_json_dict() == before


def test_invalid_values_elsewhere_are_refused(repair: DesignerDocument):
    refusals = [
        lambda: repair.set_field_property("request", "parts", "fields", []),
        lambda: repair.set_field_property("request", "urgency", "options", [{"value": ""}]),
        lambda: repair.set_app_property("id", "Bad Id"),
        lambda: repair.set_app_property("version", 7),
        lambda: repair.set_form_property("device", "title", ""),
        lambda: repair.set_view_property("all_devices", "columns", "name"),
        lambda: repair.set_role_property("engineer", "grants", {}),
        lambda: repair.set_grant("engineer", "device", scope="planet"),
        lambda: repair.set_grant("engineer", "device", actions=["fly"]),
        lambda: repair.add_field("device", "hologram", "Ghost"),
        lambda: repair.add_field("device", "number", "Bad", decimals=9),
        lambda: repair.add_field("device", "text", "Name", key="name"),
        lambda: repair.add_field("device", "text", "Id", key="id"),
        lambda: repair.add_field("request", "subtable", "Nested", parent="parts"),
        lambda: repair.add_field("request", "section", "Part group", parent="parts"),
        lambda: repair.move_field("request", "repair", 0, parent="parts"),
        lambda: repair.add_option("request", "fault", "Loud"),
        lambda: repair.remove_field("request", "nowhere"),
        lambda: repair.rename_field_key("request", "fault", "device"),
        lambda: repair.rename_field_key("request", "fault", "Fault!"),
        lambda: repair.rename_form_key("device", "request"),
        lambda: repair.add_view("nowhere", "Lost"),
        lambda: repair.add_role("Admin", key="admin"),
    ]
    for refuse in refusals:
        with pytest.raises(EditError):
            refuse()
    assert repair.undo_stack.count() == 0


# -- cascades -----------------------------------------------------------------------------


def test_delete_cleans_every_reference_and_one_undo_restores_them(repair: DesignerDocument):
    repair.set_view_property("open_requests", "columns", ["request_no", "labour"])
    repair.set_view_property("open_requests", "sort", [{"field": "labour"}])
    repair.set_view_property("open_requests", "filter", "labour > 100")
    repair.set_field_property("request", "report", "visible_when", "labour > 0")
    repair.mark_saved()
    before = repair.spec.to_json_dict()

    where = {(u.target, u.attribute) for u in repair.references_to("request", "labour")}
    assert where == {
        (("view", "open_requests"), "columns"),
        (("view", "open_requests"), "sort"),
        (("view", "open_requests"), "filter"),
        (("field", "request", "report"), "visible_when"),
        (("field", "request", "total_cost"), "expression"),
        (("role", "ward_clerk"), "grants"),
        (("role", "engineer"), "grants"),
    }
    steps = repair.undo_stack.count()
    cleaned = repair.remove_field("request", "labour")
    assert {(u.target, u.attribute) for u in cleaned} == where
    assert repair.undo_stack.count() == steps + 1
    assert "cleaned" in repair.undo_stack.undoText()
    view = repair.spec.view("open_requests")
    assert (view.columns, view.sort, view.filter) == (["request_no"], [], None)
    request = repair.spec.form("request")
    assert request.field("report").visible_when is None
    assert request.field("total_cost").expression == ""
    assert "labour" not in repair.spec.role("ward_clerk").grants["request"].fields

    repair.undo_stack.undo()
    assert repair.spec.to_json_dict() == before
    assert not repair.is_dirty()


def test_references_to_a_subtable_include_its_columns(repair: DesignerDocument):
    usages = repair.references_to("request", "line_total")
    assert [(u.target, u.attribute) for u in usages] == [
        (("field", "request", "total_cost"), "expression")
    ]
    assert repair.references_to("request", "engineer")[0].target == ("role", "ward_clerk")
    shown_by = [(u.target, u.attribute) for u in repair.references_to("device", "name")]
    assert shown_by == [
        (("view", "all_devices"), "columns"),
        (("field", "request", "device"), "display_field"),
        (("role", "ward_clerk"), "grants"),
        (("role", "engineer"), "grants"),
    ]
    assert [u.target for u in repair.references_to("device", "purchased")] == [
        ("role", "ward_clerk"),
        ("role", "engineer"),
    ]


def test_references_to_a_form(repair: DesignerDocument):
    described = [str(usage) for usage in repair.references_to_form("device")]
    assert len(described) == 5  # one view, two grants, lookup form + display field
    assert described[0] == "view “全部设备 All devices”"


# -- publishing and keys ---------------------------------------------------------------------


def test_publish_freezes_keys_and_bumps_the_version(repair: DesignerDocument, tmp_path: Path):
    repair.rename_field_key("request", "fault", "fault_text")
    path = repair.publish(tmp_path / "repair.fwapp")
    assert (repair.spec.version, repair.spec.published) == (2, True)
    assert not repair.is_dirty()
    assert not repair.undo_stack.canUndo()
    with pytest.raises(EditError, match="published"):
        repair.rename_field_key("request", "fault_text", "fault")
    with pytest.raises(EditError, match="published"):
        repair.rename_form_key("device", "equipment")
    with pytest.raises(EditError, match="published"):
        repair.set_app_property("id", "repairs")
    new_key = repair.add_field("request", "text", "Room")
    repair.rename_field_key("request", new_key, "room_no")  # not published yet
    assert repair.is_key_frozen("request", "fault_text")
    assert not repair.is_key_frozen("request", "room_no")

    reopened = DesignerDocument.open(path)
    assert reopened.spec.published and reopened.spec.version == 2
    with pytest.raises(EditError, match="published"):
        reopened.rename_field_key("request", "fault_text", "fault")
    reopened.set_field_property("request", "fault_text", "label", "Fault")  # labels still change


# -- selection and signals ---------------------------------------------------------------------


def test_signals_name_what_changed(repair: DesignerDocument, qtbot):
    with qtbot.waitSignal(repair.field_added) as added:
        key = repair.add_field("request", "text", "Part", parent="parts", index=1)
    assert added.args == ["request", "part_2", "parts", 1]
    with qtbot.waitSignal(repair.property_changed) as changed:
        repair.set_field_property("request", key, "label", "Part 2")
    assert changed.args == ["request", "part_2", "label"]
    with qtbot.waitSignal(repair.field_moved) as moved:
        repair.move_field("request", key, 0)
    assert moved.args == ["request", "part_2", None, 0]
    with qtbot.waitSignal(repair.field_moved) as moved:
        repair.undo_stack.undo()
    assert moved.args == ["request", "part_2", "parts", 1]
    repair.undo_stack.undo()
    with qtbot.waitSignal(repair.field_removed) as removed:
        repair.undo_stack.undo()
    assert removed.args == ["request", "part_2", "parts", 1]
    with qtbot.waitSignal(repair.form_renamed) as renamed:
        repair.rename_form("device", "Devices")
    assert renamed.args == ["device", "Devices"]
    with qtbot.waitSignal(repair.option_added) as option:
        repair.add_option("request", "status", "On hold")
    assert option.args == ["request", "status", 4]
    with qtbot.waitSignals([repair.role_changed, repair.field_key_changed]):
        repair.rename_field_key("request", "labour", "labor")
    with qtbot.waitSignals([repair.view_changed, repair.problems_changed]):
        repair.rename_field_key("request", "status", "state")
    with qtbot.waitSignal(repair.app_property_changed) as app:
        repair.set_app_property("title", "Repairs")
    assert app.args == ["title"]


def test_selection_follows_renames_and_deletes(repair: DesignerDocument, qtbot):
    with qtbot.waitSignal(repair.selection_changed):
        repair.set_selection([("request", "qty", "parts"), ("request", "fault")])
    repair.rename_field_key("request", "qty", "quantity")
    assert repair.selection() == [
        FieldPath("request", "quantity", "parts"),
        FieldPath("request", "fault"),
    ]
    repair.move_field("request", "quantity", 0)
    assert repair.selection()[0] == FieldPath("request", "quantity", None)
    repair.remove_field("request", "fault")
    assert repair.selection() == [FieldPath("request", "quantity")]
    repair.remove_form("request")
    assert repair.selection() == []


# -- layout ---------------------------------------------------------------------------------------


def test_moving_past_a_section_moves_into_its_group(repair: DesignerDocument):
    keys = [spec.key for spec in repair.spec.form("request").fields]
    assert keys.index("repair") == 7
    repair.move_field("request", "fault", 7)  # right after the section "repair"
    keys = [spec.key for spec in repair.spec.form("request").fields]
    assert keys[6:8] == ["repair", "fault"]


def test_edit_group_is_one_undo_step(repair: DesignerDocument):
    before = repair.spec.to_json_dict()
    with repair.edit_group("Add urgency note"):
        key = repair.add_field("request", "note", "Hint")
        repair.set_field_property("request", key, "text", "Call the engineer")
    assert repair.undo_stack.count() == 1
    repair.undo_stack.undo()
    assert repair.spec.to_json_dict() == before


def test_build_large_form(qapp):
    document = build_large_form(60)
    fields = document.spec.forms[0].fields
    assert len(fields) == 63  # 60 fields + 3 sections
    assert len({spec.key for spec in fields}) == 63
    assert document.problems() == []
    assert not document.is_dirty()
