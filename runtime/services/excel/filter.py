"""``--where`` for exports: a formula-language condition translated into a Filter.

Only a simple subset is understood — a comparison of a field with a literal
(``=  <>  <  <=  >  >=``), ``ISBLANK(field)``, a checkbox field on its own, and
``AND(...)``, ``OR(...)``, ``NOT(...)`` of those. The expression is parsed by
:mod:`runtime.expressions` and translated node by node into
``Condition``/``AllOf``/``AnyOf``; it is never evaluated, and anything else is
refused with one line.
"""

from __future__ import annotations

from collections.abc import Mapping

from resources.messages import tr
from runtime.expressions import ExpressionError, parse
from runtime.expressions.nodes import Binary, Boolean, Call, Name, Number, String, Unary
from runtime.services.excel.common import ExcelError
from runtime.spec.formula_messages import formula_message
from runtime.store.query import AllOf, AnyOf, Condition, Filter, Operator
from widgets.base import FieldSpecBase, FieldValueError
from widgets.registry import FieldTypeRegistry, default_registry

_OPS: dict[str, Operator] = {"=": "eq", "<>": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_FLIPPED: dict[Operator, Operator] = {
    "eq": "eq",
    "ne": "ne",
    "lt": "gt",
    "le": "ge",
    "gt": "lt",
    "ge": "le",
}
_NEGATED: dict[Operator, Operator] = {
    "eq": "ne",
    "ne": "eq",
    "lt": "ge",
    "le": "gt",
    "gt": "le",
    "ge": "lt",
    "is_empty": "not_empty",
    "not_empty": "is_empty",
}


class WhereError(ExcelError):
    pass


def filter_from_expression(
    text: str,
    fields: Mapping[str, FieldSpecBase],
    registry: FieldTypeRegistry = default_registry,
) -> Filter:
    """Translate ``text`` over ``fields`` (key -> spec, the fields one may filter on)."""
    try:
        node = parse(text)
    except ExpressionError as error:
        raise WhereError(tr("--where: {error}").format(error=formula_message(error))) from None
    return _Translator(fields, registry).node(node)


class _Translator:
    def __init__(self, fields, registry) -> None:
        self.fields = fields
        self.registry = registry

    def node(self, node) -> Filter:
        if isinstance(node, Call):
            if node.name in ("AND", "OR") and node.args:
                parts = tuple(self.node(arg) for arg in node.args)
                return AllOf(parts) if node.name == "AND" else AnyOf(parts)
            if node.name == "NOT" and len(node.args) == 1:
                return _negate(self.node(node.args[0]))
            if node.name == "ISBLANK" and len(node.args) == 1 and isinstance(node.args[0], Name):
                return Condition(self.field(node.args[0]).key, "is_empty")
            raise WhereError(
                tr("--where supports only simple conditions: {name}(...)").format(name=node.name)
            )
        if isinstance(node, Binary) and node.op in _OPS:
            op = _OPS[node.op]
            if isinstance(node.left, Name):
                name, literal = node.left, node.right
            elif isinstance(node.right, Name):
                name, literal, op = node.right, node.left, _FLIPPED[op]
            else:
                raise WhereError(
                    tr(
                        "--where supports only simple conditions: "
                        "a comparison needs a field on one side"
                    )
                )
            spec = self.field(name)
            value = self.literal(literal)
            if value is None:
                return Condition(spec.key, "is_empty" if op == "eq" else "not_empty")
            field_type = self.registry.of(spec)
            if field_type.expression_type(spec) in ("list", "table"):
                raise WhereError(
                    tr("--where: '{field}' holds several values; it can't be compared").format(
                        field=spec.key
                    )
                )
            try:
                coerced = field_type.coerce(spec, value)
            except FieldValueError as error:
                text = tr("--where: {field}: {error}")
                raise WhereError(text.format(field=spec.key, error=error.message)) from None
            return Condition(spec.key, op, coerced)
        if isinstance(node, Name):
            spec = self.field(node)
            if self.registry.of(spec).expression_type(spec) == "boolean":
                return Condition(spec.key, "eq", True)
        raise WhereError(
            tr(
                "--where supports only simple conditions: "
                'use comparisons like severity = "high", ISBLANK(x), AND/OR/NOT'
            )
        )

    def field(self, node: Name) -> FieldSpecBase:
        spec = self.fields.get(node.name)
        if spec is None:
            text = tr("--where: no field '{field}' you may filter on")
            raise WhereError(text.format(field=node.name))
        return spec

    def literal(self, node):
        if isinstance(node, (Number, String, Boolean)):
            return None if isinstance(node, String) and node.value == "" else node.value
        if isinstance(node, Unary) and isinstance(node.operand, Number):
            return -node.operand.value if node.op == "-" else node.operand.value
        raise WhereError(
            tr("--where supports only simple conditions: compare a field with a literal value")
        )


def _negate(node: Filter) -> Filter:
    if isinstance(node, AllOf):
        return AnyOf(tuple(_negate(part) for part in node.parts))
    if isinstance(node, AnyOf):
        return AllOf(tuple(_negate(part) for part in node.parts))
    return Condition(node.field, _NEGATED[node.op], node.value)
