"""The user of a throw-away workspace (the designer's preview), on both engines."""

from __future__ import annotations

from runtime.services.accounts.service import AccountService
from runtime.services.accounts.trial import add_trial_user
from runtime.services.org.service import OrgService


def test_a_trial_user_belongs_to_their_new_department(workspace):
    actor = add_trial_user(workspace, "preview", "Preview user", "Preview ward", is_admin=True)
    user = AccountService(workspace).get_user("PREVIEW")
    assert (user.id, user.display_name, user.is_admin, user.has_password) == (
        actor.user_id,
        "Preview user",
        True,
        False,
    )
    (ward,) = OrgService(workspace).user_departments("preview")
    assert ward.name == "Preview ward"
    assert actor.primary_department == ward.id and actor.department_ids == {ward.id}
    assert (actor.username, actor.display_name, actor.is_admin) == ("preview", "Preview user", True)
