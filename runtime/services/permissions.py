"""The permission policy: what one user may do in one app (pure, Qt-free).

A role (``roles`` in ``app.json``) grants per form a list of actions
(``create read update delete export import``), a row scope (``own``,
``department``, ``department_tree``, ``all``) and per-field modes (``hidden``,
``readonly``). A user may hold several roles in an app; the policy is their
union:

* **Deny by default.** A form none of the user's roles grants allows no action;
  a role the app no longer defines, or a grant naming a form or field the app no
  longer has, is ignored.
* **Actions** are the union over the roles.
* **Scope** of an action is the widest among the roles granting that action.
* **Field mode** is the most permissive among the roles granting the form (or,
  with ``action=``, granting that action): ``edit`` (``None`` here) beats
  ``readonly`` beats ``hidden``. A field a grant does not list is hidden, so a
  field added in a new version is invisible until the builder grants it.
* **Formulas** show what they are computed from: a field whose formula reads
  (directly or through other formulas) a field hidden from the actor is hidden
  too, whatever the grants say about it (``formwright check`` warns about them).
* **Administrators** (``actor.is_admin``, or the built-in app role ``admin``)
  may do everything, scope ``all``, no field restrictions.

Enforcement (the repository and the record service) uses:

* :meth:`Policy.require` before any action → :class:`PermissionDenied`;
* :meth:`Policy.row_scope`, which the repository turns into an extra WHERE on
  every list, count, export and single-record read of the form's table;
* :meth:`Policy.row_allowed` (or :func:`in_scope`) on a record already loaded
  (update, delete, restore), using its ``created_by``/``owner_department``;
* :meth:`Policy.redact` on values before they leave the service, and
  :meth:`Policy.check_writes` on the keys a create/update sets.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from resources.messages import tr
from runtime.services.actor import Actor
from runtime.services.errors import PermissionDenied
from runtime.spec.formula_inputs import hidden_input
from runtime.spec.models import ACTIONS, AppSpec, FormSpec, Grant, Scope
from runtime.store.query import RowScope
from widgets.registry import FieldTypeRegistry, default_registry

#: Scopes from narrowest to widest.
SCOPES: tuple[str, ...] = ("own", "department", "department_tree", "all")
#: Field modes from most to least permissive (``None``: visible and writable).
FIELD_MODES: tuple[str | None, ...] = (None, "readonly", "hidden")
#: How a grant's ``fields`` entry reads as a mode; a field it does not list is hidden.
_GRANT_MODES: dict[str, str | None] = {"edit": None, "readonly": "readonly", "hidden": "hidden"}
#: The app role every app has without declaring it.
ADMIN_ROLE = "admin"


class Policy:
    """What ``actor`` may do in the app ``spec``. Cheap to build; no database."""

    def __init__(
        self, spec: AppSpec, actor: Actor, registry: FieldTypeRegistry = default_registry
    ) -> None:
        self.spec = spec
        self.actor = actor
        self.registry = registry
        role_keys = actor.roles_in(spec.id)
        self.full_access = actor.is_admin or ADMIN_ROLE in role_keys
        #: The actor's roles this app defines (unknown keys dropped), in spec order.
        self.roles = [role for role in spec.roles if role.key in role_keys]
        self._modes: dict[tuple[str, str, str | None], str | None] = {}

    # -- grants ---------------------------------------------------------------
    def _form(self, form: str) -> FormSpec | None:
        return self.spec.form(form)

    def grants(self, form: str, action: str | None = None) -> list[Grant]:
        """The grants of the actor's roles on an existing form (that grant
        ``action``, or any action when ``None``)."""
        if self._form(form) is None:
            return []
        found = []
        for role in self.roles:
            grant = role.grants.get(form)
            if grant is None or not grant.actions:
                continue
            if action is None or action in grant.actions:
                found.append(grant)
        return found

    def actions(self, form: str) -> frozenset[str]:
        """Every action the actor may take on a form."""
        if self._form(form) is None:
            return frozenset()
        if self.full_access:
            return frozenset(ACTIONS)
        return frozenset(action for grant in self.grants(form) for action in grant.actions)

    def allowed(self, form: str, action: str) -> bool:
        return action in self.actions(form)

    def require(self, form: str, action: str) -> None:
        """Raise :class:`PermissionDenied` unless the action is allowed."""
        if not self.allowed(form, action):
            spec = self._form(form)
            title = spec.title if spec is not None else form
            user = self.actor.display_name or self.actor.username
            raise PermissionDenied(_denied(action).format(user=user, action=action, form=title))

    def readable_forms(self) -> list[str]:
        """Form keys the actor may read, in app order (for menus)."""
        return [form.key for form in self.spec.forms if self.allowed(form.key, "read")]

    # -- row scope ------------------------------------------------------------
    def scope(self, form: str, action: str) -> Scope | None:
        """The widest scope among the roles granting ``action`` (``None``: denied)."""
        if self._form(form) is None:
            return None
        if self.full_access:
            return "all"
        scopes = [grant.scope for grant in self.grants(form, action)]
        return max(scopes, key=SCOPES.index) if scopes else None

    def row_scope(self, form: str, action: str) -> RowScope:
        """The rows ``action`` reaches, for the repository to apply as SQL."""
        scope = self.scope(form, action)
        if scope is None:
            return RowScope("none")
        return RowScope(scope, self.actor.user_id, scope_departments(scope, self.actor))

    def row_allowed(
        self, form: str, action: str, created_by: int | None, owner_department: int | None
    ) -> bool:
        """Whether one loaded record is within the action's scope."""
        return in_scope(self.scope(form, action), self.actor, created_by, owner_department)

    def require_row(
        self, form: str, action: str, created_by: int | None, owner_department: int | None
    ) -> None:
        self.require(form, action)
        if not self.row_allowed(form, action, created_by, owner_department):
            own = self.scope(form, action) == "own"
            raise PermissionDenied(_row_denied(action, own).format(action=action))

    # -- fields ---------------------------------------------------------------
    def field_mode(self, form: str, field: str, action: str | None = None) -> str | None:
        """``None`` (visible and writable), ``"readonly"`` or ``"hidden"``.

        The most permissive mode among the roles granting the form (or
        ``action``). Unknown forms and fields, and forms not granted, are hidden.
        """
        spec = self._form(form)
        if spec is None or spec.field(field) is None:
            return "hidden"
        if self.full_access:
            return None
        key = (form, field, action)
        if key not in self._modes:
            mode = self._granted_mode(form, field, action)
            if mode != "hidden":
                # A formula shows what it is computed from (bonus = salary * 0.1):
                # one reading a field hidden from the actor is hidden too.
                def hidden(name: str) -> bool:
                    return self._granted_mode(form, name, action) == "hidden"

                if hidden_input(spec, field, hidden, self.registry) is not None:
                    mode = "hidden"
            self._modes[key] = mode
        return self._modes[key]

    def _granted_mode(self, form: str, field: str, action: str | None) -> str | None:
        """The mode the grants give one field, before formulas are considered."""
        modes = [
            _GRANT_MODES[grant.fields.get(field, "hidden")] for grant in self.grants(form, action)
        ]
        if not modes:
            return "hidden"
        return min(modes, key=FIELD_MODES.index)

    def _value_fields(self, form: str) -> list[str]:
        spec = self._form(form)
        if spec is None:
            return []
        keys = []
        for item in spec.fields:
            field_type = self.registry.of(item)
            if field_type.has_value or field_type.children(item):
                keys.append(item.key)
        return keys

    def visible_fields(self, form: str) -> list[str]:
        """Top-level value fields and subtables the actor sees, in form order."""
        return [key for key in self._value_fields(form) if self.field_mode(form, key) != "hidden"]

    def writable_fields(self, form: str, action: str = "update") -> list[str]:
        """Fields the actor may set when doing ``action`` (create or update)."""
        if not self.allowed(form, action):
            return []
        return [
            key for key in self._value_fields(form) if self.field_mode(form, key, action) is None
        ]

    def check_writes(
        self,
        form: str,
        keys: Iterable[str],
        action: str = "update",
        writable: Collection[str] | None = None,
    ) -> None:
        """Raise :class:`PermissionDenied` naming fields the actor may not set.

        ``writable``: the fields the actor may set in the record written, when the
        record writer decides them per record (default: :meth:`writable_fields`).
        """
        self.require(form, action)
        if writable is None:
            writable = set(self.writable_fields(form, action))
        fields = set(self._value_fields(form))  # unknown keys are the validator's to report
        refused = [key for key in keys if key in fields and key not in writable]
        if refused:
            spec = self._form(form)
            labels = []
            for key in refused:
                item = spec.field(key) if spec is not None else None
                labels.append(item.label if item is not None and item.label else key)
            raise PermissionDenied(
                tr("you may not change {fields} in '{form}'").format(
                    fields=", ".join(labels), form=spec.title if spec else form
                )
            )

    def redact(self, form: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` without the fields hidden from the actor."""
        if self.full_access:
            return dict(values)
        visible = set(self.visible_fields(form))
        return {key: value for key, value in values.items() if key in visible}


def _denied(action: str) -> str:
    """ "{user} may not … '{form}'" for an action (a translated template)."""
    templates = {
        "create": tr("{user} may not create records in '{form}'"),
        "read": tr("{user} may not see '{form}'"),
        "update": tr("{user} may not change records of '{form}'"),
        "delete": tr("{user} may not delete records of '{form}'"),
        "export": tr("{user} may not export '{form}'"),
        "import": tr("{user} may not import into '{form}'"),
    }
    return templates.get(action) or tr("{user} may not {action} '{form}'")


def _row_denied(action: str, own: bool) -> str:
    """Why a record outside the actor's row scope is refused (a translated template)."""
    if own:
        templates = {
            "read": tr("this record belongs to another user; you may not see it"),
            "update": tr("this record belongs to another user; you may not change it"),
            "delete": tr("this record belongs to another user; you may not delete it"),
            "export": tr("this record belongs to another user; you may not export it"),
        }
        return templates.get(action) or tr(
            "this record belongs to another user; you may not {action} it"
        )
    templates = {
        "read": tr("this record belongs to another department; you may not see it"),
        "update": tr("this record belongs to another department; you may not change it"),
        "delete": tr("this record belongs to another department; you may not delete it"),
        "export": tr("this record belongs to another department; you may not export it"),
    }
    return templates.get(action) or tr(
        "this record belongs to another department; you may not {action} it"
    )


def scope_departments(scope: str | None, actor: Actor) -> frozenset[int]:
    """The department ids a ``department``/``department_tree`` scope reaches."""
    if scope == "department":
        return actor.department_ids
    if scope == "department_tree":
        return actor.department_tree_ids | actor.department_ids
    return frozenset()


def in_scope(
    scope: str | None, actor: Actor, created_by: int | None, owner_department: int | None
) -> bool:
    """Whether a record already loaded is within a scope (the repository applies
    the same rule as SQL for lists and counts)."""
    if scope == "all":
        return True
    if scope == "own":
        return actor.user_id is not None and created_by == actor.user_id
    if scope in ("department", "department_tree"):
        return owner_department is not None and owner_department in scope_departments(scope, actor)
    return False
