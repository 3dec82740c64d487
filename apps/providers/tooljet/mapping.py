"""ToolJet wire shapes ↔ normalized dataclasses (tooljet.md §6).

Group permissions: ToolJet **reads** snake_case (``apps_create``; older builds a single ``folder``) and **writes**
camelCase (``appCreate``; older builds ``folderCRUD``). The canonical form in :class:`RemoteGroup.permissions` is
camelCase with ``folderCreate``/``folderDelete`` (an older ``folder`` flag is expanded to both).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from apps.providers.base import (
    ACCESS_LEVELS,
    AccessEntry,
    RemoteApp,
    RemoteGroup,
    RemoteGroupRef,
    RemoteMembership,
    RemoteMetadata,
    RemoteUser,
    RemoteWorkspace,
    WorkspaceAssignment,
)
from apps.providers.tooljet.vocabulary import ROLE_GROUP_NAMES, ROLES

SNAKE_TO_CAMEL = {
    "apps_create": "appCreate",
    "apps_delete": "appDelete",
    "apps_promote": "appPromote",
    "apps_release": "appRelease",
    "workflows_create": "workflowCreate",
    "workflows_delete": "workflowDelete",
    "datasources_create": "dataSourceCreate",
    "datasources_delete": "dataSourceDelete",
    "workspace_constants": "orgConstantCRUD",
    "folder_create": "folderCreate",
    "folder_delete": "folderDelete",
}
CAMEL_KEYS = frozenset(SNAKE_TO_CAMEL.values())


def permissions_from_wire(raw: Mapping[str, Any] | None) -> dict[str, bool]:
    """Snake_case or camelCase, older ``folder``/``folderCRUD`` or newer split keys → canonical camelCase."""
    out: dict[str, bool] = {}
    for key, value in (raw or {}).items():
        if key in SNAKE_TO_CAMEL:
            out[SNAKE_TO_CAMEL[key]] = bool(value)
        elif key in CAMEL_KEYS:
            out[key] = bool(value)
        elif key in ("folder", "folderCRUD", "folder_crud"):
            out.setdefault("folderCreate", bool(value))
            out.setdefault("folderDelete", bool(value))
    return out


def uses_legacy_folder_key(raw: Mapping[str, Any] | None) -> bool:
    raw = raw or {}
    return (
        ("folder" in raw or "folderCRUD" in raw) and "folder_create" not in raw and "folderCreate" not in raw
    )


def permissions_to_wire(perms: Mapping[str, Any] | None, *, legacy_folder: bool = False) -> dict[str, bool]:
    """Canonical (or snake_case) → the camelCase request body; ``legacy_folder`` sends ``folderCRUD``."""
    canonical = permissions_from_wire(perms)
    if perms and "folderCRUD" in perms:
        canonical["folderCreate"] = canonical["folderDelete"] = bool(perms["folderCRUD"])
    if legacy_folder:
        create = canonical.pop("folderCreate", None)
        delete = canonical.pop("folderDelete", None)
        if create is not None or delete is not None:
            canonical["folderCRUD"] = bool(create if create is not None else delete)
    return canonical


def group_from_wire(raw: Mapping[str, Any], *, workspace_id: str | None = None) -> RemoteGroup:
    return RemoteGroup(
        id=str(raw.get("id", "")),
        name=str(raw.get("name", "")),
        workspace_id=workspace_id or raw.get("organizationId"),
        permissions=permissions_from_wire(raw.get("permissions")),
        granular_permissions=tuple(dict(g) for g in raw.get("granularPermissions") or ()),
        members=(),
        is_builtin=raw.get("type") == "default" or raw.get("name") in ROLE_GROUP_NAMES,
        updated_at=raw.get("updatedAt") or raw.get("updated_at"),
        created_at=raw.get("createdAt") or raw.get("created_at"),
        raw=dict(raw),
    )


def _refs(items: Any) -> tuple[RemoteGroupRef, ...]:
    return tuple(
        RemoteGroupRef(id=str(g.get("id", "")), name=str(g.get("name", "")), type=g.get("type"))
        for g in items or ()
        if isinstance(g, Mapping)
    )


def split_name(name: str | None) -> tuple[str, str]:
    """ToolJet splits ``name`` at the first space into first/last name."""
    first, _, last = (name or "").strip().partition(" ")
    return first, last.strip()


def user_from_wire(raw: Mapping[str, Any]) -> RemoteUser:
    user_groups = _refs(raw.get("userGroups"))
    memberships = []
    invite_urls: dict[str, str] = {}
    workspaces = [w for w in raw.get("workspaces") or () if isinstance(w, Mapping)]
    for w in workspaces:
        ws_groups = _refs(w.get("groups"))
        perm = w.get("userPermission") if isinstance(w.get("userPermission"), Mapping) else None
        role = perm.get("name") if perm else None
        if role is None:
            role = next((g.name for g in ws_groups if g.name in ROLES), None)
        if role is None and len(workspaces) == 1:
            role = next((g.name for g in user_groups if g.name in ROLES), None)
        custom = tuple(g for g in ws_groups if g.name not in ROLE_GROUP_NAMES)
        if not ws_groups and len(workspaces) == 1:
            custom = tuple(g for g in user_groups if g.name not in ROLE_GROUP_NAMES)
        ws_id = str(w.get("id", ""))
        if w.get("inviteUrl"):
            invite_urls[ws_id] = w["inviteUrl"]
        memberships.append(
            RemoteMembership(
                workspace_id=ws_id,
                workspace_name=w.get("name"),
                status=w.get("status"),
                role=role,
                groups=custom,
                invite_url=w.get("inviteUrl"),
            )
        )
    metadata: dict[str, Any] = {}
    for detail in raw.get("userDetails") or ():
        if isinstance(detail, Mapping) and detail.get("organizationId"):
            metadata[str(detail["organizationId"])] = dict(detail.get("userMetadata") or {})
    name = str(raw.get("name") or "").strip()
    first, last = split_name(name)
    status = str(raw.get("status") or "active")
    return RemoteUser(
        id=str(raw.get("id", "")),
        email=str(raw.get("email", "")),
        name=name,
        first_name=raw.get("firstName", first),
        last_name=raw.get("lastName", last),
        status=status,
        active=status == "active",
        is_admin=any(m.role == "admin" for m in memberships),
        workspaces=tuple(memberships),
        groups=user_groups,
        metadata=metadata,
        user_type=None,
        invite_urls=invite_urls,
        created_at=raw.get("createdAt"),
        raw=dict(raw),
    )


def workspace_from_wire(raw: Mapping[str, Any]) -> RemoteWorkspace:
    return RemoteWorkspace(
        id=str(raw.get("id", "")),
        name=str(raw.get("name", "")),
        status=raw.get("status"),
        slug=raw.get("slug"),
        groups=_refs(raw.get("groups")),
        raw=dict(raw),
    )


def app_from_wire(raw: Mapping[str, Any], *, workspace_id: str | None = None) -> RemoteApp:
    return RemoteApp(
        id=str(raw.get("id", "")),
        name=str(raw.get("name", "")),
        slug=raw.get("slug"),
        workspace_id=raw.get("organizationId") or workspace_id,
        folder_id=raw.get("folderId"),
        versions=tuple(
            (str(v.get("id", "")), str(v.get("name", "")))
            for v in raw.get("versions") or ()
            if isinstance(v, Mapping)
        ),
        updated_at=raw.get("updatedAt"),
        raw=dict(raw),
    )


def metadata_from_wire(raw: Mapping[str, Any]) -> RemoteMetadata:
    return RemoteMetadata(
        user_id=str(raw.get("id", "")),
        email=raw.get("email"),
        name=raw.get("name"),
        status=raw.get("status"),
        items=tuple(
            (str(d.get("key", "")), "" if d.get("value") is None else str(d.get("value")))
            for d in raw.get("userDetails") or ()
            if isinstance(d, Mapping)
        ),
        raw=dict(raw),
    )


def metadata_items(
    items: Mapping[str, str] | Sequence[tuple[str, str]] | None,
) -> tuple[tuple[str, str], ...]:
    pairs = items.items() if isinstance(items, Mapping) else (items or ())
    out = []
    for key, value in pairs:
        key = str(key).strip()
        if not key:
            raise ValueError("metadata keys must be non-empty")
        out.append((key, "" if value is None else str(value)))
    return tuple(out)


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def looks_like_uuid(value: str) -> bool:
    return bool(_UUID.match(value or ""))


def _group_ref_to_wire(ref: str) -> dict[str, str]:
    return {"id": ref} if looks_like_uuid(ref) else {"name": ref}


def workspace_to_wire(assignment: WorkspaceAssignment) -> dict[str, Any]:
    if not assignment.workspace_id and not assignment.workspace_name:
        raise ValueError("a workspace assignment needs an id or a name")
    if assignment.role is not None and assignment.role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    body: dict[str, Any] = {}
    if assignment.workspace_id:
        body["id"] = assignment.workspace_id
    else:
        body["name"] = assignment.workspace_name
    if assignment.role:
        body["role"] = assignment.role
    if assignment.status:
        body["status"] = assignment.status
    if assignment.groups is not None:
        bad = [g for g in assignment.groups if g in ROLE_GROUP_NAMES]
        if bad:
            raise ValueError("roles go in the role field, not in groups")
        body["groups"] = [_group_ref_to_wire(g) for g in assignment.groups]
    return body


# -- app access from granular permissions (the shape Retool's permissions API gives, base.AccessEntry) ------------


def _resource_ids(resources: Any) -> list[str]:
    return [
        str(r.get("id", "")) if isinstance(r, Mapping) else str(r)
        for r in resources or ()
        if r is not None and (not isinstance(r, Mapping) or r.get("id"))
    ]


def group_app_access(group: RemoteGroup, *, all_app_ids: Sequence[str] = ()) -> dict[str, tuple[str, str]]:
    """App id → (level, source) for one custom group: a granular ``app`` entry with ``canEdit`` is ``edit``,
    otherwise ``use``; listed resources are ``direct``, ``applyToAll`` reaches every app in ``all_app_ids`` as
    ``universal``. Where both apply, the higher level wins and ``direct`` names the source."""
    out: dict[str, tuple[str, str]] = {}
    for entry in group.granular_permissions:
        if entry.get("type") != "app":
            continue
        perms = entry.get("permissions") or {}
        level = "edit" if perms.get("canEdit") else "use"
        if entry.get("applyToAll"):
            targets = [(app_id, "universal") for app_id in all_app_ids]
        else:
            targets = [(app_id, "direct") for app_id in _resource_ids(entry.get("resources"))]
        for app_id, source in targets:
            have = out.get(app_id)
            if have is None:
                out[app_id] = (level, source)
            else:
                best = max(have[0], level, key=ACCESS_LEVELS.index)
                out[app_id] = (best, "direct" if "direct" in (have[1], source) else source)
    return out


def group_covers_all_apps(group: RemoteGroup) -> bool:
    return any(e.get("type") == "app" and e.get("applyToAll") for e in group.granular_permissions)


def app_access_entry(
    group: RemoteGroup, app_id: str, level: str, source: str, *, app_name: str = ""
) -> AccessEntry:
    return AccessEntry(
        subject_kind="group",
        subject_id=group.id,
        subject_name=group.name,
        object_kind="app",
        object_id=app_id,
        object_name=app_name,
        level=level,
        source=source,
        sources=(source,),
    )
