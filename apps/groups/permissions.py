"""Who may do what with groups. Views and services ask these; templates get the booleans. Membership changes and
deletion are the one policy's (``apps.accounts.policy.decide``) answers; creating and editing groups is a role's.

* viewers read;
* helpdesk (``Perm.CHANGE_PEOPLE``) adds and removes members of ordinary groups, never of an account that holds
  admin upstream;
* admins (``Perm.MANAGE_GROUPS``) create, edit permissions and delete groups;
* the Retool ``admin`` group's membership makes people instance admins: admin operators only.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from apps.accounts.policy import Change, Decision, Target, decide, enforce, is_protected_account
from apps.accounts.roles import Perm
from apps.providers.base import RemoteGroup
from apps.providers.retool import vocabulary as retool


def is_admin_group(group: RemoteGroup) -> bool:
    """The group whose members are instance admins (Retool's built-in ``admin``)."""
    return group.is_builtin and group.name == retool.ADMIN_GROUP


def can_manage_groups(user) -> bool:
    return user.has_perm(Perm.MANAGE_GROUPS)


def member_target(connection, group: RemoteGroup, member: Any = None) -> Target:
    """The policy's view of a membership change: the group (admin or not) and, when known, the member read live
    upstream (protected when they hold admin anywhere)."""
    return Target(
        connection=connection,
        kind="group",
        admin_group=is_admin_group(group),
        protected=member is not None and is_protected_account(member),
    )


def member_change_decision(user, group: RemoteGroup, connection=None) -> Decision:
    """May ``user`` change who is in ``group`` at all (the page's add/remove buttons)?"""
    return decide(operator=user, action=Change.GROUP_MEMBER_ADD, target=member_target(connection, group))


def can_change_members(user, group: RemoteGroup, connection=None) -> bool:
    return member_change_decision(user, group, connection).allowed


def can_edit_group(user, group: RemoteGroup) -> bool:
    """Settings, rename and delete: admins only, and the admin group only with GRANT_ADMIN too."""
    if not can_manage_groups(user):
        return False
    return not is_admin_group(group) or user.has_perm(Perm.GRANT_ADMIN)


def require_member_change(user, action: str, connection, group: RemoteGroup, member: Any) -> None:
    """Refuse (PermissionDenied with the policy's reason) before anything is sent upstream."""
    enforce(operator=user, action=action, target=member_target(connection, group, member))


def require_group_edit(user, group: RemoteGroup | None = None) -> None:
    if group is None:
        if not can_manage_groups(user):
            raise PermissionDenied("Only admins may create, edit or delete groups.")
        return
    if not can_edit_group(user, group):
        raise PermissionDenied("Only admins may create, edit or delete groups.")
