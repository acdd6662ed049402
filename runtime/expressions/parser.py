"""Recursive-descent parser with Excel precedence and hard size limits.

Precedence, loosest first: comparisons, ``&``, ``+ -``, ``* /``, unary ``- +``.
All binary operators are left-associative. The nesting counter is checked
before every recursive step, so hostile input such as ``"(" * 10000`` ends in
an ExpressionError long before Python's own recursion limit.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from runtime.expressions.errors import ExpressionError
from runtime.expressions.lexer import Token, tokenize
from runtime.expressions.nodes import (
    Binary,
    Boolean,
    Call,
    Column,
    Name,
    Node,
    Number,
    String,
    Unary,
    tree_depth,
)

MAX_SOURCE_LENGTH = 2000
MAX_NESTING = 50  # parentheses, function calls and unary signs inside each other
MAX_TREE_DEPTH = 200  # long operator chains like a+b+c+... also deepen the tree
MAX_NUMBER = Decimal(10) ** 15

FIELD_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
COMPARISONS: frozenset[str] = frozenset({"=", "<>", "<", "<=", ">", ">="})
# What the parser expected where a token did not fit (see ``_Parser.unexpected``).
VALUE, CLOSE, COLUMN, CLOSE_CALL = "value", ")", "column", "call"


def parse(text: str) -> Node:
    """Parse formula ``text`` into a tree, or raise ExpressionError."""
    if not isinstance(text, str):
        raise ExpressionError("a formula must be text")
    if len(text) > MAX_SOURCE_LENGTH:
        raise ExpressionError(
            "formula is too long (over {limit} characters)", limit=MAX_SOURCE_LENGTH
        )
    if not text.strip():
        raise ExpressionError("formula is empty", 0)
    node = _Parser(tokenize(text)).parse_formula()
    if tree_depth(node) > MAX_TREE_DEPTH:
        raise ExpressionError("formula is too complex; split it into smaller ones")
    return node


class _Parser:
    """Consumes the token list; one method per precedence level."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    # -- helpers ---------------------------------------------------------
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at_op(self, ops: frozenset[str] | set[str]) -> bool:
        return self.current.kind == "op" and self.current.text in ops

    def expect(self, kind: str, expected: str, name: str = "") -> Token:
        if self.current.kind != kind:
            raise self.unexpected(expected, name)
        return self.advance()

    def unexpected(self, expected: str = "", name: str = "") -> ExpressionError:
        """The current token does not fit; ``expected`` says what should be there:
        ``VALUE``, ``CLOSE`` (a ')'), ``COLUMN`` (after a '.') or ``CLOSE_CALL`` (the ')'
        after the arguments of function ``name``), or nothing in particular."""
        token = self.current
        if token.kind == "end":
            return _missing(expected, name, token.pos)
        shown = f'"{token.text}"' if token.kind == "string" else f"'{token.text}'"
        pos = token.pos
        if expected == VALUE:
            return ExpressionError("unexpected {token}; expected a value", pos, token=shown)
        if expected == CLOSE:
            return ExpressionError("unexpected {token}; a ')' is missing", pos, token=shown)
        if expected == COLUMN:
            return ExpressionError(
                "unexpected {token}; expected a column name after '.'", pos, token=shown
            )
        if expected == CLOSE_CALL:
            return ExpressionError(
                "unexpected {token}; a ')' is missing after the arguments of {name}",
                pos,
                token=shown,
                name=name,
            )
        return ExpressionError("unexpected {token}", pos, token=shown)

    def enter(self, pos: int) -> None:
        """Count one nesting level; refuse before the stack can grow unbounded."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionError(
                "formula is nested too deeply (over {limit} levels)", pos, limit=MAX_NESTING
            )

    # -- grammar ---------------------------------------------------------
    def parse_formula(self) -> Node:
        node = self.expression()
        if self.current.kind != "end":
            raise self.unexpected()
        return node

    def expression(self) -> Node:
        self.enter(self.current.pos)
        node = self.binary_level(0)
        self.depth -= 1
        return node

    def binary_level(self, level: int) -> Node:
        """Parse one left-associative level of ``LEVELS`` (loop, not recursion)."""
        if level == len(LEVELS):
            return self.unary()
        ops = LEVELS[level]
        node = self.binary_level(level + 1)
        while self.at_op(ops):
            op = self.advance()
            right = self.binary_level(level + 1)
            node = Binary(op.text, node, right, op.pos)
        return node

    def unary(self) -> Node:
        if self.at_op({"-", "+"}):
            op = self.advance()
            self.enter(op.pos)
            operand = self.unary()
            self.depth -= 1
            return Unary(op.text, operand, op.pos)
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.advance()
            return _number(token)
        if token.kind == "string":
            self.advance()
            return String(token.text, token.pos)
        if token.kind == "ident":
            self.advance()
            return self.identifier(token)
        if token.kind == "(":
            self.advance()
            node = self.expression()
            self.expect(")", CLOSE)
            return node
        raise self.unexpected(VALUE)

    def identifier(self, token: Token) -> Node:
        """A function call, ``table.column``, TRUE/FALSE or a field name."""
        if self.current.kind == "(":
            return self.call(token)
        if self.current.kind == ".":
            self.advance()
            column = self.expect("ident", COLUMN)
            _check_key(token)
            _check_key(column)
            return Column(token.text, column.text, token.pos)
        if token.text.upper() in ("TRUE", "FALSE"):
            return Boolean(token.text.upper() == "TRUE", token.pos)
        _check_key(token)
        return Name(token.text, token.pos)

    def call(self, name: Token) -> Call:
        self.advance()  # "("
        args: list[Node] = []
        if self.current.kind != ")":
            args.append(self.expression())
            while self.current.kind == ",":
                self.advance()
                args.append(self.expression())
        self.expect(")", CLOSE_CALL, name.text.upper())
        return Call(name.text.upper(), tuple(args), name.pos)


LEVELS: tuple[frozenset[str], ...] = (
    COMPARISONS,
    frozenset({"&"}),
    frozenset({"+", "-"}),
    frozenset({"*", "/"}),
)


def _missing(expected: str, name: str, pos: int) -> ExpressionError:
    """The formula ended where ``expected`` (see ``_Parser.unexpected``) should come."""
    if expected == VALUE:
        return ExpressionError("expected a value", pos)
    if expected == CLOSE:
        return ExpressionError("a ')' is missing", pos)
    if expected == COLUMN:
        return ExpressionError("expected a column name after '.'", pos)
    if expected == CLOSE_CALL:
        return ExpressionError("a ')' is missing after the arguments of {name}", pos, name=name)
    return ExpressionError("formula ends too early", pos)


def _number(token: Token) -> Number:
    try:
        value = Decimal(token.text)
    except InvalidOperation:  # pragma: no cover - the lexer only emits digits and one dot
        raise ExpressionError("'{text}' is not a number", token.pos, text=token.text) from None
    if abs(value) >= MAX_NUMBER:
        raise ExpressionError("number too large", token.pos)
    return Number(value, token.pos)


def _check_key(token: Token) -> None:
    """Field and column keys are lowercase identifiers, never dunder names."""
    if FIELD_KEY.fullmatch(token.text) is None:
        raise ExpressionError("'{name}' is not a valid field name", token.pos, name=token.text)
