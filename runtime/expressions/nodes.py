"""The immutable syntax tree produced by the parser.

Every node records ``pos``, the 0-based offset of the text it came from, so the
checker and evaluator can point at the offending spot. Walks here use an
explicit stack, so even a hand-built, very deep tree cannot exhaust Python's
recursion limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Number:
    """A numeric literal; always a Decimal so 0.1 + 0.2 is exactly 0.3."""

    value: Decimal
    pos: int = 0


@dataclass(frozen=True)
class String:
    """A text literal with ``""`` escapes already resolved."""

    value: str
    pos: int = 0


@dataclass(frozen=True)
class Boolean:
    """TRUE or FALSE."""

    value: bool
    pos: int = 0


@dataclass(frozen=True)
class Name:
    """A reference to a field of the record."""

    name: str
    pos: int = 0


@dataclass(frozen=True)
class Column:
    """``table.column``: the values of one subtable column over its rows."""

    table: str
    column: str
    pos: int = 0


@dataclass(frozen=True)
class Unary:
    """Unary ``-`` or ``+``."""

    op: str
    operand: Node
    pos: int = 0


@dataclass(frozen=True)
class Binary:
    """An infix operator: arithmetic, ``&`` or a comparison."""

    op: str
    left: Node
    right: Node
    pos: int = 0


@dataclass(frozen=True)
class Call:
    """A function call; ``name`` is upper-cased since names are case-insensitive."""

    name: str
    args: tuple[Node, ...]
    pos: int = 0


Node = Number | String | Boolean | Name | Column | Unary | Binary | Call


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of ``node``."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def tree_depth(node: Node) -> int:
    """Depth of the tree (a leaf is 1), computed without recursion."""
    deepest = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children(current))
    return deepest


def names_used(node: Node) -> set[str]:
    """Top-level field names referenced; ``items.cost`` contributes ``items``."""
    found: set[str] = set()
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Name):
            found.add(current.name)
        elif isinstance(current, Column):
            found.add(current.table)
        stack.extend(children(current))
    return found
