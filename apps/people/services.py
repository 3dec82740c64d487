"""People writes: every change to a user upstream.

Each change service owns the provider call and its one audit row (STYLE.md §4, §7): it reads the user first to fill
``before``, writes, reads again for ``after`` and updates the index row at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied

from apps.accounts.policy import Change, Decision, Target, decide, enforce, is_protected_account
from apps.audit.services import audited
from apps.connections.clients import get_provider
from apps.connections.locks import upstream_object_lock
from apps.connections.models import Connection
from apps.directory.services import index_upsert_user
from apps.providers.base import RemoteUser, WorkspaceAssignment
from apps.providers.errors import ConflictError, ProviderError

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------------------------
# Snapshots and fingerprints
# ---------------------------------------------------------------------------------------------------------------


def user_repr(user: RemoteUser) -> str:
    return f"{user.name or user.email} <{user.email}>"


def user_snapshot(user: RemoteUser) -> dict[str, Any]:
    """The parts of a user an audit row compares (no raw upstream body)."""
    return {
        "email": user.email,
        "name": user.name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "status": user.status,
        "is_admin": user.is_admin,
        "user_type": user.user_type,
        "workspaces": [
            {
                "id": m.workspace_id,
                "name": m.workspace_name,
                "role": m.role,
                "status": m.status,
                "groups": [g.name for g in m.groups],
            }
            for m in user.workspaces
        ],
        "groups": [g.name for g in user.groups] if not user.workspaces else [],
    }


def fingerprint(value: Any) -> str:
    """A short hash of what a form was rendered from (order-insensitive for mappings)."""
    if isinstance(value, Mapping):
        value = sorted((str(k), "" if v is None else str(v)) for k, v in value.items())
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def memberships_fingerprint(user: RemoteUser) -> str:
    return fingerprint(
        [
            (m.workspace_id, m.role, m.status, sorted(g.id for g in m.groups))
            for m in sorted(user.workspaces, key=lambda m: m.workspace_id)
        ]
    )


# ---------------------------------------------------------------------------------------------------------------
# The policy's view of a user (asked by every change below and by the detail page)
# ---------------------------------------------------------------------------------------------------------------


def user_policy_target(
    connection: Connection, user: RemoteUser | None, *, grants_admin: bool = False, offboarding: bool = False
) -> Target:
    """What the policy needs to know about a change to ``user`` (read live upstream; None for a new user)."""
    return Target(
        connection=connection,
        kind="user",
        protected=user is not None and is_protected_account(user),
        grants_admin=grants_admin,
        offboarding=offboarding,
    )


def user_decide(
    *, actor, action: str, connection: Connection, user: RemoteUser | None, **target: bool
) -> Decision:
    """The policy's answer for ``actor`` doing ``action`` to ``user`` (for pages: show it disabled with the reason)."""
    return decide(operator=actor, action=action, target=user_policy_target(connection, user, **target))


def _enforce(actor, action: str, connection: Connection, user: RemoteUser | None, **target: bool) -> None:
    """Refuse (PermissionDenied with the policy's reason) before anything is sent upstream."""
    enforce(operator=actor, action=action, target=user_policy_target(connection, user, **target))


def _audit(action: str, *, actor, connection: Connection, user_id: str, reason: str, ticket: str, **kw):
    return audited(
        action=action,
        actor=actor,
        connection=connection,
        target_type="user",
        target_id=user_id,
        reason=reason,
        ticket=ticket,
        **kw,
    )


def _observe_after_unknown(provider, connection: Connection, user_id: str, pending) -> None:
    """A write whose answer was lost: record what the user looks like now (the audit row's ``after``, so a reader
    can tell whether it happened) and refresh their index row. Best effort: the instance may still be unwell."""
    try:
        after = provider.get_user(user_id)
    except ProviderError:
        logger.warning("re-reading user %s on %s after an unknown outcome failed", user_id, connection.slug)
        return
    pending.after = user_snapshot(after)
    index_upsert_user(connection=connection, user=after)


def _user_change(
    action: str,
    *,
    actor,
    connection: Connection,
    user_id: str,
    reason: str,
    ticket: str,
    write: Callable[[Any, RemoteUser], None],
    extra: dict[str, Any] | None = None,
) -> RemoteUser:
    """One audited change of an existing user: read ``before``, ``write(provider, current)``, read ``after``,
    then update the index row."""
    with (
        get_provider(connection) as provider,
        _audit(
            action,
            actor=actor,
            connection=connection,
            user_id=user_id,
            reason=reason,
            ticket=ticket,
            extra=extra,
        ) as pending,
    ):
        current = provider.get_user(user_id)
        pending.before = user_snapshot(current)
        pending.target_repr = user_repr(current)
        try:
            write(provider, current)
        except ProviderError as exc:
            if exc.may_have_applied:
                _observe_after_unknown(provider, connection, user_id, pending)
            raise
        after = provider.get_user(user_id)
        pending.after = user_snapshot(after)
    index_upsert_user(connection=connection, user=after)
    return after


# ---------------------------------------------------------------------------------------------------------------
# Changes
# ---------------------------------------------------------------------------------------------------------------


def user_role_change(
    *,
    actor,
    connection: Connection,
    user_id: str,
    role: str,
    workspace_id: str | None = None,
    reason: str = "",
    ticket: str = "",
) -> RemoteUser:
    """ToolJet: the role in one workspace. Retool: ``admin`` = membership of the group named admin."""

    def write(provider, current: RemoteUser) -> None:
        _enforce(actor, Change.USER_ROLE, connection, current, grants_admin=role == "admin")
        membership = current.membership(workspace_id) if workspace_id else None
        if (membership.role if membership else current.role) == role:
            where = f" in {membership.workspace_name}" if membership and membership.workspace_name else ""
            raise ConflictError(f"{current.email} is already {role}{where}; nothing was changed.")
        provider.change_role(user_id, role, workspace_id=workspace_id)

    return _user_change(
        "user.role",
        actor=actor,
        connection=connection,
        user_id=user_id,
        reason=reason,
        ticket=ticket,
        extra={"role": role, "workspace_id": workspace_id},
        write=write,
    )


def user_status_change(
    *,
    actor,
    connection: Connection,
    user_id: str,
    status: str,
    workspace_id: str | None = None,
    reason: str = "",
    ticket: str = "",
) -> RemoteUser:
    """ToolJet: archive/reactivate the account, or one membership. Retool: disable/enable.

    Archiving a ToolJet account archives every membership too, and reactivating the account alone leaves them
    archived (the person could sign in nowhere while the console said "active"): reactivating the account also
    reactivates each archived membership."""

    def write(provider, current: RemoteUser) -> None:
        _enforce(actor, Change.USER_STATUS, connection, current, offboarding=status != "active")
        if workspace_id and status == "archived":
            provider.patch_membership(user_id, workspace_id, status="archived")
            return
        provider.set_user_status(user_id, status, workspace_id=workspace_id)
        if status == "active" and not workspace_id:
            for membership in current.workspaces:
                if membership.status == "archived":
                    provider.set_user_status(user_id, "active", workspace_id=membership.workspace_id)

    return _user_change(
        "user.status",
        actor=actor,
        connection=connection,
        user_id=user_id,
        reason=reason,
        ticket=ticket,
        extra={"status": status, "workspace_id": workspace_id},
        write=write,
    )


def user_create(
    *,
    actor,
    connection: Connection,
    email: str,
    first_name: str,
    last_name: str,
    workspaces: Sequence[WorkspaceAssignment] = (),
    user_type: str | None = None,
    reason: str = "",
    ticket: str = "",
) -> RemoteUser:
    """ToolJet: with workspaces, role and custom groups (the result carries the invite URLs). Retool: names, email
    and user type."""
    with (
        get_provider(connection) as provider,
        _audit(
            "user.create",
            actor=actor,
            connection=connection,
            user_id="",
            reason=reason,
            ticket=ticket,
            target_repr=f"{first_name} {last_name} <{email}>".strip(),
        ) as pending,
    ):
        _enforce(
            actor,
            Change.USER_CREATE,
            connection,
            None,
            grants_admin=any(w.role == "admin" for w in workspaces) or (user_type or "") == "admin",
        )
        created = provider.create_user(
            email=email,
            first_name=first_name,
            last_name=last_name,
            workspaces=workspaces,
            user_type=user_type or None,
        )
        pending.target_id = created.id
        pending.after = user_snapshot(created)
    index_upsert_user(connection=connection, user=created)
    return created


def user_profile_update(
    *,
    actor,
    connection: Connection,
    user_id: str,
    first_name: str,
    last_name: str,
    email: str | None = None,
    user_type: str | None = None,
    reason: str = "",
    ticket: str = "",
) -> RemoteUser:
    """ToolJet: name and e-mail. Retool: first and last name (its e-mail cannot change; pass ``email=None``) and
    the user type (``default | mobile | embed``; sent only when it changes)."""

    def write(provider, current: RemoteUser) -> None:
        new_email = email if email and email.lower() != current.email.lower() else None
        _enforce(actor, Change.USER_EMAIL if new_email else Change.USER_PROFILE, connection, current)
        new_type = {"user_type": user_type} if user_type and user_type != current.user_type else {}
        provider.update_user_profile(
            user_id, first_name=first_name, last_name=last_name, email=new_email, **new_type
        )

    return _user_change(
        "user.update",
        actor=actor,
        connection=connection,
        user_id=user_id,
        reason=reason,
        ticket=ticket,
        write=write,
    )


def user_metadata_update(
    *,
    actor,
    connection: Connection,
    user_id: str,
    workspace_id: str,
    items: Sequence[tuple[str, str]],
    loaded_fingerprint: str,
    reason: str = "",
    ticket: str = "",
) -> dict[str, str]:
    """ToolJet's PUT replaces the whole list: read, refuse if it changed since the form loaded, write, re-read.

    Raises :class:`ConflictError` with ``current`` (upstream now) and ``expected`` (what the operator typed).
    """
    with (
        get_provider(connection) as provider,
        _audit(
            "user.metadata", actor=actor, connection=connection, user_id=user_id, reason=reason, ticket=ticket
        ) as pending,
    ):
        pending.extra = {"workspace_id": workspace_id}
        _enforce(actor, Change.USER_METADATA, connection, provider.get_user(user_id))
        # two operators saving this person's metadata take turns: the second reads what the first wrote
        with upstream_object_lock(connection, f"user-metadata:{workspace_id}:{user_id}"):
            current = provider.get_user_metadata(workspace_id, user_id)
            pending.target_repr = f"{current.name or current.email} <{current.email}>"
            pending.before = current.as_dict()
            if fingerprint(current.as_dict()) != loaded_fingerprint:
                raise ConflictError(
                    "The metadata was changed in ToolJet since you opened the form. Compare both versions "
                    "below, then save again.",
                    current=current.as_dict(),
                    expected=dict(items),
                )
            saved = provider.put_user_metadata(workspace_id, user_id, list(items))
        pending.after = saved.as_dict()
    return saved.as_dict()


def user_attribute_set(
    *,
    actor,
    connection: Connection,
    user_id: str,
    name: str,
    value: str | None,
    reason: str = "",
    ticket: str = "",
) -> dict[str, Any]:
    """Retool: set one declared attribute (``value=None`` deletes it). Returns the user's new metadata."""
    with (
        get_provider(connection) as provider,
        _audit(
            "user.attribute",
            actor=actor,
            connection=connection,
            user_id=user_id,
            reason=reason,
            ticket=ticket,
        ) as pending,
    ):
        pending.extra = {"attribute": name, "deleted": value is None}
        current = provider.get_user(user_id)
        pending.target_repr = user_repr(current)
        pending.before = {name: current.metadata.get(name)}
        _enforce(actor, Change.USER_ATTRIBUTE, connection, current)
        if value is None:
            metadata = provider.delete_user_attribute(user_id, name)
        else:
            metadata = provider.set_user_attribute(user_id, name, value)
        pending.after = {name: metadata.get(name)}
    return metadata


def _assignment(m) -> WorkspaceAssignment:
    return WorkspaceAssignment(
        workspace_id=m.workspace_id,
        role=m.role or None,
        status=m.status or None,
        groups=tuple(g.id or g.name for g in m.groups),
    )


def user_workspaces_change(
    *,
    actor,
    connection: Connection,
    user_id: str,
    add: WorkspaceAssignment | None = None,
    remove: str | None = None,
    loaded_fingerprint: str = "",
    reason: str = "",
    ticket: str = "",
) -> RemoteUser:
    """ToolJet: add or remove one workspace membership. ``PUT /user/:id/workspaces`` replaces them all, so this is
    read-modify-write with the same conflict check as metadata."""

    def write(provider, current: RemoteUser) -> None:
        if add is not None:
            _enforce(actor, Change.USER_WORKSPACE_ADD, connection, current, grants_admin=add.role == "admin")
        if remove is not None:
            _enforce(actor, Change.USER_WORKSPACE_REMOVE, connection, current, offboarding=True)
        if loaded_fingerprint and memberships_fingerprint(current) != loaded_fingerprint:
            raise ConflictError(
                "This user's workspaces were changed in ToolJet since you opened the page. Reload and try again.",
                current=user_snapshot(current)["workspaces"],
            )
        assignments = [_assignment(m) for m in current.workspaces if m.workspace_id != remove]
        if add is not None:
            if current.membership(add.workspace_id or ""):
                raise ConflictError("This user is already a member of that workspace.")
            assignments.append(add)
        provider.replace_workspaces(user_id, assignments)

    return _user_change(
        "user.workspaces",
        actor=actor,
        connection=connection,
        user_id=user_id,
        reason=reason,
        ticket=ticket,
        extra={"add": add.workspace_id if add else None, "remove": remove},
        write=write,
    )


def user_workspace_groups_set(
    *,
    actor,
    connection: Connection,
    user_id: str,
    workspace_id: str,
    groups: Sequence[str],
    reason: str = "",
    ticket: str = "",
) -> RemoteUser:
    """ToolJet: replace the user's custom groups in one workspace (ids or names)."""

    def write(provider, current: RemoteUser) -> None:
        _enforce(actor, Change.USER_WORKSPACE_GROUPS, connection, current)
        provider.patch_membership(user_id, workspace_id, groups=list(groups))

    return _user_change(
        "user.workspaces",
        actor=actor,
        connection=connection,
        user_id=user_id,
        reason=reason,
        ticket=ticket,
        extra={"workspace_id": workspace_id, "groups": list(groups)},
        write=write,
    )


def user_access_revoke(
    *,
    actor,
    connection: Connection,
    user_id: str,
    object_kind: str,
    object_id: str,
    object_name: str = "",
    reason: str = "",
    ticket: str = "",
) -> None:
    """Take away a person's own grant on an app or a folder (Retool's permissions API). ``before``/``after`` are
    their level on that object; the policy decides (own, and people who hold admin upstream, are for admin
    operators)."""
    if object_kind not in ("app", "folder"):
        raise ValueError("revoke access to an app or a folder")
    with (
        get_provider(connection) as provider,
        _audit(
            "user.access_revoke",
            actor=actor,
            connection=connection,
            user_id=user_id,
            reason=reason,
            ticket=ticket,
            extra={"object_kind": object_kind, "object_id": object_id, "object_name": object_name},
        ) as pending,
    ):
        user = provider.get_user(user_id)
        pending.target_repr = user_repr(user)
        held = provider.list_access(subject_kind="user", subject_id=user_id, object_kind=object_kind)
        before = next((e.level for e in held if e.object_id == object_id), "")
        pending.before = {"object": f"{object_kind}:{object_id}", "level": before or None}
        decision = decide(
            operator=actor,
            action=Change.USER_ACCESS_REVOKE,
            target=Target(
                connection=connection,
                kind="user",
                protected=is_protected_account(user),
                admin_level=before == "own",
            ),
        )
        if not decision.allowed:
            raise PermissionDenied(decision.reason)
        if not before:
            raise ConflictError(f"{user.email} holds no grant on {object_name or object_id} to revoke.")
        left = provider.revoke_access(
            subject_kind="user", subject_id=user_id, object_kind=object_kind, object_id=object_id
        )
        after = next((e.level for e in left if e.object_id == object_id), "")
        pending.after = {"object": f"{object_kind}:{object_id}", "level": after or None}
