"""User invites (Retool): read a connection's invites and create, revoke or renew one.

Each change service owns the provider call and its one audit row (``invite.create``, ``invite.revoke``,
``invite.renew``), asks the one policy first (inviting into an admin group is for admin operators), and keeps the
directory index's "invited" row of the invite in step. Renewing is how an expired invite is sent again: Retool
has no resend, so the old invite is deleted and a new one created with the same e-mail, groups and metadata, as
one audited change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied

from apps.accounts.policy import Change, Target, decide, is_admin_group
from apps.audit.models import AuditEvent
from apps.audit.services import audited
from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.directory.models import DirectoryUser
from apps.directory.services import index_remove_invite, index_upsert_invite
from apps.providers.base import Capabilities, RemoteAttribute, RemoteInvite
from apps.providers.errors import ProviderError

STATE_ORDER = {"pending": 0, "expired": 1, "claimed": 2}


class InviteError(Exception):
    """A change the console refuses before or while talking to the instance, in words an operator can act on."""

    def __init__(self, message: str, *, may_have_applied: bool = False):
        super().__init__(message)
        self.message = message
        self.may_have_applied = may_have_applied


@dataclass(frozen=True)
class InviteRow:
    invite: RemoteInvite
    group_names: tuple[str, ...] = ()
    claimed_by_email: str = ""

    @property
    def attributes(self) -> list[tuple[str, Any]]:
        return sorted((str(k), v) for k, v in self.invite.metadata.items())


@dataclass
class InvitesPage:
    caps: Capabilities
    rows: list[InviteRow] = field(default_factory=list)
    groups: list[str] = field(
        default_factory=list
    )  # group names an invite may give ([] without the groups API)
    attributes: list[RemoteAttribute] = field(default_factory=list)

    def by_state(self, state: str) -> list[InviteRow]:
        return [r for r in self.rows if r.invite.status == state]

    @property
    def pending(self) -> list[InviteRow]:
        return self.by_state("pending")

    @property
    def expired(self) -> list[InviteRow]:
        return self.by_state("expired")

    @property
    def claimed(self) -> list[InviteRow]:
        return self.by_state("claimed")


# ---------------------------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------------------------


def invite_snapshot(invite: RemoteInvite, group_names: Sequence[str] = ()) -> dict[str, Any]:
    """What an audit row keeps of an invite (never the sign-up link: it lets anyone in as that person)."""
    return {
        "id": invite.id,
        "email": invite.email,
        "status": invite.status,
        "expires_at": invite.expires_at,
        "invited_by": invite.invited_by,
        "group_ids": list(invite.group_ids),
        "groups": list(group_names),
        "metadata": dict(invite.metadata),
    }


def _named_groups(invite: RemoteInvite, names: Mapping[str, str]) -> tuple[str, ...]:
    carried = {
        str(g.get("id")): str(g.get("name") or "")
        for g in invite.raw.get("groups") or ()
        if isinstance(g, Mapping)
    }
    return tuple(names.get(gid) or carried.get(gid) or f"group {gid}" for gid in invite.group_ids)


def _group_map(provider, caps: Capabilities) -> dict[str, str]:
    """Group id → name where the groups API is there (Enterprise); {} otherwise."""
    if not caps.supports_groups:
        return {}
    return {g.id: g.name for g in provider.iter_groups()}


def invites_page(*, connection: Connection) -> InvitesPage:
    """Every invite of the connection (pending first, then expired, then claimed), with group names, who claimed
    each (from the directory index) and what a new invite may carry."""
    caps = connection_capabilities(connection)
    with get_provider(connection) as provider:
        invites = provider.list_invites()
        names = _group_map(provider, caps)
        attributes = provider.list_user_attributes() if caps.supports_user_attributes else []
    claimed_ids = {i.claimed_by for i in invites if i.claimed_by}
    emails = dict(
        DirectoryUser.objects.filter(connection=connection, remote_id__in=claimed_ids).values_list(
            "remote_id", "email"
        )
    )
    rows = [
        InviteRow(
            invite=i,
            group_names=_named_groups(i, names),
            claimed_by_email=emails.get(i.claimed_by or "", ""),
        )
        for i in invites
    ]
    rows.sort(key=lambda r: (STATE_ORDER.get(r.invite.status, 3), r.invite.email.lower(), r.invite.id))
    return InvitesPage(
        caps=caps,
        rows=rows,
        groups=sorted(names.values(), key=str.lower),
        attributes=sorted(attributes, key=lambda a: a.name),
    )


# ---------------------------------------------------------------------------------------------------------------
# Changes
# ---------------------------------------------------------------------------------------------------------------


def _check(actor, action: str, connection: Connection, group_names: Sequence[str] = ()) -> None:
    decision = decide(
        operator=actor,
        action=action,
        target=Target(
            connection=connection, kind="invite", admin_group=any(is_admin_group(n) for n in group_names)
        ),
    )
    if not decision.allowed:
        raise PermissionDenied(decision.reason)


def _audit(
    action: str, *, actor, connection: Connection, target_id: str, target_repr: str, reason, ticket, **kw
):
    return audited(
        action=action,
        actor=actor,
        connection=connection,
        target_type="invite",
        target_id=target_id,
        target_repr=target_repr,
        reason=reason,
        ticket=ticket,
        **kw,
    )


def _resolve_groups(provider, caps: Capabilities, group_names: Sequence[str]) -> list[str]:
    """Group names → ids, read live (ids differ between instances; operators pick by name)."""
    if not group_names:
        return []
    if not caps.supports_groups:
        raise InviteError(
            "This connection cannot read groups, so an invite cannot give any: "
            + (caps.reason("supports_groups") or "no groups API.")
        )
    by_name = {g.name: g.id for g in provider.iter_groups()}
    missing = [n for n in group_names if n not in by_name]
    if missing:
        raise InviteError(f"There is no group named {', '.join(missing)} on this instance any more.")
    return [by_name[n] for n in group_names]


def invite_create(
    *,
    actor,
    connection: Connection,
    email: str,
    group_names: Sequence[str] = (),
    metadata: Mapping[str, str] | None = None,
    attributes: Mapping[str, str] | None = None,
    reason: str = "",
    ticket: str = "",
) -> RemoteInvite:
    """Invite ``email`` with the groups named (resolved to ids live), ``metadata`` sent with the invite, and
    declared user ``attributes`` set on it one by one."""
    email = email.strip()
    group_names = list(dict.fromkeys(group_names))
    attributes = dict(attributes or {})
    caps = connection_capabilities(connection)
    with (
        get_provider(connection) as provider,
        _audit(
            AuditEvent.Action.INVITE_CREATE,
            actor=actor,
            connection=connection,
            target_id="",
            target_repr=email,
            reason=reason,
            ticket=ticket,
            extra={"groups": group_names, "attributes": sorted(attributes)},
        ) as pending,
    ):
        _check(actor, Change.INVITE_CREATE, connection, group_names)
        group_ids = _resolve_groups(provider, caps, group_names)
        invite = provider.create_invite(email, group_ids=group_ids, metadata=dict(metadata or {}))
        pending.target_id = invite.id
        pending.after = invite_snapshot(invite, group_names)
        for name, value in attributes.items():
            provider.set_invite_attribute(invite.id, name, value)
        if attributes:
            invite = provider.get_invite(invite.id)
            pending.after = invite_snapshot(invite, group_names)
    index_upsert_invite(connection=connection, invite=invite)
    return invite


@contextmanager
def _existing_invite(action: str, *, actor, connection: Connection, invite_id: str, reason: str, ticket: str):
    """A change to an invite that exists upstream: the client, the audit row (``before`` = the invite as read
    now) and the invite with its groups' names."""
    caps = connection_capabilities(connection)
    with (
        get_provider(connection) as provider,
        _audit(
            action,
            actor=actor,
            connection=connection,
            target_id=str(invite_id),
            target_repr="",
            reason=reason,
            ticket=ticket,
        ) as pending,
    ):
        invite = provider.get_invite(invite_id)
        names = _named_groups(invite, _group_map(provider, caps) if invite.group_ids else {})
        pending.before = invite_snapshot(invite, names)
        pending.target_repr = invite.email
        yield provider, pending, invite, names


def invite_revoke(
    *, actor, connection: Connection, invite_id: str, reason: str = "", ticket: str = ""
) -> RemoteInvite:
    """Delete a pending or expired invite: its link stops working. A claimed one is refused (the person has an
    account now; deactivate that instead)."""
    with _existing_invite(
        AuditEvent.Action.INVITE_REVOKE,
        actor=actor,
        connection=connection,
        invite_id=invite_id,
        reason=reason,
        ticket=ticket,
    ) as (provider, _pending, invite, _names):
        _check(actor, Change.INVITE_REVOKE, connection)
        if invite.status == "claimed":
            raise InviteError(
                f"{invite.email} has accepted this invite already: deactivate their account instead."
            )
        provider.delete_invite(invite.id)
    index_remove_invite(connection=connection, invite_id=invite.id)
    return invite


def invite_renew(
    *, actor, connection: Connection, invite_id: str, reason: str = "", ticket: str = ""
) -> RemoteInvite:
    """Invite again after an invite expired: delete it and create a new one with the same e-mail, groups and
    metadata (attributes included) — one audited change whose ``before`` is the old invite and ``after`` the new."""
    with _existing_invite(
        AuditEvent.Action.INVITE_RENEW,
        actor=actor,
        connection=connection,
        invite_id=invite_id,
        reason=reason,
        ticket=ticket,
    ) as (provider, pending, old, names):
        _check(actor, Change.INVITE_RENEW, connection, names)
        if old.status != "expired":
            raise InviteError(
                f"This invite is {old.status}, not expired: only an expired invite is sent again."
            )
        provider.delete_invite(old.id)
        try:
            new = provider.create_invite(old.email, group_ids=old.group_ids, metadata=old.metadata)
        except ProviderError as exc:
            pending.extra["deleted_invite"] = old.id
            raise InviteError(
                f"The expired invite was deleted, but creating the new one failed: {exc.message} "
                "Invite the person again.",
                may_have_applied=exc.may_have_applied,
            ) from exc
        finally:
            index_remove_invite(connection=connection, invite_id=old.id)
        pending.target_id = new.id
        pending.after = invite_snapshot(new, names)
        pending.extra["replaces_invite"] = old.id
    index_upsert_invite(connection=connection, invite=new)
    return new
