"""Retool API v2 wire shapes ↔ normalized dataclasses (retool.md §5–§9)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from apps.providers.base import (
    AccessEntry,
    Folder,
    RemoteApp,
    RemoteAttribute,
    RemoteGroup,
    RemoteGroupRef,
    RemoteInvite,
    RemoteMember,
    RemoteUser,
)
from apps.providers.retool.vocabulary import ACCESS_LEVELS, BUILTIN_GROUPS, FLAGS

ACCESS_FIELDS = tuple(key for key, _label, _levels in ACCESS_LEVELS)
FLAG_FIELDS = tuple(key for key, _label in FLAGS)
GROUP_PUT_FIELDS = (*ACCESS_FIELDS, *FLAG_FIELDS, "landing_page_app_id")
PATCHABLE_USER_PATHS = ("/first_name", "/last_name", "/active", "/metadata", "/user_type")


def _id(value: Any) -> str:
    return "" if value is None else str(value)


def user_from_wire(raw: Mapping[str, Any]) -> RemoteUser:
    first = raw.get("first_name")
    last = raw.get("last_name")
    active = bool(raw.get("active", True))
    return RemoteUser(
        id=_id(raw.get("id")),
        email=str(raw.get("email") or ""),
        name=" ".join(p for p in (first, last) if p),
        first_name=first,
        last_name=last,
        status="active" if active else "disabled",
        active=active,
        is_admin=bool(raw.get("is_admin", False)),
        role="admin" if raw.get("is_admin") else "member",
        groups=tuple(
            RemoteGroupRef(id=_id(g.get("id")), name=str(g.get("name") or ""))
            for g in raw.get("groups") or ()
            if isinstance(g, Mapping)
        ),
        metadata=dict(raw.get("metadata") or {}),
        user_type=raw.get("user_type"),
        legacy_id=_id(raw.get("legacy_id")) or None,
        created_at=raw.get("created_at"),
        last_active=raw.get("last_active"),
        two_factor_auth_enabled=(
            bool(raw["two_factor_auth_enabled"]) if raw.get("two_factor_auth_enabled") is not None else None
        ),
        raw=dict(raw),
    )


def group_from_wire(raw: Mapping[str, Any]) -> RemoteGroup:
    permissions = {k: raw[k] for k in GROUP_PUT_FIELDS if k in raw}
    return RemoteGroup(
        id=_id(raw.get("id")),
        name=str(raw.get("name") or ""),
        permissions=permissions,
        members=tuple(
            RemoteMember(
                id=_id(m.get("id")), email=m.get("email"), is_group_admin=bool(m.get("is_group_admin"))
            )
            for m in raw.get("members") or ()
            if isinstance(m, Mapping)
        ),
        is_builtin=raw.get("name") in BUILTIN_GROUPS,
        updated_at=raw.get("updated_at"),
        created_at=raw.get("created_at"),
        user_invites=tuple(
            dict(i) if isinstance(i, Mapping) else {"id": i} for i in raw.get("user_invites") or ()
        ),
        landing_page_app_id=raw.get("landing_page_app_id"),
        raw=dict(raw),
    )


def group_put_body(
    raw: Mapping[str, Any], *, name: str | None, permissions: Mapping[str, Any] | None
) -> dict:
    """The full PUT body from the current group: settings changed, ``members`` and ``user_invites`` preserved."""
    unknown = set(permissions or {}) - set(GROUP_PUT_FIELDS)
    if unknown:
        raise ValueError(f"unknown Retool group fields: {', '.join(sorted(unknown))}")
    body: dict[str, Any] = {k: raw.get(k) for k in GROUP_PUT_FIELDS if k in raw}
    body.update(permissions or {})
    body["name"] = name if name is not None else raw.get("name")
    body["members"] = [
        {"id": m.get("id"), "is_group_admin": bool(m.get("is_group_admin"))}
        for m in raw.get("members") or ()
        if isinstance(m, Mapping)
    ]
    body["user_invites"] = list(raw.get("user_invites") or [])
    return body


def app_from_wire(raw: Mapping[str, Any]) -> RemoteApp:
    return RemoteApp(
        id=_id(raw.get("id")),
        name=str(raw.get("name") or ""),
        slug=raw.get("shortlink"),
        folder_id=raw.get("folder_id"),
        updated_at=raw.get("updated_at"),
        raw=dict(raw),
    )


def attribute_from_wire(raw: Mapping[str, Any]) -> RemoteAttribute:
    return RemoteAttribute(
        id=_id(raw.get("id")),
        name=str(raw.get("name") or ""),
        label=raw.get("label"),
        data_type=raw.get("data_type"),
        default_value=raw.get("default_value"),
        raw=dict(raw),
    )


# -- folders (retool.md §9a) -------------------------------------------------------------------------------------


def folder_from_wire(raw: Mapping[str, Any]) -> Folder:
    parent = raw.get("parent_folder_id")
    return Folder(
        id=_id(raw.get("id")),
        name=str(raw.get("name") or ""),
        parent_id=_id(parent) or None,
        folder_type=raw.get("folder_type"),
        is_system=bool(raw.get("is_system_folder")),
        created_at=raw.get("created_at"),
        updated_at=raw.get("updated_at"),
        raw=dict(raw),
    )


def folder_tree(folders: Iterable[Folder]) -> list[Folder]:
    """Depth-first tree order with ``depth`` and ``path`` filled. A folder whose parent is missing (or a cycle)
    is shown as a root rather than dropped."""
    items = list(folders)
    ids = {f.id for f in items}
    children: dict[str | None, list[Folder]] = {}
    for f in items:
        parent = f.parent_id if f.parent_id in ids and f.parent_id != f.id else None
        children.setdefault(parent, []).append(f)
    out: list[Folder] = []
    seen: set[str] = set()

    def walk(parent: str | None, depth: int, path: tuple[str, ...]) -> None:
        for f in children.get(parent, ()):
            if f.id in seen:
                continue
            seen.add(f.id)
            out.append(_with(f, depth=depth, path=path))
            walk(f.id, depth + 1, (*path, f.name))

    walk(None, 0, ())
    for f in items:  # members of a parent cycle: never reached from a root
        if f.id not in seen:
            seen.add(f.id)
            out.append(_with(f, depth=0, path=()))
            walk(f.id, 1, (f.name,))
    return out


def _with(folder: Folder, **changes: Any) -> Folder:
    return replace(folder, **changes)


# -- permissions (retool.md §9a) -----------------------------------------------------------------------------------

SUBJECT_KINDS = ("group", "user")
OBJECT_KINDS = ("app", "folder", "resource", "workflow", "agent")
LIST_OBJECT_TYPES = ("folder", "app", "resource", "resource_configuration")
LEVELS = ("use", "edit", "own")


def subject_to_wire(kind: str, subject_id: str) -> dict[str, Any]:
    """``{"id": 133, "type": "group"}`` (a JSON number) or ``{"id": "user_…", "type": "user"}``; no other keys."""
    if kind == "group":
        text = str(subject_id)
        if not text.isdigit():
            raise ValueError("Retool group ids are numbers")
        return {"id": int(text), "type": "group"}
    if kind == "user":
        return {"id": str(subject_id), "type": "user"}
    raise ValueError("subject_kind must be group or user")


def object_to_wire(kind: str, object_id: str) -> dict[str, Any]:
    if kind not in OBJECT_KINDS:
        raise ValueError(f"object_kind must be one of {', '.join(OBJECT_KINDS)}")
    if not str(object_id):
        raise ValueError("object_id is required")
    return {"id": str(object_id), "type": kind}


def objects_from_wire(
    data: Any, *, subject_kind: str, subject_id: str, subject_name: str = "", source: str = "direct"
) -> tuple[AccessEntry, ...]:
    """The ``[{type, id, access_level}]`` list of grant, revoke and listObjects answers."""
    out = []
    for item in data or ():
        if not isinstance(item, Mapping) or item.get("access_level") in (None, "none"):
            continue
        out.append(
            AccessEntry(
                subject_kind=subject_kind,
                subject_id=str(subject_id),
                subject_name=subject_name,
                object_kind=str(item.get("type") or ""),
                object_id=_id(item.get("id")),
                level=str(item["access_level"]),
                source=source,
                sources=(source,),
            )
        )
    return tuple(out)


def access_list_from_wire(data: Any, *, object_kind: str, object_id: str) -> tuple[AccessEntry, ...]:
    """``{group: [...], user: [...], userInvite: [...]}`` → entries for groups and users (invites are left out:
    they are not people yet). Each wire source becomes one of direct | universal | group | folder; the main
    ``source`` is the first of those in that order."""
    out = []
    for kind in SUBJECT_KINDS:
        for item in (data or {}).get(kind) or () if isinstance(data, Mapping) else ():
            if not isinstance(item, Mapping):
                continue
            level = item.get("accessLevel")
            if level in (None, "none"):
                continue
            subject = item.get("subject") or {}
            wire = item.get("sources") or {}
            sources: list[str] = []
            ids: list[str] = []
            if wire.get("direct"):
                sources.append("direct")
            inherited = wire.get("inherited")
            if isinstance(inherited, Mapping):
                sources.append("folder")
                ids.append(_id(inherited.get("id")))
            groups = [g for g in wire.get("groups") or () if isinstance(g, Mapping)]
            if groups:
                sources.append("group")
                ids.extend(_id(g.get("id")) for g in groups)
            if wire.get("universal"):
                sources.append("universal")
            order = ("direct", "folder", "group", "universal")
            sources.sort(key=order.index)
            out.append(
                AccessEntry(
                    subject_kind=kind,
                    subject_id=_id(subject.get("id")),
                    subject_name=str(subject.get("name") or ""),
                    object_kind=object_kind,
                    object_id=str(object_id),
                    level=str(level),
                    source=sources[0] if sources else "direct",
                    sources=tuple(sources),
                    source_ids=tuple(ids),
                )
            )
    return tuple(out)


# -- user invites (retool.md §6a) ----------------------------------------------------------------------------------


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def invite_status(raw: Mapping[str, Any], *, now: datetime | None = None) -> str:
    """claimed when ``claimed_at`` (or ``claimed_by``) is set; expired once ``expires_at`` has passed; else
    pending (an unreadable expiry counts as pending: Retool decides when it claims)."""
    if raw.get("claimed_at") or raw.get("claimed_by"):
        return "claimed"
    expires = _parse_time(raw.get("expires_at"))
    if expires is not None and expires <= (now or datetime.now(UTC)):
        return "expired"
    return "pending"


def invite_from_wire(raw: Mapping[str, Any], *, now: datetime | None = None) -> RemoteInvite:
    groups = [g.get("id") if isinstance(g, Mapping) else g for g in raw.get("groups") or ()]
    return RemoteInvite(
        id=_id(raw.get("id")),
        email=str(raw.get("invited_email") or raw.get("email") or ""),
        invited_by=_id(raw.get("invited_by")) or None,
        expires_at=raw.get("expires_at"),
        claimed_by=_id(raw.get("claimed_by")) or None,
        claimed_at=raw.get("claimed_at"),
        group_ids=tuple(_id(g) for g in groups if g is not None),
        metadata=dict(raw.get("metadata") or {}),
        user_type=raw.get("user_type"),
        status=invite_status(raw, now=now),
        invite_url=raw.get("invite_link"),
        raw=dict(raw),
    )
