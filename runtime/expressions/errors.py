"""The one exception the formula language raises, so callers catch a single type."""

from __future__ import annotations


class ExpressionError(ValueError):
    """A formula is malformed, ill-typed or failed while computing.

    ``message`` is short plain English meant for the person who wrote the formula;
    ``position`` is the 0-based character offset it refers to, or None when the
    problem is not tied to one spot (e.g. the formula is too long).
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __repr__(self) -> str:
        return f"ExpressionError({self.message!r}, position={self.position!r})"
