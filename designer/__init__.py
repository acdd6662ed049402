"""The Qt designer: document (AppSpec + undo stack), palette, canvas, inspector."""
