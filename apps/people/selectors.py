"""People reads: the live user detail, read fresh from upstream."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.providers.base import Capabilities, RemoteAttribute, RemoteUser, RemoteWorkspace


@dataclass
class UserDetail:
    user: RemoteUser
    caps: Capabilities
    workspaces: list[RemoteWorkspace] = field(default_factory=list)  # ToolJet: every workspace (for "add")
    attributes: list[RemoteAttribute] = field(default_factory=list)  # Retool: declared attributes

    @property
    def addable_workspaces(self) -> list[RemoteWorkspace]:
        """The active workspaces this user is not a member of (the "add to workspace" choices)."""
        member_of = {m.workspace_id for m in self.user.workspaces}
        return [w for w in _active(self.workspaces) if w.id not in member_of]


def _active(workspaces) -> list[RemoteWorkspace]:
    return [w for w in workspaces if (w.status or "active") == "active"]


def active_workspaces(*, connection: Connection) -> list[RemoteWorkspace]:
    """The workspaces a new user can be invited to (archived ones left out). Raises ProviderError."""
    with get_provider(connection) as provider:
        return _active(provider.list_workspaces())


def user_detail_get(*, connection: Connection, user_id: str) -> UserDetail:
    """The user read fresh from upstream, plus what the change forms need (ToolJet workspaces, Retool declared
    attributes). Raises ProviderError."""
    caps = connection_capabilities(connection)
    with get_provider(connection) as provider:
        user = provider.get_user(user_id)
        detail = UserDetail(user=user, caps=caps)
        if caps.supports_workspaces:
            detail.workspaces = provider.list_workspaces()
        if caps.supports_user_attributes:
            detail.attributes = provider.list_user_attributes()
    return detail


@dataclass
class AppAccessRow:
    """An app a person can use on this instance, at which level and why."""

    app_id: str
    app_name: str
    level: str
    source: str  # direct | folder | group | universal
    via: str = ""  # group names or folder name
    workspace_id: str | None = None
    workspace_name: str = ""
    grant: str = ""  # "kind:id" of the person's own grant behind this row, which can be revoked ("" for none)

    @property
    def source_label(self) -> str:
        if self.source == "group":
            return f"via group {self.via}" if self.via else "via a group"
        if self.source == "folder":
            return f"inherited from folder {self.via}" if self.via else "inherited from its folder"
        return self.source


def user_app_access(*, connection: Connection, user: RemoteUser) -> list[AppAccessRow]:
    """The apps the person can use: Retool from the permissions API (their own grants and folders'; their groups'
    grants are named as the groups), ToolJet through their custom groups in each workspace. Raises ProviderError."""
    caps = connection_capabilities(connection)
    rows: list[AppAccessRow] = []
    with get_provider(connection) as provider:
        if caps.supports_workspaces:
            for m in user.workspaces:
                names = {a.id: a.name for a in provider.iter_apps(m.workspace_id)}
                group_names = {g.id: g.name for g in m.groups}
                for e in provider.list_access(
                    subject_kind="user",
                    subject_id=user.id,
                    object_kind="app",
                    include_inherited=True,
                    workspace_id=m.workspace_id,
                ):
                    rows.append(
                        AppAccessRow(
                            app_id=e.object_id,
                            app_name=e.object_name or names.get(e.object_id, e.object_id),
                            level=e.level,
                            source=e.source,
                            via=", ".join(group_names.get(g, g) for g in e.source_ids),
                            workspace_id=m.workspace_id,
                            workspace_name=m.workspace_name or "",
                        )
                    )
        else:
            rows = _retool_app_access(provider, caps, user)
    return sorted(rows, key=lambda r: (r.workspace_name.lower(), r.app_name.lower()))


_RANK = {"use": 1, "edit": 2, "own": 3}
_SOURCE_RANK = {"direct": 0, "folder": 1, "group": 2, "universal": 3}


def _retool_app_access(provider, caps: Capabilities, user: RemoteUser) -> list[AppAccessRow]:
    """Retool: the person's own grants (``listObjects`` with ``include_inherited_access``: apps granted directly or
    through a folder; without it: the direct ones), then each of their groups' (universal level, app and folder grants); per app the strongest
    level, and the most direct source at that level."""
    apps = {a.id: a for a in provider.iter_apps()}
    folders = provider.folder_names() if caps.supports_folders else {}
    best: dict[str, AppAccessRow] = {}

    def offer(app_id: str, level: str, source: str, via: str = "") -> None:
        app = apps.get(app_id)
        grant = ""
        if source == "direct":
            grant = f"app:{app_id}"
        elif source == "folder" and app and app.folder_id:
            grant = f"folder:{app.folder_id}"
        row = AppAccessRow(app_id, app.name if app else app_id, level, source, via, grant=grant)
        have = best.get(app_id)
        if have is None or (_RANK.get(level, 0), -_SOURCE_RANK[source]) > (
            _RANK.get(have.level, 0),
            -_SOURCE_RANK[have.source],
        ):
            best[app_id] = row

    def folder_of(app_id: str) -> str:
        app = apps.get(app_id)
        return folders.get(app.folder_id, app.folder_id) if app and app.folder_id else ""

    def group_grants(group_id: str, name: str) -> None:
        for e in provider.list_access(subject_kind="group", subject_id=group_id, object_kind="app"):
            offer(e.object_id, e.level, "group", name)
        if caps.supports_folders:
            held = provider.list_access(subject_kind="group", subject_id=group_id, object_kind="folder")
            by_folder = {e.object_id: e.level for e in held}
            for app in apps.values():
                if level := by_folder.get(app.folder_id or ""):
                    offer(app.id, level, "group", name)

    direct = {
        e.object_id for e in provider.list_access(subject_kind="user", subject_id=user.id, object_kind="app")
    }
    for e in provider.list_access(
        subject_kind="user", subject_id=user.id, object_kind="app", include_inherited=True
    ):
        if e.object_id in direct:
            offer(e.object_id, e.level, "direct")
        else:
            offer(e.object_id, e.level, "folder", folder_of(e.object_id))
    mine = {g.id for g in user.groups}
    for group in provider.iter_groups() if mine else ():
        if group.id not in mine:
            continue
        universal = str(group.permissions.get("universal_app_access") or "none")
        if universal in _RANK:
            for app_id in apps:
                offer(app_id, universal, "group", group.name)
        group_grants(group.id, group.name)
    return list(best.values())
