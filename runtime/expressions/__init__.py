"""The formula language: an Excel-like expression grammar, checker and evaluator.

A leaf package: it imports nothing else of Formwright, so spec validation,
services and screens can all use it.

Public API::

    node = parse("IF(qty > 0, qty * price, 0)")       # ExpressionError on bad syntax
    result = check(node, {"qty": "number", "price": "number"})   # -> "number"
    value = evaluate(node, {"qty": 2, "price": Decimal("1.50")})  # -> Decimal("3.00")
    names_used(node)                                   # -> {"qty", "price"}

Types are the strings ``number text date datetime time boolean list any`` or a
:class:`TableType` for a subtable (``items.cost`` is a column of table ``items``).
"""

from runtime.expressions.api import (
    ExpressionError,
    TableType,
    check,
    evaluate,
    names_used,
    parse,
)

__all__ = ["ExpressionError", "TableType", "check", "evaluate", "names_used", "parse"]
