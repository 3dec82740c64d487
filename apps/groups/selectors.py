"""Reads for the group pages: group lists and details live from the upstream, members, the user picker
over the directory index, and the drift report between two connections."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator
from django.http import Http404

from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.directory.models import DirectoryUser
from apps.providers.base import Capabilities, Page, RemoteGroup, RemoteInvite, RemoteWorkspace
from apps.providers.errors import ProviderError
from apps.providers.retool import vocabulary as retool
from apps.providers.retool.mapping import invite_from_wire
from apps.providers.tooljet import vocabulary as tooljet

# -- what the pages say about built-in groups -------------------------------------------------------------------

TOOLJET_DEFAULT_GROUPS = tooljet.ROLES
TOOLJET_DEFAULT_REASON = (
    "Default role groups are managed through each person's role (admin, builder, end-user), not as groups: "
    "ToolJet's API lists and edits custom groups only."
)
RETOOL_BUILTIN_WARNINGS = {
    "admin": "Built-in group: its members are instance admins. Only admins of this console may change it.",
    "editor": "Built-in group: Retool's default editors. Changes affect everyone who builds apps.",
    "viewer": "Built-in group: Retool's default viewers. Changes affect everyone who uses apps.",
    "All Users": "Built-in group: every user of the instance is a member. Its settings apply to everyone.",
}

MEMBERS_PER_PAGE = 50
GROUPS_PER_PAGE = 25


# -- context of a groups page ---------------------------------------------------------------------------------


@dataclass
class GroupsScope:
    """What a groups page of one connection needs before it reads any group."""

    connection: Connection
    capabilities: Capabilities
    per_workspace: bool = False  # ToolJet: groups live in a workspace
    workspaces: list[RemoteWorkspace] = field(default_factory=list)
    workspace: RemoteWorkspace | None = None
    unavailable: str | None = None  # plain-language reason when the connection has no groups

    @property
    def workspace_id(self) -> str | None:
        return self.workspace.id if self.workspace else None

    @property
    def granular(self) -> bool:
        return self.per_workspace

    @property
    def access_levels(self) -> bool:
        return not self.per_workspace

    @property
    def members_by_membership(self) -> bool:
        """ToolJet: membership changes go through the per-workspace membership patch."""
        return not self.capabilities.supports_group_members and self.capabilities.supports_workspaces

    @property
    def can_change_members(self) -> bool:
        return self.capabilities.supports_group_members or self.members_by_membership

    @property
    def query(self) -> str:
        return f"?ws={self.workspace_id}" if self.workspace_id else ""


def groups_scope(connection: Connection, workspace_id: str | None = None) -> GroupsScope:
    """Capabilities first; for ToolJet the workspaces, picking ``workspace_id`` (404 when unknown) or the first."""
    caps = connection_capabilities(connection)
    scope = GroupsScope(connection=connection, capabilities=caps)
    if not caps.supports_groups:
        scope.unavailable = caps.reason("supports_groups")
        return scope
    scope.per_workspace = caps.supports_workspaces
    if scope.per_workspace:
        scope.workspaces = list(get_provider(connection).list_workspaces())
        if workspace_id:
            scope.workspace = next((w for w in scope.workspaces if w.id == workspace_id), None)
            if scope.workspace is None:
                raise Http404("No such workspace")
        elif scope.workspaces:
            scope.workspace = scope.workspaces[0]
        else:
            scope.unavailable = "This instance has no workspace."
    return scope


# -- groups ----------------------------------------------------------------------------------------------------


@dataclass
class GroupListPage:
    groups: tuple[RemoteGroup, ...]
    total: int
    page: int
    per_page: int

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def group_list(scope: GroupsScope, *, search: str = "", page: int = 1) -> GroupListPage:
    """One page of groups, searched and paged by the upstream (ToolJet) or locally (Retool, one call)."""
    provider = get_provider(scope.connection)
    result: Page[RemoteGroup] = provider.list_groups(
        scope.workspace_id, search=search or None, page=page, per_page=GROUPS_PER_PAGE
    )
    total = result.total if result.total is not None else len(result.items)
    return GroupListPage(groups=result.items, total=int(total), page=page, per_page=GROUPS_PER_PAGE)


def group_get(scope: GroupsScope, group_id: str) -> RemoteGroup:
    return get_provider(scope.connection).get_group(group_id, workspace_id=scope.workspace_id)


def landing_page_name(scope: GroupsScope, group: RemoteGroup) -> str:
    """The name of the group's landing page app (Retool), "" when it has none or the app cannot be read."""
    if not group.landing_page_app_id or not scope.capabilities.supports_app_list:
        return ""
    try:
        return get_provider(scope.connection).get_app(group.landing_page_app_id).name
    except ProviderError:
        return ""


def group_version(group: RemoteGroup) -> str:
    """What the edit form remembers to detect a concurrent change: ``updated_at`` when the upstream has one
    (Retool), otherwise a fingerprint of name and permissions (ToolJet reports no timestamp on groups)."""
    if group.updated_at:
        return group.updated_at
    payload = json.dumps(
        [group.name, group.permissions, list(group.granular_permissions)], sort_keys=True, default=str
    )
    return "fp:" + hashlib.sha256(payload.encode()).hexdigest()[:20]


def workspace_apps(scope: GroupsScope) -> list[tuple[str, str]]:
    """(id, name) of the workspace's apps, for granular app permissions; [] when the app API is absent."""
    if not scope.per_workspace or not scope.capabilities.supports_app_list:
        return []
    provider = get_provider(scope.connection)
    return sorted(
        ((a.id, a.name) for a in provider.iter_apps(scope.workspace_id)), key=lambda a: a[1].lower()
    )


# -- members ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    id: str
    email: str
    name: str = ""
    is_group_admin: bool = False
    status: str = ""
    groups: tuple[str, ...] = ()  # ToolJet: the member's custom group ids in this workspace (conflict check)

    @property
    def expected_groups(self) -> str:
        return ",".join(sorted(self.groups))


def group_member_rows(scope: GroupsScope, group: RemoteGroup) -> list[MemberRow]:
    """Every member of the group: Retool lists them on the group; ToolJet only through the users of that group
    (``group_names``, re-checked against this workspace's membership, since names repeat across workspaces)."""
    if scope.per_workspace:
        provider = get_provider(scope.connection)
        rows = []
        for user in provider.iter_users(group_names=[group.name]):
            membership = user.membership(scope.workspace_id or "")
            if membership is None:
                continue
            ids = tuple(g.id for g in membership.groups)
            if group.id not in ids:
                continue
            rows.append(
                MemberRow(
                    id=user.id, email=user.email, name=user.name, status=membership.status or "", groups=ids
                )
            )
        return sorted(rows, key=lambda r: r.email.lower())
    # Retool's group names members by id and e-mail only: their names come from the directory index
    indexed = {
        row.remote_id: row
        for row in DirectoryUser.objects.filter(
            connection=scope.connection, remote_id__in=[m.id for m in group.members]
        ).only("remote_id", "name", "email")
    }
    return [
        MemberRow(
            id=m.id,
            email=m.email or (indexed[m.id].email if m.id in indexed else ""),
            name=indexed[m.id].name if m.id in indexed else "",
            is_group_admin=m.is_group_admin,
        )
        for m in group.members
    ]


def group_members_page(rows: list[MemberRow], *, q: str = "", page: Any = 1) -> DjangoPage:
    needle = (q or "").strip().lower()
    if needle:
        rows = [r for r in rows if needle in r.email.lower() or needle in r.name.lower()]
    return Paginator(rows, MEMBERS_PER_PAGE).get_page(page)


def user_picker(connection: Connection, q: str, *, workspace_id: str = "", limit: int = 15) -> list[Any]:
    """Search-as-you-type over the directory index of this connection (email or name contains ``q``); with
    ``workspace_id`` (ToolJet, where groups live in a workspace) only people who are members of it."""
    q = (q or "").strip()
    if len(q) < 2:
        return []
    from apps.directory.models import DirectoryUser, normalize

    qs = DirectoryUser.objects.filter(connection=connection, search__contains=normalize(q)).order_by("email")
    if not workspace_id:
        return list(qs[:limit])
    # memberships is JSON: filtered here, streaming this connection's hits until the page is full
    hits = qs.iterator(chunk_size=200)
    members = (row for row in hits if any(m.get("workspace_id") == workspace_id for m in row.memberships))
    return list(itertools.islice(members, limit))


# -- drift report ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftRow:
    group: str
    setting: str
    left: str
    right: str

    @property
    def differs(self) -> bool:
        return self.left != self.right


@dataclass
class DriftReport:
    left: GroupsScope
    right: GroupsScope
    rows: list[DriftRow]

    @property
    def differences(self) -> int:
        return sum(1 for r in self.rows if r.differs)

    def by_group(self) -> list[tuple[str, list[DriftRow], bool]]:
        out: dict[str, list[DriftRow]] = {}
        for row in self.rows:
            out.setdefault(row.group, []).append(row)
        return [(name, rows, any(r.differs for r in rows)) for name, rows in out.items()]


MISSING = "— (no such group)"


def _fmt(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False or value is None:
        return "no"
    return str(value)


def _yes_no(value: Any) -> str:
    """A flag as the group form posts it ("on", absent) or the upstream holds it (a bool)."""
    return "yes" if value and value not in ("false", "0", "off") else "no"


def _granular_access(kind: str, perms: Mapping[str, Any]) -> str:
    """What a ToolJet granular entry allows: data sources are used or configured, apps viewed or edited."""
    if kind == "data_source":
        return "configure" if perms.get("canConfigure") else "use"
    return "edit" if perms.get("canEdit") else "view"


def granular_rows(scope: GroupsScope, group: RemoteGroup) -> list[dict[str, Any]]:
    """The group page's table of granular permissions, app ids shown as names."""
    if not group.granular_permissions:
        return []
    names = dict(workspace_apps(scope))
    types = dict(tooljet.GRANULAR_TYPES)
    rows = []
    for entry in group.granular_permissions:
        kind = entry.get("type")
        perms = entry.get("permissions") or {}
        resources = entry.get("resources") or ()
        rows.append(
            {
                "type": types.get(kind, kind),
                "target": "All" if entry.get("applyToAll") else ", ".join(names.get(r, r) for r in resources),
                "access": _granular_access(str(kind), perms),
                "hidden": bool(perms.get("hideFromDashboard")),
                "environments": ", ".join(perms.get("environments") or ()),
            }
        )
    return rows


def conflict_rows(
    scope: GroupsScope, current: RemoteGroup, submitted: Mapping[str, Any]
) -> list[tuple[str, str, str]]:
    """(setting, now upstream, in the operator's form) for the edit form's conflict panel."""
    rows = [("Name", current.name, submitted.get("name", ""))]
    if scope.granular:
        for key, label in tooljet.PERMISSIONS:
            rows.append((label, _yes_no(current.permissions.get(key)), _yes_no(submitted.get(f"perm_{key}"))))
    else:
        for key, label, _ in retool.ACCESS_LEVELS:
            rows.append((label, current.permissions.get(key, "none"), submitted.get(key, "")))
        for key, label in retool.FLAGS:
            rows.append((label, _yes_no(current.permissions.get(key)), _yes_no(submitted.get(key))))
    return rows


def _granular_lines(group: RemoteGroup, app_names: dict[str, str]) -> dict[str, str]:
    """Granular entries described by type, with app ids turned into names so two instances compare."""
    out: dict[str, list[str]] = {}
    for entry in group.granular_permissions:
        kind = str(entry.get("type", "?"))
        perms = entry.get("permissions") or {}
        what = _granular_access(kind, perms)
        if kind != "data_source" and perms.get("hideFromDashboard"):
            what += ", hidden"
        envs = perms.get("environments") or []
        if envs:
            what += f" in {'/'.join(sorted(envs))}"
        if entry.get("applyToAll"):
            target = "all"
        else:
            target = ", ".join(sorted(app_names.get(r, r) for r in entry.get("resources") or ()))
        out.setdefault(f"granular: {kind}", []).append(f"{target}: {what}")
    return {k: "; ".join(sorted(v)) for k, v in out.items()}


def _snapshot(scope: GroupsScope) -> dict[str, dict[str, str]]:
    provider = get_provider(scope.connection)
    app_names = dict(workspace_apps(scope)) if scope.granular else {}
    snapshot: dict[str, dict[str, str]] = {}
    for group in provider.iter_groups(scope.workspace_id):
        if scope.granular:
            settings = {label: _fmt(group.permissions.get(key, False)) for key, label in tooljet.PERMISSIONS}
            settings.update(_granular_lines(group, app_names))
        else:
            settings = {
                label: _fmt(group.permissions.get(key, "none")) for key, label, _ in retool.ACCESS_LEVELS
            }
            settings.update({label: _fmt(group.permissions.get(key, False)) for key, label in retool.FLAGS})
        snapshot[group.name] = settings
    return snapshot


MEMBERS = "members only here (e-mail, from the index)"


def _indexed_members(scope: GroupsScope) -> dict[str, set[str]]:
    """group name → the e-mails the directory index has in it on this side (ToolJet: in this workspace)."""
    from apps.directory.models import DirectoryUser

    out: dict[str, set[str]] = {}
    rows = DirectoryUser.objects.filter(connection=scope.connection).exclude(group_names="")
    for email, memberships, groups in rows.values_list("email", "memberships", "groups"):
        if scope.per_workspace:
            names = [
                g for m in memberships if m.get("workspace_id") == scope.workspace_id for g in m["groups"]
            ]
        else:
            names = [g["name"] for g in groups]
        for name in names:
            out.setdefault(name, set()).add(email)
    return out


def indexed_member_counts(scope: GroupsScope) -> dict[str, int]:
    """group name → how many people the directory index has in it on this side."""
    return {name: len(emails) for name, emails in _indexed_members(scope).items()}


def drift_report(left: GroupsScope, right: GroupsScope, *, differences_only: bool = False) -> DriftReport:
    """Every group of either side by name; one row per setting, both values; missing groups and settings shown.
    For a group on both sides, who is in it on one side and not the other (by e-mail, from the directory index).
    ``differences_only`` keeps the rows that differ."""
    a, b = _snapshot(left), _snapshot(right)
    members_a, members_b = _indexed_members(left), _indexed_members(right)
    rows: list[DriftRow] = []
    for name in sorted(set(a) | set(b), key=str.lower):
        if name not in a or name not in b:
            rows.append(
                DriftRow(name, "exists", "yes" if name in a else MISSING, "yes" if name in b else MISSING)
            )
        left_settings, right_settings = a.get(name, {}), b.get(name, {})
        keys = list(left_settings) + [k for k in right_settings if k not in left_settings]
        for key in keys:
            rows.append(
                DriftRow(
                    name,
                    key,
                    left_settings.get(key, "—") if name in a else "",
                    right_settings.get(key, "—") if name in b else "",
                )
            )
        if name in a and name in b:
            here, there = members_a.get(name, set()), members_b.get(name, set())
            rows.append(
                DriftRow(
                    name,
                    MEMBERS,
                    ", ".join(sorted(here - there)) or "—",
                    ", ".join(sorted(there - here)) or "—",
                )
            )
    if differences_only:
        rows = [r for r in rows if r.differs]
    return DriftReport(left=left, right=right, rows=rows)


def group_pending_invites(group: RemoteGroup) -> list[RemoteInvite]:
    """The invites that will put someone in this group when claimed (Retool lists them on the group,
    ``user_invites``): pending ones only, by e-mail."""
    invites = (invite_from_wire(raw) for raw in group.user_invites if isinstance(raw, Mapping))
    return sorted((i for i in invites if i.status == "pending"), key=lambda i: i.email.lower())
