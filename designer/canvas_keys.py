"""The canvas's keyboard: one table from key to canvas command."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QKeySequence

if TYPE_CHECKING:
    from designer.canvas import Canvas

Key = Qt.Key
Mod = Qt.KeyboardModifier
STANDARD: list[tuple[QKeySequence.StandardKey, Callable[[Canvas], None]]] = [
    (QKeySequence.StandardKey.Delete, lambda canvas: canvas.delete_selected()),
    (QKeySequence.StandardKey.Copy, lambda canvas: canvas.copy_selected()),
    (QKeySequence.StandardKey.Paste, lambda canvas: canvas.paste()),
]
KEYS: dict[tuple[Qt.Key, Qt.KeyboardModifier], Callable[[Canvas], None]] = {
    (Key.Key_Backspace, Mod.NoModifier): lambda canvas: canvas.delete_selected(),
    (Key.Key_D, Mod.ControlModifier): lambda canvas: canvas.duplicate_selected(),
    (Key.Key_Up, Mod.AltModifier): lambda canvas: canvas.move_selected(-1),
    (Key.Key_Down, Mod.AltModifier): lambda canvas: canvas.move_selected(1),
    (Key.Key_Left, Mod.AltModifier): lambda canvas: canvas.move_selected(-1),
    (Key.Key_Right, Mod.AltModifier): lambda canvas: canvas.move_selected(1),
    (Key.Key_Up, Mod.NoModifier): lambda canvas: canvas.select_neighbour(-1),
    (Key.Key_Down, Mod.NoModifier): lambda canvas: canvas.select_neighbour(1),
    (Key.Key_Left, Mod.NoModifier): lambda canvas: canvas.select_neighbour(-1),
    (Key.Key_Right, Mod.NoModifier): lambda canvas: canvas.select_neighbour(1),
}


def handle_key(canvas: Canvas, event: QKeyEvent) -> bool:
    """Run the command bound to the key; ``False`` when none is."""
    for standard, command in STANDARD:
        if event.matches(standard):
            command(canvas)
            return True
    modifiers = event.modifiers() & ~Mod.KeypadModifier
    command = KEYS.get((Key(event.key()), modifiers))
    if command is None:
        return False
    command(canvas)
    return True
