"""The one policy: may this operator do this action to this target, and does it need a second approver?

``decide(operator=…, action=…, target=…)`` returns a :class:`Decision` whose ``reason`` and ``approval_reason``
are plain sentences a template can show. Callers describe the change with a :class:`Change` action name and a
:class:`Target` (what the target *is* upstream, read live); the policy never talks to an instance itself.

Rules (roles from ``apps.accounts.roles``):

* viewers (and operators without a role) change nothing;
* an upstream account that holds admin anywhere (a ToolJet workspace admin or super admin, a Retool admin) is
  *protected*: only an admin operator may change it, whatever the change;
* e-mail changes, granting admin (a role, an admin group, a new user created as admin), membership of admin groups
  (inviting someone into one too), group deletion and access grants at the admin level (Retool ``own``, granted
  or revoked) are for admin operators only; helpdesk may create users without admin and grant or revoke
  ``use``/``edit`` on ordinary groups;
* an operator whose scope does not cover the connection may not change anything on it (``apps.accounts.scope``).

A second approver is needed (``ADMINUI_PLAN_APPROVAL_RULES``, defaults to all four) for ``grant_admin`` (granting
admin), ``protected_target`` (any change to a protected admin account), ``production_offboarding`` (offboarding on a
production connection) and ``group_delete``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied

from apps.accounts.roles import READ_ONLY, Perm
from apps.accounts.scope import operator_scope


class Change:
    """Action names the policy knows (the plan registry maps each of its entries onto one of these)."""

    USER_CREATE = "user.create"
    USER_PROFILE = "user.profile"
    USER_EMAIL = "user.email"
    USER_ROLE = "user.role"
    USER_STATUS = "user.status"
    USER_METADATA = "user.metadata"
    USER_WORKSPACE_REMOVE = "user.workspace_remove"
    USER_WORKSPACE_ADD = "user.workspace_add"
    USER_WORKSPACE_GROUPS = "user.workspace_groups"
    USER_ATTRIBUTE = "user.attribute"
    GROUP_MEMBER_ADD = "group.member_add"
    GROUP_MEMBER_REMOVE = "group.member_remove"
    GROUP_MEMBER_ADMIN = "group.member_admin"
    GROUP_DELETE = "group.delete"
    INVITE_CREATE = "invite.create"
    INVITE_REVOKE = "invite.revoke"
    INVITE_RENEW = "invite.renew"
    GROUP_ACCESS_GRANT = "group.access_grant"
    GROUP_ACCESS_REVOKE = "group.access_revoke"
    USER_ACCESS_REVOKE = "user.access_revoke"

    ALL = (
        USER_CREATE,
        USER_PROFILE,
        USER_EMAIL,
        USER_ROLE,
        USER_STATUS,
        USER_METADATA,
        USER_WORKSPACE_REMOVE,
        USER_WORKSPACE_ADD,
        USER_WORKSPACE_GROUPS,
        USER_ATTRIBUTE,
        GROUP_MEMBER_ADD,
        GROUP_MEMBER_REMOVE,
        GROUP_MEMBER_ADMIN,
        GROUP_DELETE,
        INVITE_CREATE,
        INVITE_REVOKE,
        INVITE_RENEW,
        GROUP_ACCESS_GRANT,
        GROUP_ACCESS_REVOKE,
        USER_ACCESS_REVOKE,
    )


APPROVAL_RULES = ("grant_admin", "protected_target", "production_offboarding", "group_delete")


@dataclass(frozen=True)
class Target:
    """What a change is about, as read upstream. ``protected``: the account holds admin anywhere on its instance.
    ``admin_group``: the group the change is about grants admin. ``grants_admin``: the change itself makes someone
    admin. ``offboarding``: the change takes a person's access away (archive, disable). ``admin_level``: the change
    grants or takes away admin-level access to apps (Retool's ``own``), which is not admin of the instance."""

    connection: Any = None
    kind: str = "user"
    protected: bool = False
    admin_group: bool = False
    grants_admin: bool = False
    offboarding: bool = False
    admin_level: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    needs_approval: bool = False
    approval_reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def is_protected_account(user: Any) -> bool:
    """A remote user (``apps.providers.base.RemoteUser``) that holds admin anywhere on its instance."""
    if getattr(user, "is_admin", False):
        return True
    if (getattr(user, "user_type", None) or "").lower() in ("instance", "super_admin", "superadmin"):
        return True
    return any((m.role or "") == "admin" for m in getattr(user, "workspaces", ()) or ())


def is_admin_group(name: str) -> bool:
    """A group whose membership makes someone admin (Retool's group named admin)."""
    return (name or "").strip().lower() == "admin"


# -- operator scopes --------------------------------------------------------------------------------------------


def scope_covers(operator: Any, connection: Any) -> bool:
    """True when the operator's scope (environments and/or connections, ``apps.accounts.scope``) covers the
    connection."""
    return connection is None or operator_scope(operator).covers(connection)


# -- the decision ------------------------------------------------------------------------------------------------


def _rules() -> frozenset[str]:
    return frozenset(getattr(settings, "ADMINUI_PLAN_APPROVAL_RULES", APPROVAL_RULES))


def operator_is_admin(operator: Any) -> bool:
    return bool(operator is not None and operator.has_perm(Perm.GRANT_ADMIN))


def _approval(action: str, target: Target) -> str:
    rules = _rules()
    if target.grants_admin and "grant_admin" in rules:
        return "Granting admin needs a second approver."
    if target.protected and "protected_target" in rules:
        return "This account holds admin upstream: a change to it needs a second approver."
    production = getattr(target.connection, "environment", "") == "production"
    if target.offboarding and production and "production_offboarding" in rules:
        return "Offboarding on a production instance needs a second approver."
    if action == Change.GROUP_DELETE and "group_delete" in rules:
        return "Deleting a group needs a second approver."
    return ""


def decide(*, operator: Any, action: str, target: Target) -> Decision:
    """May ``operator`` do ``action`` to ``target``, and does it need a second approver?"""
    if action not in Change.ALL:
        raise ValueError(f"unknown policy action {action!r}")
    if operator is None or not operator.has_perm(Perm.CHANGE_PEOPLE):
        return Decision(False, READ_ONLY)
    if not scope_covers(operator, target.connection):
        name = getattr(target.connection, "name", "this instance")
        return Decision(False, f"Your scope does not cover {name}.")
    admin = operator_is_admin(operator)
    if not admin:
        if action == Change.USER_EMAIL:
            return Decision(False, "Only admin operators can change an e-mail address.")
        if target.grants_admin:
            return Decision(False, "Only admin operators can grant admin rights.")
        if target.protected:
            return Decision(False, "This account holds admin upstream; only admin operators can change it.")
        if target.admin_group and action in (Change.INVITE_CREATE, Change.INVITE_RENEW):
            return Decision(False, "Only admin operators can invite someone into an admin group.")
        if target.admin_group:
            return Decision(False, "Only admin operators can change the membership of an admin group.")
        if action == Change.GROUP_DELETE:
            return Decision(False, "Only admin operators can delete groups.")
        if target.admin_level:
            return Decision(False, "Only admin operators can grant or take away “own” access.")
    approval = _approval(action, target)
    return Decision(True, "", needs_approval=bool(approval), approval_reason=approval)


def enforce(*, operator: Any, action: str, target: Target) -> Decision:
    """``decide`` for a change about to be sent: raises ``PermissionDenied`` with the policy's reason (a 403 with
    that reason, and a denied audit row) when it is refused; returns the decision otherwise."""
    decision = decide(operator=operator, action=action, target=target)
    if not decision.allowed:
        raise PermissionDenied(decision.reason)
    return decision
