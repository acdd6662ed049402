"""Icons by qtawesome name, each font loaded on first use."""

from __future__ import annotations

import pytest

from resources import icons


def test_icons_of_two_fonts_render(qapp):
    for name in ("mdi6.plus", "fa5s.table"):
        assert not icons.icon(name, color="#37474f").pixmap(16, 16).isNull()
    assert set(icons._fonts) >= {"mdi6", "fa5s"}
    assert "ph" not in icons._fonts  # fonts nobody asked for stay unloaded


def test_an_unknown_name_in_our_code_raises(qapp):
    with pytest.raises(Exception, match="no-such-glyph"):
        icons.icon("mdi6.no-such-glyph")


@pytest.mark.parametrize("chosen", [None, "", "mdi6.no-such-glyph", "nofont.table"])
def test_an_authors_bad_icon_falls_back(qapp, chosen):
    """A form icon from a package that no font has shows the default icon."""
    fallback = icons.icon("mdi6.file-document-outline").pixmap(16, 16).toImage()
    shown = icons.icon_or(chosen, "mdi6.file-document-outline").pixmap(16, 16).toImage()
    assert shown == fallback
