"""Field-type library: one module per type in ``types/``, Qt editors in ``editors/``."""
