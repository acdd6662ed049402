"""Tokenizer: turns formula text into a flat list of tokens.

Written by hand (no regex-driven eval of anything) so every character that is
not part of the language is rejected with its exact position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runtime.expressions.errors import ExpressionError

TokenKind = Literal["number", "string", "ident", "op", "(", ")", ",", ".", "end"]

# Longest first so "<=" wins over "<".
OPERATORS: tuple[str, ...] = ("<=", ">=", "<>", "=", "<", ">", "+", "-", "*", "/", "&")
PUNCTUATION: frozenset[str] = frozenset({"(", ")", ",", "."})
WHITESPACE: frozenset[str] = frozenset(" \t\r\n")


@dataclass(frozen=True)
class Token:
    """One token: its kind, source text (or decoded string value) and offset."""

    kind: TokenKind
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``end`` token."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in WHITESPACE:
            i += 1
        elif (char.isascii() and char.isdigit()) or (char == "." and _digit_at(text, i + 1)):
            i = _number(text, i, tokens)
        elif char == '"':
            i = _string(text, i, tokens)
        elif char.isascii() and (char.isalpha() or char == "_"):
            i = _identifier(text, i, tokens)
        elif char in PUNCTUATION:
            tokens.append(Token(char, char, i))  # type: ignore[arg-type]
            i += 1
        else:
            i = _operator(text, i, tokens)
    tokens.append(Token("end", "", len(text)))
    return tokens


def _digit_at(text: str, i: int) -> bool:
    return i < len(text) and text[i].isascii() and text[i].isdigit()


def _number(text: str, start: int, tokens: list[Token]) -> int:
    """Digits with at most one decimal point; no exponent (``1e9`` is not a number)."""
    i = start
    while _digit_at(text, i):
        i += 1
    if i < len(text) and text[i] == ".":
        i += 1
        while _digit_at(text, i):
            i += 1
    tokens.append(Token("number", text[start:i], start))
    return i


def _string(text: str, start: int, tokens: list[Token]) -> int:
    """A double-quoted string where ``""`` stands for one quote."""
    parts: list[str] = []
    i = start + 1
    while i < len(text):
        if text[i] == '"':
            if i + 1 < len(text) and text[i + 1] == '"':
                parts.append('"')
                i += 2
                continue
            tokens.append(Token("string", "".join(parts), start))
            return i + 1
        parts.append(text[i])
        i += 1
    raise ExpressionError("text is missing its closing quote", start)


def _identifier(text: str, start: int, tokens: list[Token]) -> int:
    i = start
    while i < len(text) and text[i].isascii() and (text[i].isalnum() or text[i] == "_"):
        i += 1
    tokens.append(Token("ident", text[start:i], start))
    return i


def _operator(text: str, start: int, tokens: list[Token]) -> int:
    for op in OPERATORS:
        if text.startswith(op, start):
            tokens.append(Token("op", op, start))
            return start + len(op)
    raise _unknown_character(text[start], start)


def _unknown_character(char: str, pos: int) -> ExpressionError:
    """Characters people coming from Python or other tools try get a pointed hint."""
    if char == "^":
        return ExpressionError("there is no power operator '^'; multiply instead", pos)
    if char == "'":
        return ExpressionError('text goes in double quotes, like "abc"', pos)
    if char == ";":
        return ExpressionError("separate function arguments with ',' not ';'", pos)
    return ExpressionError("unexpected character {char}", pos, char=repr(char))
