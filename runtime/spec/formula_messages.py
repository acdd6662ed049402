"""A formula error in the reader's language.

The formula language (:mod:`runtime.expressions`) is a leaf that imports nothing of
ours, so it cannot call ``tr``: its :class:`ExpressionError` carries an English
``template`` with named placeholders and their ``values``, and its ``message`` is
always the English sentence. Wherever such an error is shown to a person, this turns
it into the current message language (``resources.messages``); only then, never
while formulas are being evaluated.
"""

from __future__ import annotations

from resources.messages import tr
from runtime.expressions import ExpressionError
from runtime.expressions.errors import Word
from runtime.expressions.schema import describe


def formula_message(error: ExpressionError) -> str:
    """``error``'s sentence in the current language (its English message in English).

    The template is translated, then filled; values the formula code chose as words
    (:class:`Word`, e.g. "a number", "adding") are translated too, while names,
    operators and numbers from the formula are shown as they were written.
    """
    text = tr(error.template)
    if not error.values:
        return text
    values = {
        key: tr(value) if isinstance(value, Word) else value for key, value in error.values.items()
    }
    return text.format(**values)


def wrong_result_message(found: str, needed: str) -> str:
    """An expression whose type is not the one its place needs ("the expression
    gives a number, but TRUE/FALSE is needed"), in the current language."""
    return tr("the expression gives {found}, but {result} is needed").format(
        found=_type_word(found), result=_type_word(needed)
    )


def _type_word(type_: str) -> str:
    word = describe(type_)
    return tr(word) if isinstance(word, Word) else word
