"""Accounts: users, passwords, sessions and the administrator's account operations."""
