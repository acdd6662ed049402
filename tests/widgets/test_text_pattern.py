"""A text field's ``pattern`` runs in bounded time, whatever the package says."""

from __future__ import annotations

import time

import pytest

from widgets.base import FieldValueError
from widgets.types.text import FIELD_TYPE as TEXT

EVIL = "(a|aa)+$"


def _spec(pattern: str):
    return TEXT.new_spec("code", "Code", pattern=pattern, max_length=4000)


def _problems(pattern: str) -> list[str]:
    return [p.message for p in TEXT.check_spec(_spec(pattern)) if p.attribute == "pattern"]


def test_catastrophic_pattern_is_refused_or_fast():
    """``(a|aa)+$`` took 22 s on 41 characters with Python's backtracking engine."""
    if _problems(EVIL):
        return  # refused by check: never runs
    spec = _spec(EVIL)
    check = TEXT.cell_checker(spec)
    value = "a" * 3999 + "!"
    started = time.perf_counter()
    with pytest.raises(FieldValueError):
        TEXT.validate(spec, value)
    with pytest.raises(FieldValueError):
        check(value)
    long_value = "a" * 10_000 + "!"
    assert TEXT.pattern_matches(spec, long_value) is False
    assert time.perf_counter() - started < 0.1


@pytest.mark.parametrize(
    "pattern", [r"(a)\1", r"(?=a)a", r"(?<!x)a", r"(?P<n>a)(?P=n)", r"(?x) a b", r"(?>a+)"]
)
def test_check_refuses_patterns_it_cannot_bound(pattern):
    (message,) = _problems(pattern)
    assert "bounded time" in message


def test_check_still_refuses_broken_patterns():
    (message,) = _problems("[abc")
    assert "not a valid pattern" in message


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (r"EQ-\d{4}", "EQ-0042", "EQ-42"),
        (r"[\u4e00-\u9fff]{2,4}", "输液泵", "pump"),
        (r"\w+", "输液泵_b12", "输液 泵"),
        (r"\d{3}", "١٢٣", "12a"),
        (r"[\w-]+\Z", "a-泵", "a b"),
        (r"\S+\s\S+", "张\u3000三", "张三"),
        (r"a{,2}b", "aab", "aaab"),
        (r"(?i)ab[c]", "ABC", "abd"),
        (r"x[[:a]+", "x[:a", "xb"),
    ],
)
def test_patterns_keep_python_meaning(pattern, good, bad):
    """Classes keep Python's Unicode meaning (a Chinese name is ``\\w``)."""
    assert _problems(pattern) == []
    spec = _spec(pattern)
    TEXT.validate(spec, good)
    with pytest.raises(FieldValueError, match="expected format"):
        TEXT.validate(spec, bad)
