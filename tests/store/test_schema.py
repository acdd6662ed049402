"""Tables and indexes derived from a spec install on both engines."""

from __future__ import annotations

import sqlalchemy as sa

from runtime.services.records.service import RecordService
from runtime.store.query import Condition, RecordQuery
from runtime.store.schema import table_name

from .conftest import add_department, add_user, make_spec


def test_list_valued_references_install_and_filter(workspace):
    """Several users in one field are JSON: no btree index (PostgreSQL refuses one),
    and a view sorted by a JSON field gets no index either; both still work."""
    fields = [
        {"key": "title", "type": "text", "label": "Title"},
        {"key": "team", "type": "user", "label": "Team", "multiple": True},
        {"key": "wards", "type": "department", "label": "Wards", "multiple": True},
        {
            "key": "tags",
            "type": "multiselect",
            "label": "Tags",
            "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
        },
    ]
    views = [{"key": "by_tags", "form": "task", "title": "By tags", "sort": [{"field": "tags"}]}]
    spec = make_spec("teams", [{"key": "task", "title": "Task", "fields": fields}], views)
    workspace.install(spec)
    ward = add_department(workspace, "Ward 1")
    nurse = add_user(workspace, "li.na", "李娜", ward)
    service = RecordService(workspace, spec)
    service.create(
        "task", {"title": "Rounds", "team": [nurse.user_id], "wards": [ward], "tags": ["a"]}
    )
    service.create("task", {"title": "Audit", "tags": ["b"]})
    mine = RecordQuery(filter=Condition("team", "contains", nurse.user_id))
    assert [r.values["title"] for r in service.page("task", mine).records] == ["Rounds"]
    indexed = {
        column
        for index in sa.inspect(workspace.engine).get_indexes(table_name("teams", "task"))
        for column in index["column_names"]
    }
    assert not indexed & {"team", "wards", "tags"}
