"""Writes for groups. Each service owns the provider call and exactly one audit row (success, failure
or denied), reads the object first for ``before``, and updates the directory index after membership changes."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied

from apps.accounts.policy import Change, enforce
from apps.audit.models import AuditEvent
from apps.audit.services import audited
from apps.connections.clients import get_provider
from apps.directory.services import index_remove_group, index_rename_group, index_upsert_user
from apps.groups.permissions import member_target, require_group_edit, require_member_change
from apps.groups.selectors import GroupsScope, group_version
from apps.providers.base import RemoteGroup
from apps.providers.errors import ConflictError, ProviderError

logger = logging.getLogger(__name__)

Action = AuditEvent.Action


def _provider(scope: GroupsScope):
    return get_provider(scope.connection)


def _snapshot(group: RemoteGroup | None) -> dict[str, Any] | None:
    if group is None:
        return None
    return {
        "id": group.id,
        "name": group.name,
        "workspace_id": group.workspace_id,
        "permissions": dict(group.permissions),
        "granular_permissions": [dict(g) for g in group.granular_permissions],
        "members": len(group.members),
        "updated_at": group.updated_at,
    }


def _target(scope: GroupsScope, group_id: str, name: str = "") -> dict[str, str]:
    where = f" ({scope.workspace.name})" if scope.workspace else ""
    return {"target_type": "group", "target_id": str(group_id), "target_repr": f"{name or group_id}{where}"}


def _read_group(provider, scope: GroupsScope, event, group_id: str) -> RemoteGroup:
    """Read the group a change is about and name it in the audit row."""
    group = provider.get_group(group_id, workspace_id=scope.workspace_id)
    event.target_repr = _target(scope, group_id, group.name)["target_repr"]
    return group


def _index_user(scope: GroupsScope, user_id: str) -> None:
    """Refresh the directory index row of one user after a membership change (best effort: the change itself
    succeeded; a stale index row is refreshed by the next sync)."""
    try:
        with _provider(scope) as provider:
            user = provider.get_user(user_id)
        index_upsert_user(connection=scope.connection, user=user)
    except ProviderError as exc:
        logger.warning("index refresh of %s failed after a group change: %s", user_id, exc.message)


# -- create / update / delete ----------------------------------------------------------------------------------


def group_create(
    *,
    scope: GroupsScope,
    actor,
    name: str,
    permissions: Mapping[str, Any] | None = None,
    granular_permissions: Sequence[Mapping[str, Any]] | None = None,
    reason: str = "",
    ticket: str = "",
) -> RemoteGroup:
    with audited(
        action=Action.GROUP_CREATE,
        actor=actor,
        connection=scope.connection,
        reason=reason,
        ticket=ticket,
        extra={"workspace_id": scope.workspace_id} if scope.workspace_id else None,
        **_target(scope, "", name),
    ) as event:
        require_group_edit(actor)
        event.after = {
            "name": name,
            "permissions": dict(permissions or {}),
            "granular_permissions": [dict(g) for g in granular_permissions or ()],
        }
        group = _provider(scope).create_group(
            name,
            workspace_id=scope.workspace_id,
            permissions=permissions,
            granular_permissions=granular_permissions,
        )
        event.target_id = group.id
        event.after = _snapshot(group)
    return group


def group_update(
    *,
    scope: GroupsScope,
    actor,
    group_id: str,
    expected_version: str,
    name: str | None = None,
    permissions: Mapping[str, Any] | None = None,
    granular_permissions: Sequence[Mapping[str, Any]] | None = None,
    reason: str = "",
    ticket: str = "",
) -> RemoteGroup:
    """Rename and change permissions. The group is read first; if it changed since the form was rendered
    (``expected_version`` from :func:`group_version`) a :class:`ConflictError` carries the current group."""
    provider = _provider(scope)
    with audited(
        action=Action.GROUP_UPDATE,
        actor=actor,
        connection=scope.connection,
        reason=reason,
        ticket=ticket,
        **_target(scope, group_id),
    ) as event:
        current = _read_group(provider, scope, event, group_id)
        event.before = _snapshot(current)
        require_group_edit(actor, current)
        if expected_version and group_version(current) != expected_version:
            raise ConflictError(
                "This group was changed upstream since you opened the form. Review its current settings below "
                "and save again.",
                current=_snapshot(current),
                expected=expected_version,
            )
        group = provider.update_group(
            group_id,
            workspace_id=scope.workspace_id,
            name=name if name is not None and name != current.name else None,
            permissions=permissions,
            granular_permissions=granular_permissions or None,
            expected_updated_at=current.updated_at,
        )
        event.after = _snapshot(group)
    if group.name != current.name:
        index_rename_group(
            connection=scope.connection,
            workspace_id=scope.workspace_id,
            group_id=group_id,
            old=current.name,
            new=group.name,
        )
    return group


def group_delete(
    *, scope: GroupsScope, actor, group_id: str, reason: str = "", ticket: str = ""
) -> RemoteGroup:
    provider = _provider(scope)
    with audited(
        action=Action.GROUP_DELETE,
        actor=actor,
        connection=scope.connection,
        reason=reason,
        ticket=ticket,
        **_target(scope, group_id),
    ) as event:
        current = _read_group(provider, scope, event, group_id)
        event.before = _snapshot(current)
        require_group_edit(actor, current)
        if current.builtin:
            raise PermissionDenied(f"“{current.name}” is a built-in group: it cannot be deleted.")
        enforce(operator=actor, action=Change.GROUP_DELETE, target=member_target(scope.connection, current))
        provider.delete_group(group_id, workspace_id=scope.workspace_id)
        event.after = None
    index_remove_group(
        connection=scope.connection, workspace_id=scope.workspace_id, group_id=group_id, name=current.name
    )
    return current


# -- membership ------------------------------------------------------------------------------------------------


def _member(provider, scope: GroupsScope, actor, action: str, group: RemoteGroup, user_id: str):
    """The member read live upstream, once the policy allows ``actor`` to change their membership of ``group``
    (PermissionDenied with its reason otherwise, before anything is sent)."""
    user = provider.get_user(user_id)
    require_member_change(actor, action, scope.connection, group, user)
    return user


def _membership_groups(
    scope: GroupsScope, event, user, expected: Sequence[str] | None
) -> tuple[Any, list[str]]:
    """The user's group ids in this workspace, recorded as ``before``; a ConflictError when they are not in the
    workspace or their groups changed since the page was loaded (``expected``)."""
    membership = user.membership(scope.workspace_id or "")
    if membership is None:
        raise ConflictError(
            f"{user.email} is not a member of the workspace {scope.workspace.name if scope.workspace else ''}; "
            "add them to the workspace first."
        )
    current = [g.id for g in membership.groups]
    event.extra["user_email"] = user.email
    event.before = {"user": user.email, "groups": sorted(current)}
    if expected is not None and sorted(current) != sorted(expected):
        raise ConflictError(
            f"{user.email}'s groups in this workspace changed since the page was loaded. Reload and try again.",
            current=sorted(current),
            expected=sorted(expected),
        )
    return user, current


def group_member_add(
    *,
    scope: GroupsScope,
    actor,
    group_id: str,
    user_id: str,
    is_group_admin: bool = False,
    reason: str = "",
    ticket: str = "",
) -> RemoteGroup:
    provider = _provider(scope)
    with audited(
        action=Action.GROUP_MEMBER_ADD,
        actor=actor,
        connection=scope.connection,
        reason=reason,
        ticket=ticket,
        extra={"user_id": user_id},
        **_target(scope, group_id),
    ) as event:
        group = _read_group(provider, scope, event, group_id)
        member = _member(provider, scope, actor, Change.GROUP_MEMBER_ADD, group, user_id)
        if scope.members_by_membership:
            # the person was picked from a search, so there is no page state of their groups to compare: adding
            # is refused only when they are already in this group
            user, current = _membership_groups(scope, event, member, None)
            if group.id in current:
                raise ConflictError(f"{user.email} is already a member of {group.name}.")
            new = [*current, group.id]
            provider.patch_membership(user.id, scope.workspace_id, groups=new)
            event.after = {"user": user.email, "groups": sorted(new)}
        else:
            before = next((m for m in group.members if m.id == user_id), None)
            event.before = {
                "member": before is not None,
                "is_group_admin": bool(before and before.is_group_admin),
            }
            if before is not None:
                raise ConflictError(f"{before.email or user_id} is already a member of {group.name}.")
            group = provider.add_group_members(group_id, [user_id], is_group_admin=is_group_admin)
            after = next((m for m in group.members if m.id == user_id), None)
            event.extra["user_email"] = after.email if after else ""
            event.after = {
                "member": after is not None,
                "is_group_admin": bool(after and after.is_group_admin),
            }
    _index_user(scope, user_id)
    return group


def group_member_remove(
    *,
    scope: GroupsScope,
    actor,
    group_id: str,
    user_id: str,
    expected_groups: Sequence[str] | None = None,
    reason: str = "",
    ticket: str = "",
) -> RemoteGroup:
    provider = _provider(scope)
    with audited(
        action=Action.GROUP_MEMBER_REMOVE,
        actor=actor,
        connection=scope.connection,
        reason=reason,
        ticket=ticket,
        extra={"user_id": user_id},
        **_target(scope, group_id),
    ) as event:
        group = _read_group(provider, scope, event, group_id)
        member = _member(provider, scope, actor, Change.GROUP_MEMBER_REMOVE, group, user_id)
        if scope.members_by_membership:
            user, current = _membership_groups(scope, event, member, expected_groups)
            if group.id not in current:
                raise ConflictError(f"{user.email} is no longer a member of {group.name}.")
            new = [g for g in current if g != group.id]
            provider.patch_membership(user.id, scope.workspace_id, groups=new)
            event.after = {"user": user.email, "groups": sorted(new)}
        else:
            before = next((m for m in group.members if m.id == user_id), None)
            if before is None:
                raise ConflictError(f"That user is no longer a member of {group.name}.")
            event.extra["user_email"] = before.email or ""
            event.before = {"member": True, "is_group_admin": before.is_group_admin}
            group = provider.remove_group_member(group_id, user_id)
            event.after = {"member": any(m.id == user_id for m in group.members)}
    _index_user(scope, user_id)
    return group


def group_member_admin(
    *,
    scope: GroupsScope,
    actor,
    group_id: str,
    user_id: str,
    is_group_admin: bool,
    reason: str = "",
    ticket: str = "",
) -> RemoteGroup:
    """Retool: make a member group admin (or not)."""
    provider = _provider(scope)
    with audited(
        action=Action.GROUP_MEMBER_ADMIN,
        actor=actor,
        connection=scope.connection,
        reason=reason,
        ticket=ticket,
        extra={"user_id": user_id},
        **_target(scope, group_id),
    ) as event:
        group = _read_group(provider, scope, event, group_id)
        _member(provider, scope, actor, Change.GROUP_MEMBER_ADMIN, group, user_id)
        before = next((m for m in group.members if m.id == user_id), None)
        if before is None:
            raise ConflictError(f"That user is no longer a member of {group.name}.")
        event.extra["user_email"] = before.email or ""
        event.before = {"is_group_admin": before.is_group_admin}
        group = provider.set_group_admin(group_id, user_id, is_group_admin)
        after = next((m for m in group.members if m.id == user_id), None)
        event.after = {"is_group_admin": bool(after and after.is_group_admin)}
    return group
