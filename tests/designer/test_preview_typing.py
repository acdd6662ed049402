"""The designer's "Try it" preview stores what is typed, or refuses it (issue #11 §2)."""

from __future__ import annotations

import datetime as dt

from tests.ui.test_typed_values import type_into


def test_preview_stores_a_typed_date_and_refuses_unreadable_text(window, qtbot):
    window.canvas.show_form("device")
    preview = window.try_it()
    try:
        preview.show()
        cells = preview.view.cells
        cells["asset_no"].editor.set_value("EQ-9002")
        cells["name"].editor.set_value("Preview pump")
        cells["owner_dept"].editor.set_value(preview.session.actor.primary_department)
        before = preview.records.count()
        type_into(qtbot, cells["purchased"].editor, "2024-13-01")
        assert not preview.save()
        assert preview.view.error_text("purchased") == "please enter a date like 2024-03-15"
        assert preview.records.count() == before
        cells["purchased"].editor.set_value(None)
        type_into(qtbot, cells["purchased"].editor, "2024-05-10")
        assert preview.save()
        record = preview.session.service.page("device").records
        saved = max(record, key=lambda r: r.id)
        assert saved.values["purchased"] == dt.date(2024, 5, 10)
    finally:
        preview.close()
