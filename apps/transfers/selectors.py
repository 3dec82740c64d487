"""Reads: app inventories per connection and across the fleet, bundles, staged imports."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import ijson
from django.core.cache import cache
from django.http import Http404

from apps.audit.models import AuditEvent
from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.providers.base import Capabilities, RemoteApp, RemoteWorkspace
from apps.providers.errors import ProviderError
from apps.providers.http import fan_out
from apps.providers.streams import IterReader
from apps.transfers.models import Bundle, StagedImport
from apps.transfers.preflight import header_tooljet_version, version_newer

logger = logging.getLogger(__name__)

FLEET_CONCURRENCY = 6


@dataclass
class WorkspaceApps:
    workspace: RemoteWorkspace
    apps: list[RemoteApp] = field(default_factory=list)
    error: str = ""


@dataclass
class FolderApps:
    folder_id: str
    apps: list[RemoteApp] = field(default_factory=list)
    name: str = ""  # the folder's name (its path where names repeat); "" when unknown


@dataclass
class Inventory:
    connection: Connection
    capabilities: Capabilities
    workspaces: list[WorkspaceApps] = field(default_factory=list)  # ToolJet
    folders: list[FolderApps] = field(default_factory=list)  # Retool
    error: str = ""

    @property
    def apps(self) -> list[tuple[RemoteWorkspace | None, RemoteApp]]:
        rows: list[tuple[RemoteWorkspace | None, RemoteApp]] = []
        for group in self.workspaces:
            rows.extend((group.workspace, app) for app in group.apps)
        for folder in self.folders:
            rows.extend((None, app) for app in folder.apps)
        return rows

    @property
    def folder_ids(self) -> list[str]:
        """The folders the apps live in (Retool), for the clone form's folder choice."""
        return sorted({app.folder_id for _ws, app in self.apps if app.folder_id})


def app_inventory(
    connection: Connection, *, workspace_id: str | None = None, q: str = "", provider=None
) -> Inventory:
    """Apps of one connection. ToolJet: grouped by workspace (with versions); Retool: ``name_contains`` search,
    grouped by folder. Raises ProviderError (the caller renders it)."""
    caps = connection_capabilities(connection)
    inventory = Inventory(connection=connection, capabilities=caps)
    if not caps.supports_app_list:
        return inventory
    provider = provider or get_provider(connection)
    needle = (q or "").strip()
    if caps.supports_workspaces:
        for ws in provider.list_workspaces():
            if workspace_id and ws.id != workspace_id:
                continue
            if ws.status and ws.status != "active" and not workspace_id:
                continue
            group = WorkspaceApps(workspace=ws)
            try:
                group.apps = sorted(
                    provider.iter_apps(ws.id, name_contains=needle or None), key=lambda a: a.name.lower()
                )
            except ProviderError as exc:
                group.error = exc.message
            inventory.workspaces.append(group)
    else:
        folders: dict[str, list[RemoteApp]] = defaultdict(list)
        for app in provider.iter_apps(name_contains=needle or None):
            folders[app.folder_id or ""].append(app)
        names = folder_names(connection, provider=provider) if folders else {}
        inventory.folders = [
            FolderApps(
                folder_id=fid, apps=sorted(apps, key=lambda a: a.name.lower()), name=names.get(fid, "")
            )
            for fid, apps in sorted(folders.items(), key=lambda item: names.get(item[0], item[0]).lower())
        ]
    return inventory


def folder_names(connection: Connection, *, provider=None) -> dict[str, str]:
    """Folder id → name (a path where names repeat) for the instance's app folders; ``{}`` when it has no folders
    or they cannot be read (the page then shows ids)."""
    if not connection_capabilities(connection).supports_folders:
        return {}
    provider = provider or get_provider(connection)
    try:
        return provider.folder_names()
    except ProviderError as exc:
        logger.info("folder names of %s unavailable: %s", connection.slug, exc.message)
        return {}


def folder_choices(connection: Connection, *, provider=None) -> list[tuple[str, str]]:
    """(id, "Parent / Name") of every app folder, in tree order, for the clone form; ``[]`` without folders."""
    if not connection_capabilities(connection).supports_folders:
        return []
    provider = provider or get_provider(connection)
    try:
        folders = provider.list_folders("app")
    except ProviderError as exc:
        logger.info("folders of %s unavailable: %s", connection.slug, exc.message)
        return []
    return [(f.id, " / ".join((*f.path, f.name))) for f in folders]


def workspace_list(connection: Connection, *, provider=None) -> list[RemoteWorkspace]:
    caps = connection_capabilities(connection)
    if not caps.supports_workspaces:
        return []
    provider = provider or get_provider(connection)
    return [w for w in provider.list_workspaces() if not w.status or w.status == "active"]


VERSION_CACHE_SECONDS = 600


def tooljet_version_cache_key(connection: Connection) -> str:
    return f"transfers:tjversion:{connection.pk}:{connection.base_url}"


# What the cache holds for an instance whose version could not be learnt (empty, or it did not answer): asked again
# only after a short while, not on every page load.
_UNKNOWN = "?"
UNKNOWN_CACHE_SECONDS = 60


def known_tooljet_version(connection: Connection) -> str:
    """The instance's ToolJet version as far as it is known without asking it: the probe's, else the one learnt
    from an export header earlier (cached); ``""`` when unknown."""
    version = (connection.last_test or {}).get("version") or ""
    if version:
        return str(version)
    cached = cache.get(tooljet_version_cache_key(connection)) or ""
    return "" if cached == _UNKNOWN else cached


def instance_tooljet_version(
    connection: Connection,
    *,
    workspace_id: str | None = None,
    workspaces: list[RemoteWorkspace] | None = None,
    provider=None,
) -> str:
    """The instance's ToolJet version, for the “not newer than the target” check.

    The probe's version when it has one; otherwise read from the header of an export of any app on the instance
    (the ext API has no version route; an export is a side-effect-free read; ``workspace_id``'s apps are tried
    first; pass ``workspaces`` when already listed). Cached per connection, an unknown answer briefly too. ``""``
    when unknown (an empty instance, or it did not answer).
    """
    key = tooljet_version_cache_key(connection)
    if version := known_tooljet_version(connection):
        return version
    if cache.get(key) == _UNKNOWN:
        return ""
    provider = provider or get_provider(connection)
    version = ""
    try:
        listed = workspaces if workspaces is not None else provider.list_workspaces()
        others = [w.id for w in listed if w.id != workspace_id]
        for ws in [workspace_id, *others] if workspace_id else others:
            apps = list(provider.iter_apps(ws))
            if apps:
                with provider.export_app(apps[0].id, workspace_id=ws, export_tjdb=False) as stream:
                    version = header_tooljet_version(IterReader(iter(stream)))
                break
    except (ProviderError, ijson.JSONError):
        logger.info("could not learn the ToolJet version of %s", connection.slug)
    if version:
        cache.set(key, version, VERSION_CACHE_SECONDS)
    else:
        cache.set(key, _UNKNOWN, UNKNOWN_CACHE_SECONDS)
    return version


def _copy_target(connection: Connection) -> tuple[list[RemoteWorkspace], str]:
    """A copy target's workspaces and its ToolJet version (``""`` when it cannot be learnt)."""
    provider = get_provider(connection)
    workspaces = workspace_list(connection, provider=provider)
    first = workspaces[0].id if workspaces else None
    version = instance_tooljet_version(
        connection, workspace_id=first, workspaces=workspaces, provider=provider
    )
    return workspaces, version


def copy_targets(connections: list[Connection], *, source_version: str = "") -> list[tuple[str, Any]]:
    """``("<slug>|<workspace id>", "<connection> → <workspace>")`` for every workspace an app can be imported
    into, fetched concurrently; connections that do not answer are left out. A target running an older ToolJet
    than ``source_version`` (the export's) is marked incompatible (ToolJet refuses files from newer versions) and
    listed after the others, in a group of its own."""
    eligible = [c for c in connections if connection_capabilities(c).supports_app_import]
    choices, older = [], []
    for result in fan_out(_copy_target, eligible, max_workers=FLEET_CONCURRENCY):
        if result.ok:
            workspaces, target_version = result.value
            incompatible = bool(
                source_version and target_version and version_newer(source_version, target_version)
            )
            note = (
                f" — incompatible: runs ToolJet {target_version}, older than the source's {source_version}"
                if incompatible
                else ""
            )
            (older if incompatible else choices).extend(
                (f"{result.item.slug}|{ws.id}", f"{result.item.name} → {ws.name}{note}") for ws in workspaces
            )
    if not older:
        return choices
    groups = (("Can import this app", choices), ("Older ToolJet: will refuse this export", older))
    return [(label, group) for label, group in groups if group]


def app_named(connection: Connection, *, workspace_id: str | None, name: str) -> RemoteApp | None:
    """The app of that name (the newest one when names repeat) in a workspace, or None — e.g. to link to an app
    just imported, as ToolJet's import answer does not say its id. None too when the instance does not answer."""
    try:
        found = get_provider(connection).iter_apps(workspace_id, name_contains=name)
        apps = [a for a in found if a.name == name]
    except ProviderError:
        return None
    return max(apps, key=lambda a: a.updated_at or "") if apps else None


def app_find(connection: Connection, *, workspace_id: str | None, app_id: str, provider=None) -> RemoteApp:
    provider = provider or get_provider(connection)
    return provider.get_app(app_id, workspace_id=workspace_id)


# -- fleet -----------------------------------------------------------------------------------------------------


@dataclass
class FleetEntry:
    """One app name and every instance that has an app of that name."""

    name: str
    instances: list[dict[str, Any]] = field(default_factory=list)

    @property
    def connection_count(self) -> int:
        return len({i["connection"].pk for i in self.instances})


@dataclass
class Fleet:
    entries: list[FleetEntry]
    errors: list[tuple[Connection, str]]
    connections: list[Connection]
    skipped: list[tuple[Connection, str]]


def _match_key(name: str) -> str:
    return " ".join((name or "").casefold().split())


def fleet_inventory(
    connections: list[Connection],
    *,
    q: str = "",
    shared_only: bool = False,
    max_workers: int = FLEET_CONCURRENCY,
) -> Fleet:
    """Every app across ``connections`` (fetched concurrently, bounded), matched across instances by name."""
    eligible, skipped = [], []
    for connection in connections:
        caps = connection_capabilities(connection)
        if caps.supports_app_list:
            eligible.append(connection)
        else:
            skipped.append((connection, caps.reason("supports_app_list") or ""))
    results = fan_out(lambda c: app_inventory(c, q=q), eligible, max_workers=max_workers)
    by_name: dict[str, FleetEntry] = {}
    errors: list[tuple[Connection, str]] = []
    for result in results:
        if not result.ok:
            message = getattr(result.error, "message", None) or "The instance did not answer."
            errors.append((result.item, message))
            continue
        inventory: Inventory = result.value
        for group in inventory.workspaces:
            if group.error:
                errors.append((inventory.connection, f"{group.workspace.name}: {group.error}"))
        for ws, app in inventory.apps:
            key = _match_key(app.name)
            entry = by_name.setdefault(key, FleetEntry(name=app.name))
            entry.instances.append(
                {
                    "connection": inventory.connection,
                    "workspace": ws,
                    "app": app,
                    "versions": [name for _id, name in app.versions],
                    "newest": app.versions[-1][1] if app.versions else "",
                }
            )
    entries = sorted(by_name.values(), key=lambda e: e.name.casefold())
    if shared_only:
        entries = [e for e in entries if e.connection_count > 1]
    return Fleet(entries=entries, errors=errors, connections=eligible, skipped=skipped)


# -- stored files ------------------------------------------------------------------------------------------------


def bundle_get(connection: Connection, bundle_id) -> Bundle:
    try:
        return Bundle.objects.get(pk=bundle_id, connection=connection)
    except (Bundle.DoesNotExist, ValueError):
        raise Http404("No such bundle") from None


def bundle_list(connection: Connection, *, limit: int = 20):
    return Bundle.objects.filter(connection=connection).order_by("-created_at")[:limit]


def staged_get(connection: Connection, staged_id, *, user) -> StagedImport:
    try:
        return StagedImport.objects.get(pk=staged_id, connection=connection, created_by=user)
    except (StagedImport.DoesNotExist, ValueError):
        raise Http404("This upload is gone; upload the file again.") from None


def import_outcome(connection: Connection, staged_id, *, user) -> AuditEvent | None:
    """The successful ``app.import`` / ``app.copy`` row of a staged import this operator finished (the staged
    file is gone by then); ``None`` when there is none."""
    return (
        AuditEvent.objects.filter(
            connection=connection,
            actor=user,
            action__in=[AuditEvent.Action.APP_IMPORT, AuditEvent.Action.APP_COPY],
            outcome=AuditEvent.Outcome.SUCCESS,
            extra__staged_import=str(staged_id),
        )
        .order_by("-sequence")
        .first()
    )
