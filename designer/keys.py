"""Keys made from labels: what the designer proposes when something is created.

A key is an identifier (``^[a-z][a-z0-9_]{0,39}$``) that names a column or table,
so it must be unique in its scope and never reserved. Labels are free text in any
language; an ASCII slug is used when the label has ASCII letters ("Repair cost" →
``repair_cost``), else ``field_N`` (Chinese labels), numbered from 1.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from runtime.spec.reserved import is_reserved
from widgets.base import KEY_RE

MAX_KEY_LENGTH = 40
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(label: str) -> str:
    """The ASCII letters and digits of ``label`` joined by ``_``; ``""`` if it has no letters."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    text = _NOT_SLUG.sub("_", ascii_text.lower()).strip("_")
    if not any(char.isalpha() for char in text):
        return ""
    if not text[0].isalpha():
        text = "f_" + text  # keys start with a letter: "3rd floor" → f_3rd_floor
    return text[:MAX_KEY_LENGTH].rstrip("_")


def is_free(key: str, taken: Collection[str]) -> bool:
    """Whether ``key`` is valid, unused in its scope and not reserved."""
    return bool(KEY_RE.match(key)) and key not in taken and not is_reserved(key)


def with_suffix(base: str, number: int) -> str:
    """``base_number``, shortening ``base`` so the result stays within 40 characters."""
    suffix = f"_{number}"
    return base[: MAX_KEY_LENGTH - len(suffix)].rstrip("_") + suffix


def unique_key(base: str, taken: Collection[str]) -> str:
    """``base`` itself when free, else the first free ``base_2``, ``base_3``…"""
    if is_reserved(base) and base.startswith("fw_"):
        base = "f_" + base  # every fw_… is reserved, whatever the suffix
    if is_free(base, taken):
        return base
    number = 2
    while not is_free(with_suffix(base, number), taken):
        number += 1
    return with_suffix(base, number)


def numbered_key(prefix: str, taken: Collection[str]) -> str:
    """The first free ``prefix_N`` counting from 1 (``field_1``, ``field_2``…)."""
    number = 1
    while not is_free(with_suffix(prefix, number), taken):
        number += 1
    return with_suffix(prefix, number)


def key_from_label(label: str, taken: Collection[str], prefix: str = "field") -> str:
    """A free key for something labelled ``label``: its slug, or ``prefix_N``."""
    base = slug(label)
    return unique_key(base, taken) if base else numbered_key(prefix, taken)
