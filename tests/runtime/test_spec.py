"""The AppSpec: structure, cross-references, expressions, upgrades, JSON paths."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from runtime.spec import SPEC_VERSION, AppSpec, SpecError, parse_app_spec, spec_problems
from runtime.spec.upgrade import upgrade_document
from widgets.registry import default_registry

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_APPS = sorted(path for path in (ROOT / "sample_apps").iterdir() if path.is_dir())


def minimal_app(*fields: dict, **extra) -> dict:
    return {
        "format": "formwright-app",
        "spec_version": 1,
        "id": "demo",
        "title": "Demo",
        "forms": [{"key": "main", "title": "Main", "fields": list(fields)}],
        **extra,
    }


def problems_of(data: dict) -> list[str]:
    return [str(problem) for problem in spec_problems(data)]


@pytest.mark.parametrize("folder", SAMPLE_APPS, ids=lambda path: path.name)
def test_every_sample_app_is_valid(folder):
    spec = parse_app_spec(json.loads((folder / "app.json").read_text("utf-8")))
    assert spec.id == folder.name
    assert spec.forms


@pytest.mark.parametrize("folder", SAMPLE_APPS, ids=lambda path: path.name)
def test_json_round_trip_keeps_the_spec(folder):
    spec = parse_app_spec(json.loads((folder / "app.json").read_text("utf-8")))
    again = parse_app_spec(json.loads(json.dumps(spec.to_json_dict())))
    assert again == spec
    assert list(spec.to_json_dict()["forms"][0]["fields"][0])[:3] == ["key", "type", "label"]


def test_sample_apps_use_every_field_type():
    used = set()
    for folder in SAMPLE_APPS:
        data = json.loads((folder / "app.json").read_text("utf-8"))
        for form in data["forms"]:
            for item in form["fields"]:
                used.add(item["type"])
                used.update(child["type"] for child in item.get("fields", []))
    assert used == set(default_registry.names())


def test_fields_become_their_type_models():
    spec = parse_app_spec(
        minimal_app({"key": "qty", "type": "number", "label": "Qty", "decimals": 2})
    )
    field = spec.forms[0].fields[0]
    assert type(field).__name__ == "NumberSpec" and field.decimals == 2


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            {"key": "a", "type": "text", "label": "A", "colour": "red"},
            "forms[0].fields[0].colour: unknown attribute",
        ),
        ({"key": "a", "type": "sparkle", "label": "A"}, "unknown field type 'sparkle'"),
        ({"key": "A b", "type": "text", "label": "A"}, "forms[0].fields[0].key: must be a key"),
        (
            {"key": "a", "type": "text", "label": "A", "max_length": 0},
            "forms[0].fields[0].max_length",
        ),
        (
            {"key": "a", "type": "number", "label": "A", "min": 5, "max": 1},
            "forms[0].fields[0].min: the minimum is larger than the maximum",
        ),
        ({"key": "select", "type": "text", "label": "A"}, "reserved word of SQL"),
        ({"key": "created_at", "type": "text", "label": "A"}, "system column"),
        (
            {"key": "a", "type": "lookup", "label": "A", "form": "nowhere", "display_field": "x"},
            "forms[0].fields[0].form: there is no form 'nowhere'",
        ),
        (
            {"key": "a", "type": "text", "label": "A", "visible_when": "b = 1"},
            "forms[0].fields[0].visible_when: unknown field 'b'",
        ),
        (
            {"key": "a", "type": "text", "label": "A", "visible_when": "LEN(a)"},
            "forms[0].fields[0].visible_when: the expression gives a number, but TRUE/FALSE is needed",
        ),
        (
            {"key": "a", "type": "formula", "label": "A", "expression": "1 +", "result": "number"},
            "forms[0].fields[0].expression",
        ),
        (
            {"key": "a", "type": "text", "label": "A", "pattern": "(["},
            "forms[0].fields[0].pattern: not a valid pattern",
        ),
    ],
)
def test_problems_carry_their_json_path(field, expected):
    found = problems_of(minimal_app(field))
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize(
    "field",
    [
        {"key": "team", "type": "user", "label": "Team", "multiple": True},
        {"key": "wards", "type": "department", "label": "Wards", "multiple": True},
        {"key": "tags", "type": "multiselect", "label": "Tags", "options": [{"value": "a", "label": "A"}]},
        {"key": "files", "type": "attachment", "label": "Files"},
        {"key": "part", "type": "section", "label": "Part"},
    ],
    ids=lambda field: field["type"],
)  # fmt: skip
def test_only_single_valued_fields_can_be_unique(field):
    found = problems_of(minimal_app(field | {"unique": True}))
    assert any("forms[0].fields[0].unique: only a field holding one value" in p for p in found)
    assert not problems_of(
        minimal_app({"key": "code", "type": "text", "label": "C", "unique": True})
    )


def test_duplicate_keys_are_reported_once_each():
    data = minimal_app(
        {"key": "a", "type": "text", "label": "A"}, {"key": "a", "type": "number", "label": "B"}
    )
    assert problems_of(data) == ["forms[0].fields[1].key: duplicate field key 'a' in this form"]


def test_subtable_column_errors_have_nested_paths():
    data = minimal_app(
        {
            "key": "items",
            "type": "subtable",
            "label": "Items",
            "fields": [{"key": "cost", "type": "number", "label": "Cost", "decimals": 9}],
        }
    )
    assert any(p.startswith("forms[0].fields[0].fields[0].decimals") for p in problems_of(data))


def test_formula_cycles_are_named():
    data = minimal_app(
        {"key": "a", "type": "formula", "label": "A", "expression": "b + 1"},
        {"key": "b", "type": "formula", "label": "B", "expression": "a * 2"},
    )
    found = problems_of(data)
    assert "forms[0].fields[0].expression: the formula depends on itself: a → b → a" in found


def test_views_are_checked_against_forms():
    data = minimal_app(
        {"key": "a", "type": "text", "label": "A"},
        {"key": "intro", "type": "note", "label": "Intro", "text": "Hi"},
        views=[
            {
                "key": "v",
                "form": "main",
                "title": "V",
                "columns": ["a", "zz", "intro"],
                "sort": [{"field": "nope"}],
                "filter": "a = 1 +",
            },
            {"key": "w", "form": "ghost", "title": "W"},
        ],
    )
    found = problems_of(data)
    for expected in (
        "views[0].columns[1]: form 'main' has no field 'zz'",
        "views[0].columns[2]: 'intro' is a layout item, not a field with a value",
        "views[0].sort[0].field: form 'main' has no field 'nope'",
        "views[1].form: there is no form 'ghost'",
    ):
        assert expected in found
    assert any(p.startswith("views[0].filter:") for p in found)


def test_unknown_actions_are_structural_errors():
    data = minimal_app(
        roles=[{"key": "clerk", "title": "C", "grants": {"main": {"actions": ["fly"]}}}]
    )
    found = problems_of(data)
    assert found == [
        "roles[0].grants.main.actions[0]: "
        "must be one of 'create', 'read', 'update', 'delete', 'export' or 'import'"
    ]


def test_role_references_are_checked():
    data = minimal_app(
        {"key": "a", "type": "text", "label": "A"},
        roles=[
            {"key": "admin", "title": "X"},
            {
                "key": "clerk",
                "title": "Clerk",
                "grants": {
                    "main": {"actions": ["read"], "fields": {"zz": "hidden"}},
                    "ghost": {"actions": ["read"]},
                },
            },
        ],
    )
    found = problems_of(data)
    assert "roles[0].key: 'admin' is a built-in role; choose another key" in found
    assert "roles[1].grants.main.fields.zz: form 'main' has no field 'zz'" in found
    assert "roles[1].grants.ghost: there is no form 'ghost'" in found


def test_options_must_be_unique():
    data = minimal_app(
        {
            "key": "s",
            "type": "select",
            "label": "S",
            "options": [{"value": "x", "label": "X"}, {"value": "x", "label": "Y"}],
        }
    )
    assert any(p.startswith("forms[0].fields[0].options") for p in problems_of(data))


def test_not_an_app():
    with pytest.raises(SpecError, match="not a Formwright app"):
        parse_app_spec({"format": "something-else"})
    with pytest.raises(SpecError, match="JSON object"):
        parse_app_spec([1, 2])


def test_newer_format_is_refused_with_advice():
    data = minimal_app()
    data["spec_version"] = SPEC_VERSION + 1
    with pytest.raises(SpecError, match="newer Formwright"):
        parse_app_spec(data)


def test_upgrade_steps_run_in_order():
    """A synthetic format 0 → 1 → 2 chain, as the next format change will add."""
    old = {"format": "formwright-app", "spec_version": 1, "name": "Old title"}

    def rename_name_to_title(document: dict) -> dict:
        document["title"] = document.pop("name")
        return document

    def add_forms(document: dict) -> dict:
        document.setdefault("forms", [])
        return document

    steps = {1: rename_name_to_title, 2: add_forms}
    upgraded = upgrade_document(copy.deepcopy(old), steps=steps, target=3)
    assert upgraded == {
        "format": "formwright-app",
        "spec_version": 3,
        "title": "Old title",
        "forms": [],
    }
    with pytest.raises(SpecError, match="no upgrade from format 1"):
        upgrade_document(copy.deepcopy(old), steps={}, target=2)


def test_app_spec_finds_its_parts():
    spec = parse_app_spec(json.loads((ROOT / "sample_apps/equipment_repair/app.json").read_text()))
    assert isinstance(spec, AppSpec)
    assert spec.form("request").field("device").form == "device"
    assert spec.view("open_requests").form == "request"
    assert spec.role("engineer").grants["device"].scope == "all"
    assert spec.form("nope") is None
