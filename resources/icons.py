"""Icons by qtawesome name ("mdi6.plus", "fa5s.table"), loading only the fonts used.

``qtawesome.icon`` loads and checksums all twelve bundled icon fonts on its first
call: about 40 ms before the first window can paint, for the one font (mdi6) the
app uses. :func:`icon` takes the same names and options but loads a font the first
time one of its icons is asked for, into its own ``IconicFont``. A prefix this
module does not know (a font added to qtawesome later) falls back to
``qtawesome.icon``.
"""

from __future__ import annotations

import qtawesome
from PySide6.QtGui import QIcon
from qtawesome.iconic_font import IconicFont

#: prefix → (prefix, font file, charmap file), as qtawesome bundles them.
_BUNDLED = {entry[0]: entry for entry in getattr(qtawesome, "_BUNDLED_FONTS", ())}
_fonts: dict[str, IconicFont] = {}


def icon(name: str, **options: object) -> QIcon:
    """The icon ``name`` (``prefix.glyph``); options as for ``qtawesome.icon``.

    An unknown name raises (qtawesome's ``Exception``): names in our code must exist.
    """
    prefix = name.partition(".")[0]
    font = _font(prefix)
    if font is None:
        return qtawesome.icon(name, **options)
    return font.icon(name, **options)


def icon_or(name: str | None, fallback: str, **options: object) -> QIcon:
    """The icon ``name`` chosen by an app's author, else ``fallback`` when it is
    empty or no font has it (a typo in a package must not stop the app)."""
    if name:
        try:
            return icon(name, **options)
        except Exception:  # qtawesome raises a bare Exception for unknown names
            pass
    return icon(fallback, **options)


def _font(prefix: str) -> IconicFont | None:
    font = _fonts.get(prefix)
    if font is None and prefix in _BUNDLED:
        font = _fonts[prefix] = IconicFont(_BUNDLED[prefix])
    return font
