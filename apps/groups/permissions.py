"""Who may do what with groups. Views and services ask these; templates get the booleans.

* viewers read;
* helpdesk (``Perm.CHANGE_PEOPLE``) adds and removes members of ordinary groups;
* admins (``Perm.MANAGE_GROUPS``) create, edit permissions and delete groups;
* the Retool ``admin`` group's membership makes people instance admins: ``Perm.GRANT_ADMIN`` only.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from apps.accounts.roles import Perm
from apps.providers.base import RemoteGroup
from apps.providers.retool import vocabulary as retool


def is_admin_group(group: RemoteGroup) -> bool:
    """The group whose members are instance admins (Retool's built-in ``admin``)."""
    return group.is_builtin and group.name == retool.ADMIN_GROUP


def can_manage_groups(user) -> bool:
    return user.has_perm(Perm.MANAGE_GROUPS)


def can_change_members(user, group: RemoteGroup) -> bool:
    if not user.has_perm(Perm.CHANGE_PEOPLE):
        return False
    return not is_admin_group(group) or user.has_perm(Perm.GRANT_ADMIN)


def can_edit_group(user, group: RemoteGroup) -> bool:
    """Settings, rename and delete: admins only, and the admin group only with GRANT_ADMIN too."""
    if not can_manage_groups(user):
        return False
    return not is_admin_group(group) or user.has_perm(Perm.GRANT_ADMIN)


def require_member_change(user, group: RemoteGroup) -> None:
    if not can_change_members(user, group):
        raise PermissionDenied(
            "Only admins may change the members of the admin group."
            if is_admin_group(group)
            else "You may not change group members."
        )


def require_group_edit(user, group: RemoteGroup | None = None) -> None:
    if group is None:
        if not can_manage_groups(user):
            raise PermissionDenied("Only admins may create, edit or delete groups.")
        return
    if not can_edit_group(user, group):
        raise PermissionDenied("Only admins may create, edit or delete groups.")
