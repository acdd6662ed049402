"""The inspector's expression editor explains a bad formula in the builder's language."""

from __future__ import annotations

from PySide6.QtTest import QTest

from resources.i18n import install_language
from tests.designer.test_inspector import inspector

__all__ = ["inspector"]  # the fixture


def problem_of(document, inspector, text: str) -> str:
    """What the ``visible_when`` editor of the repair request's fault says of ``text``."""
    document.set_selection([document.field_path("request", "fault")])
    editor = inspector.rows["visible_when"].editor
    editor.line.clear()
    QTest.keyClicks(editor.line, text)
    return editor.problem()


def test_formula_errors_in_the_expression_editor_follow_the_language(document, inspector):
    english = {
        "labour + fault": "cannot add a number and text; use & to join text",
        "labour > ": "expected a value",
        "NOPE(labour)": "unknown function 'NOPE'",
    }
    chinese = {
        "labour + fault": "数字和文字不能相加；连接文字请用 &",
        "labour > ": "缺少一个值",
        "NOPE(labour)": "未知的函数“NOPE”",
    }
    assert {text: problem_of(document, inspector, text) for text in english} == english
    install_language("zh_CN")  # the designer conftest puts English back afterwards
    assert {text: problem_of(document, inspector, text) for text in chinese} == chinese
