"""Text patterns that run in time linear in the value, whatever the package says.

A package's ``pattern`` is checked on every save and every imported cell. Python's
``re`` backtracks: ``(a|aa)+$`` takes seconds on forty characters. Patterns run on
RE2 instead (google-re2: an automaton, linear time, bounded memory), which refuses
what it cannot bound: back-references, look-arounds, atomic groups.

Patterns are written in Python's syntax, so before RE2 sees one the few places where
the two differ are translated (outside and inside ``[...]``): ``\\uXXXX`` escapes,
``\\Z``, ``{,n}``, ``[`` inside a class (literal), and ``\\d \\w \\s`` keep Python's Unicode meaning (a Chinese name
is ``\\w+``), where RE2's would be ASCII only.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING

from resources.messages import tr

if TYPE_CHECKING:
    import re2

_DIGIT = r"\p{Nd}"
_WORD = r"\p{L}\p{N}\p{Mn}\p{Mc}_"
_SPACE = r"\t\n\x0b\f\r\x1c-\x1f\x85\p{Z}"
_CLASSES = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
_HEX = "0123456789abcdefABCDEF"


class PatternRefused(ValueError):
    """A pattern that cannot be used; the message is one sentence for the builder."""


@lru_cache(maxsize=1)
def _re2():
    """The RE2 module and its options, imported at the first pattern (not at start-up)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own line on stderr
    options.max_mem = 8 << 20
    return re2, options


def _escape(pattern: str, index: int, in_class: bool) -> tuple[str, int]:
    """RE2 text for the escape starting at ``pattern[index] == '\\\\'``, and its end."""
    letter = pattern[index + 1 : index + 2]
    for prefix, digits in (("u", 4), ("U", 8)):
        code = pattern[index + 2 : index + 2 + digits]
        if letter == prefix and len(code) == digits and all(c in _HEX for c in code):
            return "\\x{" + code + "}", index + 2 + digits
    if letter.lower() in _CLASSES:
        body = _CLASSES[letter.lower()]
        if letter.islower():
            return (body if in_class else "[" + body + "]"), index + 2
        if in_class:
            raise PatternRefused(tr("\\D, \\W and \\S cannot be used inside [...]"))
        return "[^" + body + "]", index + 2
    if letter == "Z" and not in_class:
        return "\\z", index + 2
    return pattern[index : index + 2], index + 2


def to_re2(pattern: str) -> str:
    """The RE2 spelling of a pattern written in Python's syntax."""
    out: list[str] = []
    index = 0
    in_class = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            text, index = _escape(pattern, index, in_class)
            out.append(text)
            continue
        if in_class:
            in_class = char != "]" or out[-1] in ("[", "[^")
            if char == "[":  # literal for Python; RE2 would read "[:alpha:]" as a class
                char = "\\["
        elif char == "[":
            in_class = True
            if pattern[index + 1 : index + 2] == "^":
                out.append("[^")
                index += 2
                continue
        elif char == "{" and re.match(r"\{,\d+\}", pattern[index:]):
            char = "{0"
        out.append(char)
        index += 1
    return "".join(out)


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re2._Regexp:
    """The compiled pattern, or :class:`PatternRefused` saying why it can't be used."""
    try:
        with warnings.catch_warnings():  # "possible nested set" and the like: not for users
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except re.error as error:
        raise PatternRefused(tr("not a valid pattern: {error}").format(error=error)) from None
    engine, options = _re2()
    try:
        return engine.compile(to_re2(pattern), options)
    except engine.error as error:
        reason = error.args[0] if error.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        text = tr(
            "this pattern cannot be checked in bounded time ({reason}); "
            "back-references, look-arounds and huge repeats are not supported"
        )
        raise PatternRefused(text.format(reason=reason)) from None


def pattern_matches(pattern: str, value: str) -> bool:
    """Whether the whole of ``value`` matches; linear in ``len(value)``."""
    return compile_pattern(pattern).fullmatch(value) is not None
