"""Shared set-up of the data-engine tests: workspaces with the sample apps, people."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from runtime.services.actor import Actor
from runtime.services.records.service import RecordService
from runtime.spec import parse_app_spec
from runtime.spec.models import AppSpec
from runtime.store.accounts import insert_user, set_memberships
from runtime.store.org import insert_department
from runtime.store.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


def load_sample(name: str) -> AppSpec:
    """A sample app's spec from ``sample_apps/<name>/app.json``."""
    return parse_app_spec(json.loads((ROOT / "sample_apps" / name / "app.json").read_text("utf-8")))


def make_spec(app_id: str, forms: list[dict[str, Any]], views: list | None = None) -> AppSpec:
    """A small app spec for a test."""
    return parse_app_spec(
        {
            "format": "formwright-app",
            "spec_version": 1,
            "id": app_id,
            "version": 1,
            "title": app_id,
            "forms": forms,
            "views": views or [],
            "roles": [],
        }
    )


def add_department(workspace: Workspace, name: str, code: str | None = None) -> int:
    """A department row (no audit row, unlike OrgService); returns its id."""
    with workspace.engine.begin() as connection:
        return insert_department(connection, name=name, code=code)


def add_user(
    workspace: Workspace, username: str, display_name: str, department_id: int | None = None
) -> Actor:
    """A user row (and membership); returns the Actor that services take."""
    with workspace.engine.begin() as connection:
        user_id = insert_user(connection, username, display_name, datetime(2024, 1, 1))
        if department_id is not None:
            set_memberships(connection, user_id, [department_id])
    departments = frozenset({department_id}) if department_id is not None else frozenset()
    # An administrator: these tests are about the records engine, not permissions
    # (tests/services/test_permission_matrix.py covers those).
    return Actor(
        user_id=user_id,
        username=username,
        display_name=display_name,
        is_admin=True,
        primary_department=department_id,
        department_ids=departments,
    )


@pytest.fixture
def repair(workspace) -> RecordService:
    """The equipment-repair sample app, installed."""
    spec = load_sample("equipment_repair")
    workspace.install(spec)
    return RecordService(workspace, spec)


@pytest.fixture
def events(workspace) -> RecordService:
    """The adverse-event sample app, installed."""
    spec = load_sample("adverse_event")
    workspace.install(spec)
    return RecordService(workspace, spec)


@pytest.fixture
def icu(workspace) -> int:
    return add_department(workspace, "重症监护室 ICU", "icu")


@pytest.fixture
def nurse(workspace, icu) -> Actor:
    return add_user(workspace, "zhang.wei", "张伟", icu)
