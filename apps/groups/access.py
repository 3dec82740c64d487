"""What a group can use (Retool's permissions API; ToolJet's custom groups read through the same shape).

``group_access(scope, group)`` reads the group's folders and apps with their level and where it comes from;
``group_access_grant`` / ``group_access_revoke`` own the provider call, the policy check and the one audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied

from apps.accounts.policy import Change, Target, decide
from apps.audit.models import AuditEvent
from apps.audit.services import audited
from apps.connections.clients import get_provider
from apps.groups.permissions import is_admin_group
from apps.groups.selectors import GroupsScope
from apps.providers.base import ACCESS_LEVELS, AccessEntry, RemoteGroup
from apps.providers.errors import ConflictError

Action = AuditEvent.Action

OBJECT_KINDS = ("folder", "app")
UNIVERSAL_KEY = "universal_app_access"  # Retool: the group's level for every app (and app folder)


def _stronger(a: str, b: str) -> str:
    """The stronger of two levels ("" or "none" is no access)."""
    rank = {level: n for n, level in enumerate(ACCESS_LEVELS, start=1)}
    return a if rank.get(a, 0) >= rank.get(b, 0) else b


@dataclass
class AccessRow:
    """One folder or app on the group's access panel."""

    kind: str  # folder | app
    id: str
    name: str
    depth: int = 0
    direct: str = ""  # the level granted on this object itself ("" when none)
    inherited: str = ""  # apps: the level granted on the folder they are in
    universal: str = ""  # the group's universal level ("" when none)
    system: bool = False

    @property
    def level(self) -> str:
        return _stronger(_stronger(self.direct, self.inherited), self.universal)

    @property
    def source(self) -> str:
        """Where the effective level comes from: direct, folder (inherited), universal, or "" for none."""
        level = self.level
        if not level:
            return ""
        for source, have in (
            ("direct", self.direct),
            ("folder", self.inherited),
            ("universal", self.universal),
        ):
            if have == level:
                return source
        return ""

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass
class GroupAccess:
    rows: list[AccessRow] = field(default_factory=list)
    universal: str = ""
    folders: bool = False  # the instance has folders (Retool)

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(value, label) of every object a grant can be about, in panel order."""
        return [
            (r.value, ("— " * r.depth) + (f"{r.name}/" if r.kind == "folder" else r.name)) for r in self.rows
        ]


def _universal(group: RemoteGroup) -> str:
    level = str(group.permissions.get(UNIVERSAL_KEY) or "")
    return level if level in ACCESS_LEVELS else ""


def group_access(scope: GroupsScope, group: RemoteGroup) -> GroupAccess:
    """The group's folders (tree order) with the apps directly inside each, every one with the group's level.
    Raises ProviderError."""
    caps = scope.capabilities
    ws = scope.workspace_id
    provider = get_provider(scope.connection)
    universal = _universal(group)
    result = GroupAccess(universal=universal, folders=caps.supports_folders)
    apps = sorted(provider.iter_apps(ws), key=lambda a: a.name.lower()) if caps.supports_app_list else []
    held = provider.list_access(subject_kind="group", subject_id=group.id, object_kind="app", workspace_id=ws)
    app_levels = {e.object_id: e.level for e in held if e.source == "direct"}
    if not caps.supports_folders:  # ToolJet: "all apps" is the group's universal level
        every = {e.object_id: e.level for e in held if e.source == "universal"}
        result.rows = [
            AccessRow(
                kind="app",
                id=a.id,
                name=a.name,
                direct=app_levels.get(a.id, ""),
                universal=every.get(a.id, ""),
            )
            for a in apps
        ]
        return result
    folder_levels = {
        e.object_id: e.level
        for e in provider.list_access(subject_kind="group", subject_id=group.id, object_kind="folder")
    }
    by_folder: dict[str, list] = {}
    for app in apps:
        by_folder.setdefault(app.folder_id or "", []).append(app)
    folders = provider.list_folders("app")
    known = {f.id for f in folders}
    for folder in folders:
        level = folder_levels.get(folder.id, "")
        result.rows.append(
            AccessRow(
                kind="folder",
                id=folder.id,
                name=folder.name,
                depth=folder.depth,
                direct=level,
                universal=universal,
                system=folder.is_system,
            )
        )
        for app in by_folder.get(folder.id, ()):
            result.rows.append(
                AccessRow(
                    kind="app",
                    id=app.id,
                    name=app.name,
                    depth=folder.depth + 1,
                    direct=app_levels.get(app.id, ""),
                    inherited=level,
                    universal=universal,
                )
            )
    for fid, loose in by_folder.items():  # apps whose folder is not listed (none, or not readable)
        if fid not in known:
            result.rows.extend(
                AccessRow(
                    kind="app", id=a.id, name=a.name, direct=app_levels.get(a.id, ""), universal=universal
                )
                for a in loose
            )
    return result


# -- writes ------------------------------------------------------------------------------------------------------


def _check(actor, action: str, scope: GroupsScope, group: RemoteGroup, *levels: str) -> None:
    decision = decide(
        operator=actor,
        action=action,
        target=Target(
            connection=scope.connection,
            kind="group",
            admin_group=is_admin_group(group),
            admin_level="own" in levels,
        ),
    )
    if not decision.allowed:
        raise PermissionDenied(decision.reason)


def _direct_level(provider, group_id: str, object_kind: str, object_id: str) -> str:
    held = provider.list_access(subject_kind="group", subject_id=group_id, object_kind=object_kind)
    return next((e.level for e in held if e.object_id == object_id and e.source == "direct"), "")


def _target(scope: GroupsScope, group_id: str, name: str = "") -> dict[str, str]:
    return {"target_type": "group", "target_id": str(group_id), "target_repr": name or str(group_id)}


def _level_after(entries: tuple[AccessEntry, ...], object_id: str) -> str:
    return next((e.level for e in entries if e.object_id == object_id), "")


def group_access_grant(
    *,
    scope: GroupsScope,
    actor,
    group_id: str,
    object_kind: str,
    object_id: str,
    object_name: str = "",
    level: str,
    reason: str = "",
    ticket: str = "",
) -> str:
    """Grant (or change to) ``level`` on a folder or app; returns the level the group now holds there. ``before``
    and ``after`` of the audit row are the group's direct level on that object. Own is admin-level: admin operators
    only (``apps.accounts.policy``)."""
    if object_kind not in OBJECT_KINDS or level not in ACCESS_LEVELS:
        raise ValueError("grant a level of use, edit or own on a folder or an app")
    provider = get_provider(scope.connection)
    with audited(
        action=Action.GROUP_ACCESS_GRANT,
        actor=actor,
        connection=scope.connection,
        reason=reason,
        ticket=ticket,
        extra={"object_kind": object_kind, "object_id": object_id, "object_name": object_name},
        **_target(scope, group_id),
    ) as event:
        group = provider.get_group(group_id, workspace_id=scope.workspace_id)
        event.target_repr = group.name
        before = _direct_level(provider, group.id, object_kind, object_id)
        event.before = {"object": f"{object_kind}:{object_id}", "level": before or None}
        _check(actor, Change.GROUP_ACCESS_GRANT, scope, group, level, before)
        if before == level:
            raise ConflictError(f"{group.name} already has {level} on {object_name or object_id}.")
        entries = provider.grant_access(
            subject_kind="group",
            subject_id=group.id,
            object_kind=object_kind,
            object_id=object_id,
            level=level,
        )
        after = _level_after(entries, object_id)
        event.after = {"object": f"{object_kind}:{object_id}", "level": after or None}
    return after


def group_access_revoke(
    *,
    scope: GroupsScope,
    actor,
    group_id: str,
    object_kind: str,
    object_id: str,
    object_name: str = "",
    reason: str = "",
    ticket: str = "",
) -> None:
    """Take away the group's direct grant on a folder (and with it the apps directly inside) or an app. Revoking
    ``own`` is admin-level, like granting it."""
    if object_kind not in OBJECT_KINDS:
        raise ValueError("revoke access to a folder or an app")
    provider = get_provider(scope.connection)
    with audited(
        action=Action.GROUP_ACCESS_REVOKE,
        actor=actor,
        connection=scope.connection,
        reason=reason,
        ticket=ticket,
        extra={"object_kind": object_kind, "object_id": object_id, "object_name": object_name},
        **_target(scope, group_id),
    ) as event:
        group = provider.get_group(group_id, workspace_id=scope.workspace_id)
        event.target_repr = group.name
        before = _direct_level(provider, group.id, object_kind, object_id)
        event.before = {"object": f"{object_kind}:{object_id}", "level": before or None}
        _check(actor, Change.GROUP_ACCESS_REVOKE, scope, group, before)
        if not before:
            raise ConflictError(f"{group.name} holds no grant on {object_name or object_id} to revoke.")
        entries = provider.revoke_access(
            subject_kind="group", subject_id=group.id, object_kind=object_kind, object_id=object_id
        )
        after = _level_after(entries, object_id)
        event.after = {"object": f"{object_kind}:{object_id}", "level": after or None}
