"""Administration screens: users, departments and the audit log (admins only)."""

from runtime.ui.admin.window import AdminWindow

__all__ = ["AdminWindow"]
