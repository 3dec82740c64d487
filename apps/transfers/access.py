"""Who can use an app: on one instance (the app page) and across the fleet (the access review).

Provider reads run first (on worker threads for the fleet, through ``fan_out``); turning entries into rows — people
behind ToolJet groups from the directory index, names, links to where a grant can be revoked — runs afterwards on the
request's thread, which owns the database connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Q
from django.urls import reverse

from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.directory.models import DirectoryUser
from apps.providers.base import ACCESS_LEVELS, AccessEntry, RemoteApp, RemoteWorkspace
from apps.providers.http import fan_out

FLEET_CONCURRENCY = 6
SOURCE_ORDER = ("direct", "folder", "group", "universal")


@dataclass
class WhoRow:
    """A group or a person who can use the app, with the level, where it comes from and where to revoke it."""

    kind: str  # group | user
    id: str
    name: str
    level: str
    source: str  # direct | universal | group | folder
    via: str = ""  # the group names or the folder name behind ``source``
    link: str = ""  # the console page where this access can be taken away

    @property
    def source_label(self) -> str:
        if self.source == "group":
            return f"via group {self.via}" if self.via else "via a group"
        if self.source == "folder":
            return f"inherited from folder {self.via}" if self.via else "inherited from its folder"
        return self.source


@dataclass
class AppReading:
    """What the instance said about one app: the entries, plus names to show them with."""

    connection: Connection
    app: RemoteApp
    workspace: RemoteWorkspace | None
    entries: tuple[AccessEntry, ...]
    folder_names: dict[str, str] = field(default_factory=dict)
    workspace_id: str | None = None


def read_app_access(
    connection: Connection,
    app: RemoteApp,
    *,
    workspace: RemoteWorkspace | None = None,
    workspace_id: str | None = None,
    provider=None,
) -> AppReading:
    """Provider calls only (safe on a worker thread). Raises ProviderError."""
    caps = connection_capabilities(connection)
    provider = provider or get_provider(connection)
    ws = (workspace.id if workspace else workspace_id) or app.workspace_id
    entries = provider.access_list("app", app.id, workspace_id=ws)
    names = provider.folder_names() if caps.supports_folders and any(e.source_ids for e in entries) else {}
    return AppReading(connection, app, workspace, entries, names, ws)


def _group_link(connection: Connection, group_id: str, ws: str | None) -> str:
    url = reverse("groups:group_detail", args=[connection.slug, group_id])
    return url + (f"?ws={ws}" if ws else "")


def _person_link(connection: Connection, user_id: str) -> str:
    return reverse("people:user_apps", args=[connection.slug, user_id])


def who_can_use(reading: AppReading) -> list[WhoRow]:
    """Groups first (by name), then people (by e-mail). ToolJet names groups only: their members are taken from the
    directory index (people in that group in the app's workspace)."""
    connection = reading.connection
    ws = reading.workspace_id
    groups = [e for e in reading.entries if e.subject_kind == "group"]
    users = [e for e in reading.entries if e.subject_kind == "user"]
    group_names = {e.subject_id: e.subject_name or e.subject_id for e in groups}
    rows = [
        WhoRow(
            kind="group",
            id=e.subject_id,
            name=group_names[e.subject_id],
            level=e.level,
            source=e.source,
            via=reading.folder_names.get(e.source_ids[0], e.source_ids[0]) if e.source == "folder" else "",
            link=_group_link(connection, e.subject_id, ws),
        )
        for e in sorted(groups, key=lambda e: group_names[e.subject_id].lower())
    ]
    index = {
        r.remote_id: r
        for r in DirectoryUser.objects.filter(
            connection=connection, remote_id__in=[e.subject_id for e in users]
        )
    }
    people: list[WhoRow] = []
    for e in users:
        row = index.get(e.subject_id)
        name = e.subject_name or (row.email if row else "") or e.subject_id
        if e.source == "group":
            gids = [g for g in e.source_ids if g in group_names]
            via = ", ".join(group_names[g] for g in gids)
            link = _group_link(connection, gids[0], ws) if gids else _person_link(connection, e.subject_id)
        else:
            folder = next(iter(e.source_ids), "")
            via = reading.folder_names.get(folder, folder) if e.source == "folder" else ""
            link = _person_link(connection, e.subject_id)
        people.append(WhoRow("user", e.subject_id, name, e.level, e.source, via, link))
    if groups and not users and ws:
        people = _members_from_index(connection, ws, groups)
    return rows + sorted(people, key=lambda r: r.name.lower())


def _members_from_index(connection: Connection, ws: str, groups: list[AccessEntry]) -> list[WhoRow]:
    """ToolJet: the people in each group (in workspace ``ws``), from the directory index, at their best level."""
    by_name = {e.subject_name: e for e in groups if e.subject_name}
    best: dict[str, WhoRow] = {}
    wanted = Q()
    for group_name in by_name:
        wanted |= Q(group_names__contains=f"|{group_name}|")
    if not by_name:
        return []
    for row in DirectoryUser.objects.filter(wanted, connection=connection):
        membership = next((m for m in row.memberships if m.get("workspace_id") == ws), None)
        if membership is None:
            continue
        held = [by_name[g] for g in membership.get("groups", ()) if g in by_name]
        if not held:
            continue
        top = max(held, key=lambda e: ACCESS_LEVELS.index(e.level))
        best[row.remote_id] = WhoRow(
            kind="user",
            id=row.remote_id,
            name=row.email,
            level=top.level,
            source="group",
            via=", ".join(sorted(e.subject_name for e in held)),
            link=_group_link(connection, top.subject_id, ws),
        )
    return list(best.values())


# -- fleet: the access review ------------------------------------------------------------------------------------


def _match_key(name: str) -> str:
    return " ".join((name or "").casefold().split())


@dataclass
class ReviewRow:
    connection: Connection
    workspace: RemoteWorkspace | None
    app: RemoteApp
    who: WhoRow


@dataclass
class AccessReview:
    name: str
    rows: list[ReviewRow] = field(default_factory=list)
    apps: list[tuple[Connection, RemoteWorkspace | None, RemoteApp]] = field(default_factory=list)
    errors: list[tuple[Connection, str]] = field(default_factory=list)
    skipped: list[tuple[Connection, str]] = field(default_factory=list)


def _read_connection(name: str):
    key = _match_key(name)

    def read(connection: Connection) -> list[AppReading]:
        caps = connection_capabilities(connection)
        provider = get_provider(connection)
        found: list[AppReading] = []
        spaces = (
            [w for w in provider.list_workspaces() if (w.status or "active") == "active"]
            if caps.supports_workspaces
            else [None]
        )
        for ws in spaces:
            for app in provider.iter_apps(ws.id if ws else None, name_contains=name):
                if _match_key(app.name) == key:
                    found.append(read_app_access(connection, app, workspace=ws, provider=provider))
        return found

    return read


def fleet_access(
    connections: list[Connection], *, name: str, max_workers: int = FLEET_CONCURRENCY
) -> AccessReview:
    """Every person who can use an app called ``name`` (matched like the fleet inventory: case and spacing
    ignored) on every instance that reports access, read concurrently."""
    review = AccessReview(name=name)
    eligible = []
    for connection in connections:
        caps = connection_capabilities(connection)
        missing = next((f for f in ("supports_app_list", "supports_access") if not getattr(caps, f)), None)
        if missing:
            review.skipped.append((connection, caps.reason(missing) or ""))
        else:
            eligible.append(connection)
    for result in fan_out(_read_connection(name), eligible, max_workers=max_workers):
        if not result.ok:
            message = getattr(result.error, "message", None) or "The instance did not answer."
            review.errors.append((result.item, message))
            continue
        for reading in result.value:
            review.apps.append((reading.connection, reading.workspace, reading.app))
            review.rows.extend(
                ReviewRow(reading.connection, reading.workspace, reading.app, who)
                for who in who_can_use(reading)
                if who.kind == "user"
            )
    review.rows.sort(key=lambda r: (r.who.name.lower(), r.connection.name.lower(), r.app.name.lower()))
    return review


CSV_HEADER = ("person", "instance", "workspace", "app", "level", "source", "revoke at")


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas in upstream-controlled text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def review_csv_rows(review: AccessReview, absolute) -> Iterator[list[str]]:
    """The CSV rows (header first); ``absolute(path)`` makes the revoke links absolute."""
    yield list(CSV_HEADER)
    for r in review.rows:
        yield [
            _csv_safe(r.who.name),
            _csv_safe(r.connection.name),
            _csv_safe(r.workspace.name if r.workspace else ""),
            _csv_safe(r.app.name),
            r.who.level,
            _csv_safe(r.who.source_label),
            absolute(r.who.link),
        ]
