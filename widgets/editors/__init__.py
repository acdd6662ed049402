"""Qt editors of the field types, one module per type; reached via ``create_editor``."""
