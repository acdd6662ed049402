"""App-spec problems (what ``formwright check`` prints and the designer's problems
panel shows) follow the message language; the English stays as it was."""

from __future__ import annotations

import pytest

from resources.messages import use_language
from runtime.spec import SPEC_VERSION, SpecError, parse_app_spec, spec_problems
from runtime.spec.reserved import is_reserved, reserved_problem
from tests.runtime.test_spec import minimal_app


def broken_app() -> dict:
    """Duplicate and reserved keys, a self-referencing formula, a dangling view and
    role, a built-in role key and a multi-valued unique field."""
    return minimal_app(
        {"key": "a", "type": "text", "label": "A"},
        {"key": "a", "type": "number", "label": "A again"},
        {"key": "select", "type": "text", "label": "Select"},
        {"key": "x", "type": "formula", "label": "X", "expression": "y + 1"},
        {"key": "y", "type": "formula", "label": "Y", "expression": "x * 2"},
        {"key": "files", "type": "attachment", "label": "Files", "unique": True},
        {"key": "show", "type": "text", "label": "Show", "visible_when": "select"},
        views=[
            {"key": "v", "form": "main", "title": "V", "columns": ["zz"]},
            {"key": "w", "form": "ghost", "title": "W"},
        ],
        roles=[
            {"key": "admin", "title": "X"},
            {"key": "clerk", "title": "C", "grants": {"ghost": {"actions": ["read"]}}},
        ],
    )


def problems(data: dict) -> dict[str, str]:
    return {problem.path: problem.message for problem in spec_problems(data)}


ENGLISH = {
    "forms[0].fields[1].key": "duplicate field key 'a' in this form",
    "forms[0].fields[2].key": "'select' is a reserved word of SQL; choose another key",
    "forms[0].fields[3].expression": "the formula depends on itself: x → y → x",
    "forms[0].fields[5].unique": (
        "only a field holding one value (text, number, date…) can be unique; "
        "this one holds several or none"
    ),
    "forms[0].fields[6].visible_when": "the expression gives text, but TRUE/FALSE is needed",
    "views[0].columns[0]": "form 'main' has no field 'zz'",
    "views[1].form": "there is no form 'ghost'",
    "roles[0].key": "'admin' is a built-in role; choose another key",
    "roles[1].grants.ghost": "there is no form 'ghost'",
}

CHINESE = {
    "forms[0].fields[1].key": "此表单中的字段标识“a”重复",
    "forms[0].fields[2].key": "“select”是 SQL 的保留字，请换一个标识",
    "forms[0].fields[3].expression": "公式依赖了自身：x → y → x",
    "forms[0].fields[5].unique": (
        "只有存放单个值的字段（文字、数字、日期等）才能设为唯一；此字段存放多个值或不存放值"
    ),
    "forms[0].fields[6].visible_when": "表达式的结果是文字，但这里需要TRUE/FALSE",
    "views[0].columns[0]": "表单“main”中没有字段“zz”",
    "views[1].form": "没有表单“ghost”",
    "roles[0].key": "“admin”是内置角色，请换一个标识",
    "roles[1].grants.ghost": "没有表单“ghost”",
}


def test_cross_reference_problems_in_english_are_unchanged():
    found = problems(broken_app())
    assert {path: found.get(path) for path in ENGLISH} == ENGLISH


def test_cross_reference_problems_in_chinese_keep_their_paths():
    use_language("zh_CN")
    found = problems(broken_app())
    assert {path: found.get(path) for path in CHINESE} == CHINESE


def test_format_problems_in_chinese():
    use_language("zh_CN")
    with pytest.raises(SpecError) as caught:
        parse_app_spec({"format": "something-else"})
    assert caught.value.problems[0].message == (
        "这不是 Formwright 应用（format 必须为“formwright-app”）"
    )
    newer = minimal_app()
    newer["spec_version"] = SPEC_VERSION + 1
    with pytest.raises(SpecError) as caught:
        parse_app_spec(newer)
    assert caught.value.problems[0].message == (
        f"此应用由较新版本的 Formwright 制作（格式 {SPEC_VERSION + 1}）；"
        f"本版本最高只能读取格式 {SPEC_VERSION}，请更新 Formwright"
    )
    assert str(caught.value).startswith("应用无效：spec_version: 此应用由较新版本")


def test_the_error_summary_counts_the_rest_in_both_languages():
    with pytest.raises(SpecError) as caught:
        parse_app_spec(broken_app())
    english = str(caught.value)
    assert english.startswith("the app is not valid: forms[0].fields[1].key: duplicate field")
    assert english.endswith(f" (and {len(caught.value.problems) - 3} more)")
    use_language("zh_CN")
    with pytest.raises(SpecError) as caught:
        parse_app_spec(broken_app())
    chinese = str(caught.value)
    assert chinese.startswith("应用无效：forms[0].fields[1].key: 此表单中的字段标识“a”重复")
    assert chinese.endswith(f"（另有 {len(caught.value.problems) - 3} 个问题）")


def test_reserved_keys_are_one_sentence_in_either_language():
    assert reserved_problem("created_at") == (
        "'created_at' is a system column name; choose another key"
    )
    assert reserved_problem("note") is None and not is_reserved("note")
    assert is_reserved("fw_note") and is_reserved("select")
    use_language("zh_CN")
    assert reserved_problem("created_at") == "“created_at”是系统列名，请换一个标识"
