"""Names for Excel export and import: the one resolver of :mod:`runtime.services.names`.

Kept as a module of its own so the Excel services' imports stay as they were;
``NameResolver`` is :class:`runtime.services.names.NameResolver`.
"""

from __future__ import annotations

from runtime.services.names import NameResolver

__all__ = ["NameResolver"]
