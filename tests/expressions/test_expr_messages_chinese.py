"""Formula errors follow the message language where they are shown to a person.

The formula language is a leaf without ``tr``: an :class:`ExpressionError` carries an
English template and its values, and ``runtime.spec.formula_messages`` translates
them when the error is shown. Each check runs the real path (parse, type check,
evaluate, the spec validator, ``--where``) in English, which must be exactly what it
always was, and in Simplified Chinese.
"""

from __future__ import annotations

import ast
import datetime as dt
import string
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import runtime.expressions as package
from resources.messages import load_strings, use_language
from runtime.expressions import ExpressionError, TableType, check, evaluate, parse
from runtime.services.excel.filter import WhereError, filter_from_expression
from runtime.spec import spec_problems
from runtime.spec.formula_messages import formula_message

SCOPE = {
    "qty": "number",
    "price": "number",
    "name": "text",
    "admitted": "date",
    "done": "boolean",
    "items": TableType({"cost": "number", "label": "text"}),
}


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Every test ends in English (the message language is process-wide)."""
    yield
    use_language("en")


def error_of(call: Callable[[], object]) -> ExpressionError:
    with pytest.raises(ExpressionError) as raised:
        call()
    return raised.value


def shown(error: ExpressionError, language: str) -> str:
    """``error`` as a person reading ``language`` sees it."""
    use_language(language)
    try:
        return formula_message(error)
    finally:
        use_language("en")


def both(error: ExpressionError) -> tuple[str, str]:
    """(English, Chinese) of ``error``; the English is also its ``message``."""
    english = shown(error, "en")
    assert english == error.message == str(error)
    return english, shown(error, "zh_CN")


# -- every template the leaf can raise is translated ---------------------------------


def _leaf_texts() -> tuple[dict[str, set[str]], set[str], list[str]]:
    """Templates of ``ExpressionError(...)`` (with the value names given at each
    site), constant ``Word(...)`` wordings, and sites whose template is not literal."""
    templates: dict[str, set[str]] = {}
    words: set[str] = set()
    not_literal: list[str] = []
    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in ("ExpressionError", "Word") or not node.args:
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                not_literal.append(f"{path.name}:{node.lineno}")
            elif node.func.id == "Word":
                words.add(first.value)
            else:
                names = {keyword.arg for keyword in node.keywords if keyword.arg}
                templates.setdefault(first.value, set()).update(names)
    return templates, words, not_literal


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_formula_error_template_has_a_chinese_translation():
    templates, words, not_literal = _leaf_texts()
    assert not_literal == []  # a template built at run time could not be found here
    assert len(templates) >= 60 and {"a number", "adding"} <= words
    strings = load_strings("zh_CN")
    assert sorted(text for text in [*templates, *words] if text not in strings) == []
    for template, given in templates.items():
        assert _placeholders(template) == given, template  # each site fills them all
        assert _placeholders(strings[template]) == given, template
    assert [word for word in words if _placeholders(word) or _placeholders(strings[word])] == []


# -- parse, check and evaluate ----------------------------------------------------------


def test_syntax_errors():
    cases = {
        "qty +": ("expected a value", "缺少一个值"),
        "SUM(qty": (
            "a ')' is missing after the arguments of SUM",
            "SUM 的参数后面缺少 ')'",
        ),
        "(qty 2": ("unexpected '2'; a ')' is missing", "此处应为 ')'，而不是 '2'"),
        "qty ^ 2": (
            "there is no power operator '^'; multiply instead",
            "没有乘方运算符 '^'，请改用乘法",
        ),
        "qty # 2": ("unexpected character '#'", "无法识别的字符 '#'"),
        '"abc': ("text is missing its closing quote", "文字缺少结尾的双引号"),
        "  ": ("formula is empty", "公式为空"),
        "(" * 60 + "1": (
            "formula is nested too deeply (over 50 levels)",
            "公式嵌套太深（超过 50 层）",
        ),
    }
    for text, expected in cases.items():
        assert both(error_of(lambda text=text: parse(text))) == expected, text


def test_type_errors():
    cases = {
        "nosuch > 1": ("unknown field 'nosuch'", "未知的字段“nosuch”"),
        "FOO(qty)": ("unknown function 'FOO'", "未知的函数“FOO”"),
        "ROUND(qty)": ("ROUND takes 2 arguments, got 1", "ROUND 需要 2 个参数，实际有 1 个"),
        "name + qty": (
            "cannot add text and a number; use & to join text",
            "文字和数字不能相加；连接文字请用 &",
        ),
        "qty = admitted": ("cannot compare a number with a date", "数字和日期不能比较"),
        "IF(name, 1, 2)": ("IF needs TRUE/FALSE, not text", "IF 需要 TRUE/FALSE，而不是文字"),
        "SUM(items.label)": ("SUM needs numbers, not text", "SUM 需要数字，而不是文字"),
        "items.cost + 1": (
            "items.cost can only be used inside SUM, AVERAGE, MIN, MAX or COUNT",
            "items.cost 只能用在 SUM、AVERAGE、MIN、MAX 或 COUNT 中",
        ),
        "MAX(qty, admitted)": ("MAX cannot mix a date and a number", "MAX 不能混用日期和数字"),
    }
    for text, expected in cases.items():
        assert both(error_of(lambda text=text: check(parse(text), SCOPE))) == expected, text


def test_evaluation_errors():
    record = {"qty": Decimal(5), "name": "bed 3", "admitted": dt.date(2024, 3, 1)}
    cases = {
        "qty / 0": ("division by zero", "不能除以 0"),
        "qty * name": ("multiplying needs a number, not text", "乘法 需要数字，而不是文字"),
        "admitted + admitted": ("cannot add two dates", "两个日期不能相加"),
        "ROUND(qty, 99)": (
            "ROUND digits must be between -15 and 15",
            "ROUND 的小数位数必须在 -15 到 15 之间",
        ),
    }
    for text, expected in cases.items():
        error = error_of(lambda text=text: evaluate(parse(text), record))
        assert both(error) == expected, text


def test_an_error_raised_while_chinese_is_shown_still_has_its_english_message():
    """The package never translates: ``message`` is English in any language."""
    use_language("zh_CN")
    error = error_of(lambda: check(parse("nosuch"), SCOPE))
    assert error.message == "unknown field 'nosuch'"
    assert formula_message(error) == "未知的字段“nosuch”"


def test_an_error_made_by_hand_is_shown_as_it_is():
    """Not a template of the package: untranslated, braces and all."""
    error = ExpressionError("odd {braces}", 3)
    assert error.message == error.template == "odd {braces}" and error.values == {}
    assert shown(error, "zh_CN") == "odd {braces}"


# -- where a person sees them -------------------------------------------------------------


def app_with(**attributes: str) -> dict:
    """A one-form app whose formula field ``total`` has ``attributes``."""
    return {
        "format": "formwright-app",
        "spec_version": 1,
        "id": "demo",
        "title": "Demo",
        "forms": [
            {
                "key": "main",
                "title": "Main",
                "fields": [
                    {"key": "qty", "type": "number", "label": "Qty"},
                    {"key": "note", "type": "text", "label": "Note"},
                    {"key": "total", "type": "formula", "label": "Total", **attributes},
                ],
            }
        ],
    }


def problems_in(language: str, data: dict) -> dict[str, str]:
    use_language(language)
    try:
        return {problem.path: problem.message for problem in spec_problems(data)}
    finally:
        use_language("en")


def test_the_spec_validator_reports_formula_errors_in_the_builders_language():
    data = app_with(expression="qty * note + ", visible_when="note > qty")
    english = problems_in("en", data)
    chinese = problems_in("zh_CN", data)
    assert english == {
        "forms[0].fields[2].expression": "expected a value",
        "forms[0].fields[2].visible_when": "cannot compare text with a number",
    }
    assert chinese == {
        "forms[0].fields[2].expression": "缺少一个值",
        "forms[0].fields[2].visible_when": "文字和数字不能比较",
    }


def test_where_syntax_errors_are_chinese_after_the_prefix():
    def refused() -> str:
        with pytest.raises(WhereError) as raised:
            filter_from_expression("qty >", {})
        return raised.value.message

    use_language("zh_CN")
    assert refused() == "--where：缺少一个值"
    use_language("en")
    assert refused() == "--where: expected a value"
