"""Icons table, styles and translations."""
