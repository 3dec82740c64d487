"""Shared by the transfer services: names of export files, workspace and version labels, bundle owners."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.utils import timezone
from django.utils.text import slugify

from apps.audit.models import AuditEvent
from apps.connections.models import Connection
from apps.providers.base import RemoteApp, RemoteWorkspace
from apps.providers.errors import ProviderError, Unsupported

logger = logging.getLogger(__name__)

Action = AuditEvent.Action

UUIDISH = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# upstream reads (up to READ_SIZE, often less) are gathered into ~1 MiB pieces for the WSGI server (fewer writes)
OUT_CHUNK = 1024 * 1024
CREDENTIALS_WARNING = (
    "Data-source credentials are not part of a ToolJet export: after the import, open each data source in the "
    "target workspace and enter its credentials again."
)


def stamp(now=None) -> str:
    return timezone.localtime(now or timezone.now()).strftime("%Y%m%d-%H%M")


def _username(actor) -> str:
    return actor.get_username() if getattr(actor, "is_authenticated", False) else str(actor or "system")


def bundle_owner(connection: Connection, actor) -> dict[str, Any]:
    """The connection and operator copies every new Bundle row carries."""
    return {
        "connection": connection,
        "connection_name": connection.name,
        "connection_slug": connection.slug,
        "created_by": actor if getattr(actor, "pk", None) else None,
        "created_by_name": _username(actor),
    }


def app_label(app: RemoteApp) -> str:
    """The app's slug for file names: ToolJet's slug unless it is just the id (imported apps), else its name."""
    if app.slug and not UUIDISH.match(app.slug):
        return slugify(app.slug) or "app"
    return slugify(app.name) or "app"


def export_filename(
    *, connection: Connection, workspace_name: str, app: RemoteApp, version_label: str, now=None
) -> str:
    """``<connection>-<workspace>-<app>-<version or all>-<yyyymmdd-hhmm>.json``. ToolJet slugs often start with
    the workspace's slug already (``acme-production-archive-browser``); that prefix is not repeated."""
    workspace = slugify(workspace_name) or "workspace"
    label = app_label(app)
    if label.startswith(f"{workspace}-"):
        label = label.removeprefix(f"{workspace}-")
    parts = [connection.slug, workspace, label, slugify(version_label) or "latest", stamp(now)]
    return "-".join(parts) + ".json"


def _find_workspace(provider, workspace_id: str) -> RemoteWorkspace | None:
    try:
        return next((ws for ws in provider.list_workspaces() if ws.id == workspace_id), None)
    except (ProviderError, Unsupported):
        return None


def workspace_name(provider, workspace_id: str) -> str:
    """For file names: the workspace's slug (or name), else the start of its id."""
    ws = _find_workspace(provider, workspace_id)
    return (ws.slug or ws.name) if ws else workspace_id[:8]


def workspace_display_name(provider, workspace_id: str) -> str:
    """The workspace's name as operators know it; ``""`` when the instance does not say."""
    ws = _find_workspace(provider, workspace_id)
    return ws.name if ws else ""


def version_label(app: RemoteApp, version_name: str | None, all_versions: bool) -> str:
    if all_versions:
        return "all"
    if version_name:
        return version_name
    return app.versions[-1][1] if app.versions else "latest"
