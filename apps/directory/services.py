"""Directory writes: the index (sync, upsert, remove) and every change to a user upstream.

Each change service owns the provider call and its one audit row (STYLE.md §4, §7): it reads the user first to fill
``before``, writes, reads again for ``after`` and updates the index row at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from apps.accounts.roles import Perm
from apps.audit.services import audited
from apps.connections.models import Connection
from apps.connections.provider import connection_capabilities, get_provider
from apps.directory.models import DirectorySync, DirectoryUser, normalize
from apps.providers.base import RemoteGroupRef, RemoteUser, WorkspaceAssignment
from apps.providers.errors import ConflictError, ProviderError, Unsupported

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
UPDATE_FIELDS = [
    "digest",
    "email",
    "name",
    "search",
    "status",
    "active",
    "is_admin",
    "roles",
    "group_names",
    "memberships",
    "groups",
    "seen_at",
]


# ---------------------------------------------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------------------------------------------


def _group_names(memberships: list[dict], groups: list[dict]) -> str:
    """The ``group_names`` column: every group name of a row's memberships (ToolJet) and groups (Retool)."""
    return _tokens([g for m in memberships for g in m.get("groups", ())] + [g["name"] for g in groups])


def _tokens(values: Iterable[str]) -> str:
    """``|a|b|`` — a delimited list that a ``contains("|a|")`` filter matches exactly."""
    items = sorted({v for v in values if v})
    return f"|{'|'.join(items)}|" if items else ""


# The fields a row's digest covers: all that comes from upstream (not ids, ``digest`` or ``seen_at``).
STATE_FIELDS = [f for f in UPDATE_FIELDS if f not in ("digest", "seen_at")]


def _digest(state: Mapping[str, Any]) -> str:
    """What a sync compares: a hash of the row's ``STATE_FIELDS``."""
    values = [state[f] for f in STATE_FIELDS]
    return hashlib.blake2b(
        json.dumps(values, sort_keys=True, ensure_ascii=False).encode(), digest_size=16
    ).hexdigest()


def _state(user: RemoteUser) -> dict[str, Any]:
    """The ``STATE_FIELDS`` of a user's index row."""
    memberships = [
        {
            "workspace_id": m.workspace_id,
            "workspace_name": m.workspace_name or "",
            "role": m.role or "",
            "status": m.status or "",
            "groups": [g.name for g in m.groups],
        }
        for m in user.workspaces
    ]
    # ToolJet's userGroups repeat the role groups of every workspace; the memberships carry what matters.
    groups = [] if memberships else [{"id": g.id, "name": g.name} for g in user.groups]
    roles = [m["role"] for m in memberships] if memberships else [user.role]
    return {
        "email": user.email.strip().lower(),
        "name": user.name,
        "search": normalize(f"{user.email} {user.name}")[:700],
        "status": user.status or "",
        "active": user.active,
        "is_admin": user.is_admin,
        "roles": _tokens(roles)[:200],
        "group_names": _group_names(memberships, groups),
        "memberships": memberships,
        "groups": groups,
    }


def _row(connection: Connection, user: RemoteUser, seen_at) -> DirectoryUser:
    state = _state(user)
    return DirectoryUser(
        connection=connection, remote_id=user.id, digest=_digest(state), seen_at=seen_at, **state
    )


def _upsert_sql() -> str:
    """One row's ``INSERT … ON CONFLICT DO UPDATE`` (SQLite and PostgreSQL spell it the same)."""
    q = db_connection.ops.quote_name
    columns = ["connection_id", "remote_id", *UPDATE_FIELDS]
    json_value = "%s::jsonb" if db_connection.vendor == "postgresql" else "%s"
    values = [json_value if c in ("memberships", "groups") else "%s" for c in columns]
    updates = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in UPDATE_FIELDS)
    return (
        f"INSERT INTO {q(DirectoryUser._meta.db_table)} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(values)}) ON CONFLICT (connection_id, remote_id) DO UPDATE SET {updates}"
    )


def _upsert(connection: Connection, states: Sequence[tuple[str, str, dict[str, Any]]], seen_at) -> None:
    """Write a sync's batch of ``(remote_id, digest, state)`` in one transaction. Plain SQL, not ``bulk_create``:
    building and compiling 2,000 model instances a batch was most of a sync's time."""
    seen = db_connection.ops.adapt_datetimefield_value(seen_at)
    params = []
    for remote_id, digest, state in states:
        values = {**state, "digest": digest, "seen_at": seen}
        values["memberships"] = json.dumps(values["memberships"])
        values["groups"] = json.dumps(values["groups"])
        params.append([connection.pk, remote_id, *(values[f] for f in UPDATE_FIELDS)])
    with transaction.atomic(), db_connection.cursor() as cursor:
        cursor.executemany(_upsert_sql(), params)


def index_upsert_user(*, connection: Connection, user: RemoteUser) -> DirectoryUser:
    """Write one user's current state into the index (after any successful write through the console)."""
    row = _row(connection, user, timezone.now())
    fields = {f: getattr(row, f) for f in UPDATE_FIELDS}
    obj, _ = DirectoryUser.objects.update_or_create(connection=connection, remote_id=user.id, defaults=fields)
    return obj


def index_rename_group(
    *, connection: Connection, workspace_id: str | None, group_id: str, old: str, new: str
) -> int:
    """A group renamed through the console: its members' index rows carry the new name at once (search by group
    finds them under it) instead of after the next sync. Returns how many rows changed."""
    changed = []
    for row in DirectoryUser.objects.filter(connection=connection, group_names__contains=f"|{old}|"):
        row.groups = [{**g, "name": new} if str(g.get("id")) == str(group_id) else g for g in row.groups]
        for m in row.memberships:
            if m.get("workspace_id") == workspace_id:
                m["groups"] = [new if g == old else g for g in m.get("groups", ())]
        names = _group_names(row.memberships, row.groups)
        if names != row.group_names:  # not when the match was another workspace's group of that name
            row.group_names = names
            row.digest = _digest({f: getattr(row, f) for f in STATE_FIELDS})
            changed.append(row)
    DirectoryUser.objects.bulk_update(changed, ["groups", "memberships", "group_names", "digest"])
    return len(changed)


def index_remove_user(*, connection: Connection, remote_id: str) -> None:
    DirectoryUser.objects.filter(connection=connection, remote_id=remote_id).delete()


def sync_mark_queued(*, connection: Connection) -> DirectorySync:
    """Show "running" at once after the refresh button; the task sets the final state."""
    sync, _ = DirectorySync.objects.get_or_create(connection=connection)
    DirectorySync.objects.filter(pk=sync.pk).update(
        status=DirectorySync.Status.RUNNING, queued_at=timezone.now(), message=""
    )
    sync.refresh_from_db()
    return sync


def _group_map(provider) -> dict[str, list[RemoteGroupRef]]:
    """Retool: user id → groups, from the one ``GET /groups`` (the user list carries no groups)."""
    out: dict[str, list[RemoteGroupRef]] = {}
    for group in provider.iter_groups():
        for member in group.members:
            out.setdefault(member.id, []).append(RemoteGroupRef(id=group.id, name=group.name))
    return out


def directory_sync(*, connection: Connection) -> DirectorySync:
    """Refresh one connection's index: stream every user, write the rows whose state changed (new, or a different
    ``digest``) in batches, drop users gone upstream. ``written`` counts the rows inserted, updated or deleted.

    ToolJet's unpaged array is parsed item by item by the provider (ijson), so memory stays flat but for one
    ``remote_id → digest`` map of the instance's rows; rows touched by a console write during the sync carry a later
    ``seen_at`` and survive the clean-up.
    """
    sync, _ = DirectorySync.objects.get_or_create(connection=connection)
    started = timezone.now()
    DirectorySync.objects.filter(pk=sync.pk).update(
        status=DirectorySync.Status.RUNNING, started_at=started, message=""
    )
    caps = connection_capabilities(connection)
    count = written = 0
    try:
        if not caps.supports_users:
            raise Unsupported(caps.reason("supports_users") or "This connection cannot list users.")
        known = dict(
            DirectoryUser.objects.filter(connection=connection)
            .values_list("remote_id", "digest")
            .iterator(chunk_size=BATCH_SIZE * 5)
        )
        provider = get_provider(connection)
        try:
            groups = _group_map(provider) if caps.supports_group_members else None
            batch: list[tuple[str, str, dict[str, Any]]] = []
            for user in provider.iter_users():
                if groups is not None:
                    user = replace(user, groups=tuple(groups.get(user.id, ())))
                state = _state(user)
                digest = _digest(state)
                count += 1
                if known.pop(user.id, None) == digest:
                    continue  # unchanged: no write
                batch.append((user.id, digest, state))
                if len(batch) >= BATCH_SIZE:
                    _upsert(connection, batch, started)
                    written += len(batch)
                    batch = []
            if batch:
                _upsert(connection, batch, started)
                written += len(batch)
        finally:
            provider.close()
        gone = list(known)
        for i in range(0, len(gone), BATCH_SIZE):
            deleted, _ = DirectoryUser.objects.filter(
                connection=connection, remote_id__in=gone[i : i + BATCH_SIZE], seen_at__lt=started
            ).delete()
            written += deleted
    except ProviderError as exc:
        logger.warning("directory sync of %s failed: %s", connection.slug, exc.message)
        DirectorySync.objects.filter(pk=sync.pk).update(
            status=DirectorySync.Status.FAILED, message=exc.message
        )
    except BaseException as exc:
        DirectorySync.objects.filter(pk=sync.pk).update(
            status=DirectorySync.Status.FAILED, message=f"Internal error: {type(exc).__name__}"
        )
        raise
    else:
        DirectorySync.objects.filter(pk=sync.pk).update(
            status=DirectorySync.Status.OK, synced_at=timezone.now(), count=count, written=written, message=""
        )
    sync.refresh_from_db()
    return sync


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


def _require_grant_admin(actor) -> None:
    if not actor.has_perm(Perm.GRANT_ADMIN):
        raise PermissionDenied("Only admin operators can grant admin rights.")


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
        if role == "admin":
            _require_grant_admin(actor)
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
    """ToolJet: archive/reactivate the account, or one membership. Retool: disable/enable."""

    def write(provider, current: RemoteUser) -> None:
        if workspace_id and status == "archived":
            provider.patch_membership(user_id, workspace_id, status="archived")
        else:
            provider.set_user_status(user_id, status, workspace_id=workspace_id)

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
        if any(w.role == "admin" for w in workspaces):
            _require_grant_admin(actor)
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
    reason: str = "",
    ticket: str = "",
) -> RemoteUser:
    """ToolJet: name and e-mail. Retool: first and last name (its e-mail cannot change; pass ``email=None``)."""

    def write(provider, current: RemoteUser) -> None:
        new_email = email if email and email.lower() != current.email.lower() else None
        provider.update_user_profile(user_id, first_name=first_name, last_name=last_name, email=new_email)

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
        current = provider.get_user_metadata(workspace_id, user_id)
        pending.target_repr = f"{current.name or current.email} <{current.email}>"
        pending.before = current.as_dict()
        if fingerprint(current.as_dict()) != loaded_fingerprint:
            raise ConflictError(
                "The metadata was changed in ToolJet since you opened the form. Compare both versions below, "
                "then save again.",
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
        if loaded_fingerprint and memberships_fingerprint(current) != loaded_fingerprint:
            raise ConflictError(
                "This user's workspaces were changed in ToolJet since you opened the page. Reload and try again.",
                current=user_snapshot(current)["workspaces"],
            )
        assignments = [_assignment(m) for m in current.workspaces if m.workspace_id != remove]
        if add is not None:
            if current.membership(add.workspace_id or ""):
                raise ConflictError("This user is already a member of that workspace.")
            if add.role == "admin":
                _require_grant_admin(actor)
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
