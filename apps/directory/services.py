"""Directory writes: the local index of people (sync, upsert, remove, group renames)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.core.tasks import task_pending
from apps.directory.models import DirectorySync, DirectoryUser, normalize
from apps.directory.tasks import sync_connection
from apps.providers.base import RemoteGroupRef, RemoteInvite, RemoteUser
from apps.providers.errors import ProviderError, Unsupported

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
    "invite",
    "user_type",
    "last_active",
    "seen_at",
]
JSON_FIELDS = ("memberships", "groups", "invite")


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
INVITE_PREFIX = "invite:"  # the remote_id of a Retool invite's row (user ids never start so)


def _digest(state: Mapping[str, Any]) -> str:
    """What a sync compares: a hash of the row's ``STATE_FIELDS``. ``invite`` counts only when set, so account
    rows kept the digest they had before invites were indexed (no rewrite of every row)."""
    values = [state.get(f) for f in STATE_FIELDS if f != "invite" or state.get("invite") is not None]
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
        # an account with every workspace membership archived can sign in nowhere
        "active": user.active and (not memberships or any(m["status"] != "archived" for m in memberships)),
        "is_admin": user.is_admin,
        "roles": _tokens(roles)[:200],
        "group_names": _group_names(memberships, groups),
        "memberships": memberships,
        "groups": groups,
        "user_type": (user.user_type or "")[:20],
        "last_active": "never" if user.never_active else (user.last_active or "")[:40],
        "invite": None,
    }


def invite_row_id(invite_id: str) -> str:
    return f"{INVITE_PREFIX}{invite_id}"


def _invite_state(invite: RemoteInvite) -> dict[str, Any]:
    """The ``STATE_FIELDS`` of a pending or expired Retool invite's row: "invited", not active, with the groups it
    will give (names where the invite carries them) and its expiry."""
    named = {
        str(g.get("id")): str(g.get("name") or "")
        for g in invite.raw.get("groups") or ()
        if isinstance(g, Mapping) and g.get("id") is not None
    }
    groups = [{"id": gid, "name": named.get(gid) or f"group {gid}"} for gid in invite.group_ids]
    email = invite.email.strip().lower()
    return {
        "email": email,
        "name": "",
        "search": normalize(email)[:700],
        "status": "invited",
        "active": False,
        "is_admin": False,
        "roles": "",
        "group_names": _group_names([], groups),
        "memberships": [],
        "groups": groups,
        "user_type": "",
        "last_active": "",
        "invite": {
            "id": invite.id,
            "state": invite.status,
            "expires_at": invite.expires_at or "",
            "invited_by": invite.invited_by or "",
        },
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
    values = [json_value if c in JSON_FIELDS else "%s" for c in columns]
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
        for f in JSON_FIELDS:
            values[f] = None if values[f] is None else json.dumps(values[f])
        params.append([connection.pk, remote_id, *(values[f] for f in UPDATE_FIELDS)])
    with transaction.atomic(), db_connection.cursor() as cursor:
        cursor.executemany(_upsert_sql(), params)


def index_upsert_user(*, connection: Connection, user: RemoteUser) -> DirectoryUser:
    """Write one user's current state into the index (after any successful write through the console)."""
    row = _row(connection, user, timezone.now())
    fields = {f: getattr(row, f) for f in UPDATE_FIELDS}
    obj, _ = DirectoryUser.objects.update_or_create(connection=connection, remote_id=user.id, defaults=fields)
    return obj


def index_upsert_invite(*, connection: Connection, invite: RemoteInvite) -> DirectoryUser | None:
    """Write one invite's row (after an invite is created through the console); a claimed invite has none."""
    remote_id = invite_row_id(invite.id)
    if invite.status == "claimed":
        index_remove_invite(connection=connection, invite_id=invite.id)
        return None
    state = _invite_state(invite)
    fields = {**state, "digest": _digest(state), "seen_at": timezone.now()}
    obj, _ = DirectoryUser.objects.update_or_create(
        connection=connection, remote_id=remote_id, defaults=fields
    )
    return obj


def index_remove_invite(*, connection: Connection, invite_id: str) -> None:
    """Drop an invite's row (revoked, or replaced by a new invite)."""
    DirectoryUser.objects.filter(connection=connection, remote_id=invite_row_id(invite_id)).delete()


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
            row.digest = _digest({f: getattr(row, f) for f in STATE_FIELDS})  # invite included when set
            changed.append(row)
    DirectoryUser.objects.bulk_update(changed, ["groups", "memberships", "group_names", "digest"])
    return len(changed)


def index_remove_group(*, connection: Connection, workspace_id: str | None, group_id: str, name: str) -> int:
    """A group deleted through the console: it leaves its members' index rows at once (the person page and search
    by group stop showing it) instead of after the next sync. Returns how many rows changed."""
    changed = []
    for row in DirectoryUser.objects.filter(connection=connection, group_names__contains=f"|{name}|"):
        row.groups = [g for g in row.groups if str(g.get("id")) != str(group_id)]
        for m in row.memberships:
            if m.get("workspace_id") == workspace_id:
                m["groups"] = [g for g in m.get("groups", ()) if g != name]
        names = _group_names(row.memberships, row.groups)
        if names != row.group_names:  # not when the match was another workspace's group of that name
            row.group_names = names
            row.digest = _digest({f: getattr(row, f) for f in STATE_FIELDS})
            changed.append(row)
    DirectoryUser.objects.bulk_update(changed, ["groups", "memberships", "group_names", "digest"])
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


def _sync_states(provider, caps, groups: dict[str, list[RemoteGroupRef]] | None):
    """``(remote_id, state)`` of every account, then of every invite not claimed yet."""
    if caps.supports_users:
        for user in provider.iter_users():
            if groups is not None:
                user = replace(user, groups=tuple(groups.get(user.id, ())))
            yield user.id, _state(user)
    if caps.supports_invites:
        for invite in provider.list_invites():
            if invite.status != "claimed" and invite.email:
                yield invite_row_id(invite.id), _invite_state(invite)


def directory_sync(*, connection: Connection) -> DirectorySync:
    """Refresh one connection's index: stream every user, write the rows whose state changed (new, or a different
    ``digest``) in batches, drop users gone upstream. ``written`` counts the rows inserted, updated or deleted.

    ToolJet's unpaged array is parsed item by item by the provider (ijson), so memory stays flat but for one
    ``remote_id → digest`` map of the instance's rows; rows touched by a console write during the sync carry a later
    ``seen_at`` and survive the clean-up. Where the instance has user invites (Retool), pending and expired ones are
    indexed as "invited" rows next to the accounts; on a plan without the users API (Retool Business) they are
    all the index holds.
    """
    sync, _ = DirectorySync.objects.get_or_create(connection=connection)
    started = timezone.now()
    DirectorySync.objects.filter(pk=sync.pk).update(
        status=DirectorySync.Status.RUNNING, started_at=started, message=""
    )
    caps = connection_capabilities(connection)
    count = written = 0
    try:
        if not (caps.supports_users or caps.supports_invites):
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
            for remote_id, state in _sync_states(provider, caps, groups):
                digest = _digest(state)
                count += 1
                if known.pop(remote_id, None) == digest:
                    continue  # unchanged: no write
                batch.append((remote_id, digest, state))
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


SYNC_TASK = "apps.directory.tasks.sync_connection"


def sync_request(*, connection: Connection) -> bool:
    """Queue a sync of the connection's index and show it as queued at once (the users page polls it).

    At most one sync per connection waits to start (and one runs): a request while one is already queued joins it
    and returns False; True when this call queued one. A sync that is running does not count as queued: it may
    have read the instance before the change that made someone press refresh. Requests for one connection are
    serialised on its ``DirectorySync`` row (a row lock on PostgreSQL; SQLite's IMMEDIATE transactions)."""
    with transaction.atomic():
        DirectorySync.objects.get_or_create(connection=connection)
        DirectorySync.objects.select_for_update().filter(connection=connection).exists()
        if task_pending(SYNC_TASK, status="READY", args_kwargs__args__0=connection.pk):
            return False
        sync_mark_queued(connection=connection)
        sync_connection.enqueue(connection.pk)
    return True


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
