"""Field-type and record-service messages follow the message language (zh_CN).

Each check runs the real code path twice: in English (the text stays as it was) and
in Chinese (the translation from ``resources/translations/zh_CN.json``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from resources.messages import use_language
from runtime.services.actor import Actor
from runtime.services.permissions import PermissionDenied, Policy
from runtime.services.records.service import (
    ConflictError,
    NotFound,
    RecordService,
    ValidationFailed,
)
from tests.store.conftest import add_user, icu, repair
from widgets.base import EMPTY_CONTEXT, FieldValueError, flatten_errors
from widgets.registry import default_registry

__all__ = ["icu", "repair"]  # fixtures shared with the store tests


def both(call: Callable[[], str]) -> tuple[str, str]:
    """What ``call`` returns in English, then in Chinese."""
    use_language("en")
    english = call()
    use_language("zh_CN")
    return english, call()


def raised(call: Callable[[], object], error: type[Exception] = FieldValueError) -> Callable:
    """A call giving the message of the error that ``call`` raises."""

    def message() -> str:
        with pytest.raises(error) as caught:
            call()
        return caught.value.message

    return message


def field(type_name: str, **attributes):
    field_type = default_registry.get(type_name)
    return field_type, field_type.new_spec("f", "F", **attributes)


# -- field types ------------------------------------------------------------------------------


def test_validation_messages_of_the_field_types():
    number, price = field("number", decimals=2, min=0)
    assert both(raised(lambda: number.validate(price, number.coerce(price, "-1")))) == (
        "must be at least 0",
        "不能小于 0",
    )
    assert both(raised(lambda: number.coerce(price, "abc"))) == (
        "please enter a number",
        "请输入数字",
    )
    day, on = field("date", min="2024-01-01")
    assert both(raised(lambda: day.coerce(on, "soon"))) == (
        "please enter a date like 2024-03-15",
        "请输入日期，如 2024-03-15",
    )
    assert both(raised(lambda: day.validate(on, date(2023, 5, 1)))) == (
        "must be 2024-01-01 or later",
        "不能早于 2024-01-01",
    )
    options = default_registry.get("multiselect").sample_attributes
    choice, allergies = field("multiselect", min_selected=2, **options)
    assert both(raised(lambda: choice.validate(allergies, ["penicillin"]))) == (
        "choose at least 2 options",
        "请至少选择 2 项",
    )
    user, reporter = field("user")
    assert both(raised(lambda: user.parse(reporter, "王五", EMPTY_CONTEXT))) == (
        "no user named '王五'",
        "没有名为“王五”的人员",
    )


def test_a_subtable_cell_message_names_its_row_and_column():
    table, parts = field("subtable", **default_registry.get("subtable").sample_attributes)
    rows = [{"part": "filter", "qty": 0, "price": "1"}]
    assert both(raised(lambda: table.validate(parts, table.coerce(parts, rows)))) == (
        "row 1, Qty: must be at least 1",
        "第 1 行，Qty：不能小于 1",
    )


def test_display_texts_of_the_field_types():
    checkbox, urgent = field("checkbox")
    assert both(lambda: checkbox.display(urgent, True)) == ("Yes", "是")
    assert both(lambda: checkbox.display(urgent, False)) == ("No", "否")
    # the Chinese text reads back as the same value
    assert checkbox.parse(urgent, checkbox.display(urgent, False)) is False
    table, parts = field("subtable", **default_registry.get("subtable").sample_attributes)
    rows = [{"part": "filter", "qty": 1, "price": "1"}]
    assert both(lambda: table.display(parts, table.coerce(parts, rows))) == ("1 row", "1 行")
    assert both(lambda: table.display(parts, table.coerce(parts, rows * 3))) == ("3 rows", "3 行")


def test_spec_problems_and_template_help_follow_the_language():
    number, bad = field("number", min=5, max=1)
    assert both(lambda: number.check_spec(bad)[0].message) == (
        "the minimum is larger than the maximum",
        "最小值大于最大值",
    )
    day, limited = field("date", min="2020-01-01", max="2024-12-31")
    assert both(lambda: day.describe(limited)) == (
        "date like 2024-03-15, from 2020-01-01, until 2024-12-31",
        "日期，如 2024-03-15，从 2020-01-01 到 2024-12-31",
    )


# -- the record service on a real workspace ---------------------------------------------------


def device(repair: RecordService, icu: int | None, **values):
    return repair.create(
        "device", {"asset_no": "EQ-0001", "name": "输液泵", "owner_dept": icu} | values
    )


def test_a_save_that_does_not_fit_names_each_field(repair, icu):
    def errors() -> str:
        with pytest.raises(ValidationFailed) as failed:
            device(repair, None, price="-1")
        return failed.value.errors, failed.value.message

    (english, message), (chinese, message_zh) = both(errors)
    assert english == {"owner_dept": "is required", "price": "must be at least 0"}
    assert chinese == {"owner_dept": "为必填项", "price": "不能小于 0"}
    assert message.startswith("please correct the form — ")
    assert message_zh.startswith("请修正表单 — ")


def test_a_duplicate_and_a_bulk_row_problem(repair, icu):
    device(repair, icu)
    assert both(raised(lambda: device(repair, icu), ValidationFailed)) == (
        "please correct the form — asset_no: 'EQ-0001' is already used by another record",
        "请修正表单 — asset_no: “EQ-0001”已被其他记录使用",
    )
    rows = [{"asset_no": "EQ-0002", "name": "n", "owner_dept": icu, "price": "abc"}]

    def bulk_errors() -> dict:
        with pytest.raises(ValidationFailed) as failed:
            repair.bulk_create("device", rows)
        return failed.value.errors

    assert both(bulk_errors) == (
        {"row 1": "原值: please enter a number"},
        {"第 1 行": "原值：请输入数字"},
    )


def test_not_found_conflict_and_permission_messages(repair, workspace, icu):
    assert both(raised(lambda: repair.get("device", 999), NotFound)) == (
        "record 999 of 'device' does not exist or was deleted",
        "表单“device”的记录 999 不存在或已被删除",
    )
    first = device(repair, icu)
    repair.update("device", first.id, {"model": "X1"}, first.version)
    english, chinese = both(
        raised(lambda: repair.update("device", first.id, {"model": "X2"}, 1), ConflictError)
    )
    assert english.startswith("the system saved this record at ")
    assert english.endswith(" UTC after you opened it (changed: model)")
    assert chinese.startswith("在您打开此记录之后，系统 于 ")
    assert chinese.endswith("（UTC）保存了它（修改了：model）")
    nurse = add_user(workspace, "li.na", "李娜", icu)
    nobody = Actor(nurse.user_id, nurse.username, nurse.display_name)  # no role, not admin
    assert both(raised(lambda: repair.page("device", actor=nobody), PermissionDenied)) == (
        "李娜 may not see '设备台账 Device register'",
        "李娜 无权查看“设备台账 Device register”",
    )
    policy = Policy(repair.spec, nobody)
    assert both(raised(lambda: policy.require("device", "export"), PermissionDenied)) == (
        "李娜 may not export '设备台账 Device register'",
        "李娜 无权导出“设备台账 Device register”",
    )


def spec_problems(field: dict) -> dict[str, str]:
    """What the spec checks say of one field's attributes (path → message)."""
    from pydantic import ValidationError

    spec_model = default_registry.get(field["type"]).spec_model
    try:
        spec_model.model_validate(field)
    except ValidationError as error:
        return dict(flatten_errors(error.errors()))
    return {}


@pytest.mark.parametrize(
    ("attribute", "value", "english"),
    [
        ("max_length", "many", "please enter a whole number"),
        ("max_length", 0, "must be at least 1"),
        ("max_length", 5000, "must be at most 4000"),
        ("label", "x" * 201, "must be at most 200 characters"),
        ("required", "perhaps", "must be yes or no"),
        ("width", "3/5", "must be one of '1', '1/2', '1/3', '1/4', '2/3' or '3/4'"),
        ("extensions", ["p d f"], "'p d f' is not a file extension like pdf or docx"),
    ],
)
def test_spec_problems_are_plain_and_translated(attribute, value, english):
    kind = "attachment" if attribute == "extensions" else "text"
    field = {"key": "name", "type": kind, "label": "Name", attribute: value}
    assert spec_problems(field) == {attribute: english}
    use_language("zh_CN")
    (chinese,) = spec_problems(field).values()
    assert chinese != english and not chinese.startswith(("Input", "Value error"))
