"""Retool API v2 wire shapes ↔ normalized dataclasses (retool.md §5–§9)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.providers.base import (
    RemoteApp,
    RemoteAttribute,
    RemoteGroup,
    RemoteGroupRef,
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
