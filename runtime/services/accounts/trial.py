"""A user for a throw-away workspace, such as the designer's "Try it" preview."""

from __future__ import annotations

from runtime.services.actor import Actor
from runtime.store.accounts import insert_user, set_memberships
from runtime.store.audit import utc_now
from runtime.store.org import insert_department
from runtime.store.workspace import Workspace


def add_trial_user(
    workspace: Workspace,
    username: str,
    display_name: str,
    department_name: str,
    *,
    is_admin: bool = False,
) -> Actor:
    """Add a department and an active user whose only (primary) department it is,
    and return the :class:`Actor` the record services take.

    The user has no password (nobody logs in as them) and nothing is audited:
    this is for a workspace that is thrown away, not for real accounts (those
    are :class:`~runtime.services.accounts.service.AccountService`'s).
    """
    with workspace.engine.begin() as connection:
        department = insert_department(connection, name=department_name)
        user = insert_user(connection, username, display_name, utc_now(), is_admin=is_admin)
        set_memberships(connection, user, [department])
    return Actor(
        user_id=user,
        username=username,
        display_name=display_name,
        is_admin=is_admin,
        primary_department=department,
        department_ids=frozenset({department}),
    )
