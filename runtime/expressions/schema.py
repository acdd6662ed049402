"""Type names used by the checker, kept as plain strings so specs can store them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runtime.expressions.errors import Word

NUMBER = "number"
TEXT = "text"
DATE = "date"
DATETIME = "datetime"
TIME = "time"
BOOLEAN = "boolean"
LIST = "list"
ANY = "any"

SCALAR_TYPES: frozenset[str] = frozenset({NUMBER, TEXT, DATE, DATETIME, TIME, BOOLEAN, LIST, ANY})

# Wording used in error messages, so a nurse reads "a date" rather than "datetime"
# (a Word: translated where the message is shown; TRUE/FALSE is the formula's own).
TYPE_WORDS: dict[str, str] = {
    NUMBER: Word("a number"),
    TEXT: Word("text"),
    DATE: Word("a date"),
    DATETIME: Word("a date and time"),
    TIME: Word("a time"),
    BOOLEAN: "TRUE/FALSE",
    LIST: Word("a list"),
    ANY: Word("any value"),
}
A_TABLE = Word("a table")


@dataclass(frozen=True)
class TableType:
    """The type of a subtable field: its columns and their scalar types.

    A table is never a value on its own in a formula; only ``table.column``
    inside an aggregate (SUM, AVERAGE, MIN, MAX, COUNT) may use it.
    """

    columns: Mapping[str, str]


ExprType = str | TableType


def describe(type_: ExprType) -> str:
    """Say a type in plain words for error messages."""
    if isinstance(type_, TableType):
        return A_TABLE
    return TYPE_WORDS.get(type_, type_)
