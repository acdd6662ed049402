"""Form formulas over blank dates are blank (issue #11 §2: an age of 2,026)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from runtime.services.records.form_logic import FormLogic
from runtime.spec.models import FormSpec
from widgets.registry import default_registry

FORM = FormSpec.model_validate(
    {
        "key": "patient",
        "title": "Patient",
        "fields": [
            {"key": "birth", "type": "date", "label": "Born"},
            {"key": "qty", "type": "number", "label": "Qty"},
            {
                "key": "age",
                "type": "formula",
                "label": "Age",
                "expression": "YEAR(TODAY()) - YEAR(birth)",
                "decimals": 0,
            },
            {
                "key": "days",
                "type": "formula",
                "label": "Days",
                "expression": "TODAY() - birth",
                "decimals": 0,
            },
            {
                "key": "doses",
                "type": "subtable",
                "label": "Doses",
                "fields": [
                    {"key": "given", "type": "date", "label": "Given"},
                    {
                        "key": "after",
                        "type": "formula",
                        "label": "Days after birth",
                        "expression": "given - birth",
                        "decimals": 0,
                    },
                ],
            },
            {
                "key": "twice",
                "type": "formula",
                "label": "Twice",
                "expression": "qty * 2",
                "decimals": 2,
            },
        ],
    }
)
TODAY = dt.date(2026, 3, 15)


def test_formulas_of_a_blank_date_are_blank():
    logic = FormLogic.compile(FORM, default_registry)
    rows = [{"given": dt.date(2026, 1, 1), "after": None}]
    computed = logic.compute({"birth": None, "qty": None, "doses": rows}, today=TODAY)
    assert computed["age"] is None and computed["days"] is None
    assert computed["doses"][0]["after"] is None
    assert computed["twice"] == Decimal("0.00")  # a blank number still counts as 0


def test_formulas_of_a_date_have_values():
    logic = FormLogic.compile(FORM, default_registry)
    rows = [{"given": dt.date(2026, 1, 1), "after": None}]
    computed = logic.compute({"birth": dt.date(2021, 3, 1), "doses": rows}, today=TODAY)
    assert computed["age"] == 5 and computed["days"] == 1840
    assert computed["doses"][0]["after"] == 1767
