"""Directory writes: the local index of people (sync, upsert, remove, group renames)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace

from django.utils import timezone

from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.directory.models import DirectorySync, DirectoryUser, normalize
from apps.directory.tasks import sync_connection
from apps.providers.base import RemoteGroupRef, RemoteUser
from apps.providers.errors import ProviderError, Unsupported

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
UPDATE_FIELDS = [
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


def _row(connection: Connection, user: RemoteUser, seen_at) -> DirectoryUser:
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
    return DirectoryUser(
        connection=connection,
        remote_id=user.id,
        email=user.email.strip().lower(),
        name=user.name,
        search=normalize(f"{user.email} {user.name}")[:700],
        status=user.status or "",
        active=user.active,
        is_admin=user.is_admin,
        roles=_tokens(roles)[:200],
        group_names=_group_names(memberships, groups),
        memberships=memberships,
        groups=groups,
        seen_at=seen_at,
    )


def _upsert(rows: Sequence[DirectoryUser]) -> None:
    DirectoryUser.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["connection", "remote_id"],
        update_fields=UPDATE_FIELDS,
    )


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
            changed.append(row)
    DirectoryUser.objects.bulk_update(changed, ["groups", "memberships", "group_names"])
    return len(changed)


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
    """Refresh one connection's index: stream every user, upsert in batches, drop users gone upstream.

    ToolJet's unpaged array is parsed item by item by the provider (ijson), so memory stays flat; rows touched by
    a console write during the sync carry a later ``seen_at`` and survive the clean-up.
    """
    sync, _ = DirectorySync.objects.get_or_create(connection=connection)
    started = timezone.now()
    DirectorySync.objects.filter(pk=sync.pk).update(
        status=DirectorySync.Status.RUNNING, started_at=started, message=""
    )
    caps = connection_capabilities(connection)
    count = 0
    try:
        if not caps.supports_users:
            raise Unsupported(caps.reason("supports_users") or "This connection cannot list users.")
        provider = get_provider(connection)
        try:
            groups = _group_map(provider) if caps.supports_group_members else None
            batch: list[DirectoryUser] = []
            for user in provider.iter_users():
                if groups is not None:
                    user = replace(user, groups=tuple(groups.get(user.id, ())))
                batch.append(_row(connection, user, started))
                if len(batch) >= BATCH_SIZE:
                    _upsert(batch)
                    count += len(batch)
                    batch = []
            if batch:
                _upsert(batch)
                count += len(batch)
        finally:
            provider.close()
        DirectoryUser.objects.filter(connection=connection, seen_at__lt=started).delete()
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
            status=DirectorySync.Status.OK, synced_at=timezone.now(), count=count, message=""
        )
    sync.refresh_from_db()
    return sync


def sync_request(*, connection: Connection) -> None:
    """Show the connection's sync as queued at once (the users page polls it) and run it in the background."""
    sync_mark_queued(connection=connection)
    sync_connection.enqueue(connection.pk)


def directory_index_start(*, connection: Connection) -> str:
    """Queue the first index of a connection's people once its test has passed: never before, because the sync
    reads the capabilities the test stores, and a connection that does not work has nobody to index.

    Returns ``"started"`` (queued now), ``"waiting"`` (never indexed, and the last test failed) or ``""`` (it has
    been indexed before; the periodic sync and the users page's refresh take it from there)."""
    # a failed sync that never succeeded (the periodic one runs before the first passing test) does not count
    indexed = DirectorySync.objects.filter(connection=connection).exclude(
        status=DirectorySync.Status.FAILED, synced_at__isnull=True
    )
    if indexed.exists():
        return ""
    if not connection.last_test_ok:
        return "waiting"
    sync_request(connection=connection)
    return "started"
