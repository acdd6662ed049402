"""Reads beside ``RecordService``'s pages: the subtable rows of a page of records.

A page (``RecordService.page``) carries each record's own fields; an export also
needs the rows of its subtables, for a thousand records at a time. This reads them
through the store (``runtime.store.child_rows``), one query per subtable, under the
same rules as the page: the action's grant, its row scope and the fields the actor
may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runtime.services.actor import SYSTEM, Actor
from runtime.services.permissions import in_scope
from runtime.services.records.service import RecordService
from runtime.store.child_rows import read_child_rows
from runtime.store.repository import Record

#: Subtable key -> record id -> the record's rows (canonical values), in row order.
SubtableRows = dict[str, dict[int, list[dict[str, Any]]]]


def subtable_rows(
    service: RecordService,
    form: str,
    subtables: Sequence[str],
    records: Sequence[Record],
    actor: Actor = SYSTEM,
    action: str = "read",
) -> SubtableRows:
    """The rows of ``subtables`` of ``records`` (a page ``actor`` read for ``action``).

    Subtables hidden from the actor are left out, as a page leaves out hidden
    fields; records outside the action's row scope are skipped. Records without
    rows have no entry.
    """
    policy = service.policy(actor, form)
    policy.require(form, action)
    tables = service.repository.form_tables(form)
    visible = set(policy.visible_fields(form))
    keys = [key for key in subtables if key in tables.children and key in visible]
    scope = policy.scope(form, action)
    ids = [
        record.id
        for record in records
        if in_scope(scope, actor, record.created_by, record.owner_department)
    ]
    if not keys or not ids:
        return {}
    with service.workspace.reader() as connection:
        return {key: read_child_rows(connection, tables, key, ids) for key in keys}
