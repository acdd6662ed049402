"""The one exception the formula language raises, so callers catch a single type."""

from __future__ import annotations

from typing import Any


class Word(str):
    """English wording the code picks to fill a message (a kind of value such as
    "a number", an operation such as "adding"): a whole phrase, never a fragment of
    sentence, so whoever shows the message may translate it like the template."""

    __slots__ = ()


class ExpressionError(ValueError):
    """A formula is malformed, ill-typed or failed while computing.

    ``template`` is a short plain English sentence meant for the person who wrote the
    formula, with named placeholders filled from ``values``; ``message`` is that
    sentence filled in (``template.format(**values)``). The package itself never
    translates: whoever shows the error to a person translates ``template`` (and any
    :class:`Word` among ``values``) and fills it afterwards. ``position`` is the
    0-based character offset the error refers to, or None when the problem is not
    tied to one spot (e.g. the formula is too long)::

        ExpressionError("unknown function '{name}'", pos, name="FOO")
    """

    def __init__(self, template: str, position: int | None = None, **values: Any) -> None:
        message = template.format(**values) if values else template
        super().__init__(message)
        self.message = message
        self.template = template
        self.values = values
        self.position = position

    def __repr__(self) -> str:
        return f"ExpressionError({self.message!r}, position={self.position!r})"
