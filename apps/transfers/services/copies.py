"""Copy an app between instances (with a backup of the app it replaces), and Retool's in-instance clone."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audited
from apps.connections.clients import connection_capabilities, get_provider
from apps.connections.models import Connection
from apps.providers.base import ImportResult, RemoteApp
from apps.providers.errors import ProviderError, Unsupported
from apps.transfers import storage
from apps.transfers.models import STAGING, Bundle, StagedImport
from apps.transfers.services.common import bundle_owner, export_filename, version_label, workspace_name
from apps.transfers.services.exports import export_to_file, file_tooljet_version
from apps.transfers.services.imports import (
    check_name,
    import_preflight,
    import_staged,
    staged_available,
    staged_discard,
)

logger = logging.getLogger(__name__)

Action = AuditEvent.Action

# -- copy between instances -----------------------------------------------------------------------------------


def app_copy_prepare(
    *,
    source_connection: Connection,
    actor,
    source_workspace_id: str,
    app_id: str,
    target_connection: Connection,
    target_workspace_id: str,
    version_name: str | None = None,
    all_versions: bool = False,
    export_tjdb: bool = True,
) -> StagedImport:
    """Export app A into a staged file (streamed to disk, audited as an export) and preflight it against the
    target. The returned staged import is the dry-run preview; ``app_copy_run`` performs the import."""
    provider = get_provider(source_connection)
    app = provider.get_app(app_id, workspace_id=source_workspace_id)
    storage.storage_room_check()
    tmp = f"{STAGING}/copy-{timezone.now().timestamp():.6f}-{app_id}.json"
    options = {"version_name": version_name or None, "export_tjdb": export_tjdb, "all_versions": all_versions}
    with audited(
        action=Action.APP_EXPORT,
        actor=actor,
        connection=source_connection,
        target_type="app",
        target_id=app_id,
        target_repr=app.name,
        extra={"purpose": "copy", "target": target_connection.slug},
    ) as event:
        size, sha = export_to_file(
            provider, app_id=app_id, workspace_id=source_workspace_id, dest=tmp, **options
        )
        event.after = {"workspace_id": source_workspace_id, "size": size, "sha256": sha, **options}
    source = {
        "connection": source_connection.slug,
        "connection_name": source_connection.name,
        "workspace_id": source_workspace_id,
        "app_id": app_id,
        "app_name": app.name,
        "version": version_label(app, version_name, all_versions),
    }
    file_name = export_filename(
        connection=source_connection,
        workspace_name=workspace_name(provider, source_workspace_id),
        app=app,
        version_label=source["version"],
    )
    try:
        with storage.open_local_copy(tmp) as fh:
            return import_preflight(
                connection=target_connection,
                actor=actor,
                workspace_id=target_workspace_id,
                fileobj=fh,
                file_name=file_name,
                source=source,
            )
    finally:
        storage.delete(tmp)


def _backup_target_app(*, staged: StagedImport, actor, provider, app: RemoteApp) -> Bundle:
    connection = staged.connection
    bundle = Bundle.objects.create(
        kind=Bundle.Kind.BACKUP,
        status=Bundle.Status.RUNNING,
        workspace_id=staged.workspace_id,
        **bundle_owner(connection, actor),
        file_name=export_filename(
            connection=connection,
            workspace_name=workspace_name(provider, staged.workspace_id),
            app=app,
            version_label="all",
        ).replace(".json", "-backup.json"),
    )
    with audited(
        action=Action.APP_EXPORT,
        actor=actor,
        connection=connection,
        target_type="app",
        target_id=app.id,
        target_repr=app.name,
        extra={"purpose": "backup before copy", "bundle": str(bundle.pk)},
    ) as event:
        try:
            size, sha = export_to_file(
                provider,
                app_id=app.id,
                workspace_id=staged.workspace_id,
                dest=bundle.storage_name,
                all_versions=True,
            )
        except (ProviderError, storage.StorageWriteError) as exc:
            bundle.status, bundle.error, bundle.finished_at = (
                Bundle.Status.FAILED,
                exc.message,
                timezone.now(),
            )
            bundle.save()
            raise
        event.after = {"file_name": bundle.file_name, "size": size, "sha256": sha}
    bundle.size, bundle.sha256 = size, sha
    bundle.tooljet_version = file_tooljet_version(bundle.storage_name)
    bundle.stored_on = storage.stored_on()
    bundle.status = Bundle.Status.DONE
    bundle.finished_at = timezone.now()
    bundle.expires_at = bundle.finished_at + timedelta(seconds=settings.ADMINUI_BUNDLE_LINK_TTL)
    bundle.save()
    return bundle


def app_copy_run(
    *, staged: StagedImport, actor, app_name: str, backup: bool = False, reason: str = "", ticket: str = ""
) -> tuple[ImportResult, Bundle | None]:
    """Finish a copy: optionally back up the same-named app on the target, then import. One ``app.copy`` row.
    Raises ``storage.StorageUnreachable`` (nothing sent) when this host cannot read the staged file."""
    staged_available(staged)
    connection = staged.connection
    provider = get_provider(connection)
    app_name = app_name.strip()
    source = staged.source
    after = {
        "source": source,
        "workspace_id": staged.workspace_id,
        "workspace_name": staged.summary.get("workspace_name", ""),
        "app_name": app_name,
        "size": staged.size,
        "sha256": staged.sha256,
        "tooljet_version": staged.summary.get("tooljet_version", ""),
        "tables": staged.summary.get("tables", []),
    }
    target_apps = check_name(
        provider,
        staged,
        actor=actor,
        app_name=app_name,
        after=after,
        reason=reason,
        ticket=ticket,
        action=Action.APP_COPY,
    )
    backup_bundle = None
    with audited(
        action=Action.APP_COPY,
        actor=actor,
        connection=connection,
        target_type="app",
        target_repr=app_name,
        reason=reason,
        ticket=ticket,
        extra={"staged_import": str(staged.pk)},  # the result page finds the outcome by it
    ) as event:
        event.after = after
        if backup:
            source_name = (source.get("app_name") or "").casefold()
            existing = next((a for a in target_apps if a.name.casefold() == source_name), None)
            if existing is not None:
                backup_bundle = _backup_target_app(
                    staged=staged, actor=actor, provider=provider, app=existing
                )
                event.after["backup"] = {"bundle": str(backup_bundle.pk), "sha256": backup_bundle.sha256}
        result = import_staged(provider, staged, app_name)
        event.after["upstream_message"] = result.message
    staged_discard(staged)
    return result, backup_bundle


# -- Retool clone ---------------------------------------------------------------------------------------------


def app_clone(
    *,
    connection: Connection,
    actor,
    app_id: str,
    new_name: str,
    folder_id: str | None = None,
    reason: str = "",
    ticket: str = "",
) -> RemoteApp:
    """``cloneApp`` within the same instance (never retried), audited as ``app.clone``."""
    caps = connection_capabilities(connection)
    if not caps.supports_app_clone:
        raise Unsupported(caps.reason("supports_app_clone"), capability="supports_app_clone")
    provider = get_provider(connection)
    with audited(
        action=Action.APP_CLONE,
        actor=actor,
        connection=connection,
        target_type="app",
        target_id=app_id,
        target_repr=new_name,
        reason=reason,
        ticket=ticket,
    ) as event:
        event.before = {"app_id": app_id}
        clone = provider.clone_app(app_id, new_name.strip(), folder_id=folder_id or None)
        event.after = {"id": clone.id, "name": clone.name, "folder_id": clone.folder_id}
    return clone
