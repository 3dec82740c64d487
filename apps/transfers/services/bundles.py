"""Bundles: a zip of many exports built by a task, retried, downloaded (audited) and expired."""

from __future__ import annotations

import json
import logging
import time
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from zipstream import ZIP_DEFLATED, ZipStream

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.connections.clients import get_provider
from apps.connections.models import Connection
from apps.core.context import current_request_meta
from apps.providers.base import RemoteApp
from apps.providers.errors import ProviderError
from apps.transfers import storage
from apps.transfers.models import Bundle, BundleItem
from apps.transfers.services.common import app_label, bundle_owner, stamp
from apps.transfers.services.exports import export_to_file, file_app_versions, file_tooljet_version
from apps.transfers.storage import StorageRefused, StorageUnreachable, StorageWriteError
from apps.transfers.tasks import bundle_build_task

logger = logging.getLogger(__name__)

Action = AuditEvent.Action

# -- bundles --------------------------------------------------------------------------------------------------


def bundle_create(
    *,
    connection: Connection,
    actor,
    workspace_id: str,
    apps: list[RemoteApp],
    workspace_name: str = "",
    export_tjdb: bool = True,
    all_versions: bool = False,
    reason: str = "",
    ticket: str = "",
) -> Bundle:
    """Create a bundle of ``apps`` and queue the task that builds it. Raises :class:`StorageRefused` (nothing
    created) when the exports quota is used up or the exports disk is nearly full."""
    storage.storage_room_check()
    now = timezone.now()
    bundle = Bundle.objects.create(
        kind=Bundle.Kind.EXPORT,
        workspace_id=workspace_id,
        workspace_name=workspace_name,
        export_tjdb=export_tjdb,
        all_versions=all_versions,
        reason=reason,
        ticket=ticket,
        **bundle_owner(connection, actor),
        created_at=now,
        queued_at=now,
        file_name=f"{connection.slug}-{slugify(workspace_name) or 'workspace'}-bundle-{stamp(now)}.zip",
    )
    used: set[str] = set()
    for position, app in enumerate(apps, start=1):
        base = f"{position:03d}-{app_label(app)}"
        name = base if base not in used else f"{base}-{app.id[:8]}"
        used.add(name)
        BundleItem.objects.create(
            bundle=bundle,
            position=position,
            app_id=app.id,
            app_name=app.name,
            app_slug=app.slug or "",
            # without "all versions" the export holds one version: which one is known once it is built
            versions=[n for _id, n in app.versions] if all_versions else [],
            file_name=f"{name}.json",
        )
    _enqueue(bundle, only_failed=False)
    return bundle


def _enqueue(bundle: Bundle, *, only_failed: bool) -> None:
    meta = current_request_meta()
    transaction.on_commit(
        lambda: bundle_build_task.enqueue(str(bundle.pk), only_failed=only_failed, request_id=meta.request_id)
    )


def bundle_retry_failed(*, bundle: Bundle, actor) -> bool:
    """Put the failed items of a finished export bundle back in the queue; the ones that worked are kept as they
    are. False (nothing queued) when there is nothing to retry."""
    failed = bundle.items.filter(status=BundleItem.Status.FAILED)
    if bundle.kind != Bundle.Kind.EXPORT or not bundle.is_finished or not failed.exists():
        return False
    failed.update(status=BundleItem.Status.PENDING, error="")
    bundle.status = Bundle.Status.PENDING
    bundle.error = ""
    bundle.finished_at = None
    bundle.queued_at = timezone.now()
    bundle.save(update_fields=["status", "error", "finished_at", "queued_at"])
    _enqueue(bundle, only_failed=True)
    return True


def _manifest(bundle: Bundle, items: list[BundleItem]) -> dict[str, Any]:
    versions = sorted({i.tooljet_version for i in items if i.tooljet_version})
    return {
        "format": "adminui-bundle/1",
        "kind": bundle.kind,
        "connection": {
            "name": bundle.connection_name,
            "slug": bundle.connection_slug,
            "kind": bundle.connection.kind if bundle.connection else "",
            "base_url": bundle.connection.base_url if bundle.connection else "",
        },
        "workspace": {"id": bundle.workspace_id, "name": bundle.workspace_name},
        "tooljet_version": versions[-1] if len(versions) == 1 else versions,
        "options": {"export_tjdb": bundle.export_tjdb, "all_versions": bundle.all_versions},
        "created_by": bundle.created_by_name,
        "created_at": bundle.created_at.isoformat(),
        "built_at": timezone.now().isoformat(),
        "apps": [
            {
                "id": i.app_id,
                "name": i.app_name,
                "slug": i.app_slug,
                "versions": i.versions,
                "tooljet_version": i.tooljet_version,
                "file": i.file_name if i.status == BundleItem.Status.OK else None,
                "size": i.size,
                "sha256": i.sha256,
                "status": i.status,
                "error": i.error,
            }
            for i in items
        ],
    }


def _previous_zip_member(stack: ExitStack, bundle: Bundle):
    """Opens members of the bundle's previous ZIP (a retry keeps the apps that worked, whose parts were deleted
    once zipped); None when there is no previous ZIP."""
    try:
        archive = zipfile.ZipFile(stack.enter_context(storage.open_local_copy(bundle.storage_name)))
    except (FileNotFoundError, zipfile.BadZipFile):
        return None
    stack.enter_context(archive)
    names = set(archive.namelist())

    def member(item: BundleItem) -> Iterator[bytes] | None:
        if f"apps/{item.file_name}" not in names:
            return None

        def chunks() -> Iterator[bytes]:
            with archive.open(f"apps/{item.file_name}") as fh:
                while chunk := fh.read(storage.READ_SIZE):
                    yield chunk

        return chunks()

    return member


def _part_source(item: BundleItem, previous) -> Iterator[bytes]:
    """The bytes of an app that worked: its part file, or (after a retry) its entry in the previous ZIP."""
    if storage.exists(item.part_name) or previous is None:
        return storage.read_chunks(item.part_name)
    chunks = previous(item)
    if chunks is None:
        raise StorageWriteError(
            f"The export of “{item.app_name}” is no longer in the storage. Nothing was kept."
        )
    return chunks


def _write_zip(bundle: Bundle) -> tuple[int, str, list[BundleItem]]:
    """Assemble the ZIP from the per-app files plus ``manifest.json``, streamed into the transfers storage
    (zipstream-ng; a multipart upload on S3). The per-app files are deleted once the ZIP is complete."""
    items = list(bundle.items.all())
    with ExitStack() as stack:
        previous = _previous_zip_member(stack, bundle) if bundle.kind == Bundle.Kind.EXPORT else None
        zs = ZipStream(compress_type=ZIP_DEFLATED, sized=False)
        for item in items:
            if item.status == BundleItem.Status.OK:
                zs.add(_part_source(item, previous), f"apps/{item.file_name}")
        zs.add(json.dumps(_manifest(bundle, items), indent=2, ensure_ascii=False).encode(), "manifest.json")
        size, sha256 = storage.write_stream(bundle.storage_name, zs)
    storage.delete_folder(bundle.parts_name)
    return size, sha256, items


def bundle_finish(bundle: Bundle, *, actor) -> Bundle:
    started = time.monotonic()
    size, sha, items = _write_zip(bundle)
    ok = sum(1 for i in items if i.status == BundleItem.Status.OK)
    failed = [i for i in items if i.status == BundleItem.Status.FAILED]
    bundle.status = (
        Bundle.Status.DONE if not failed else Bundle.Status.PARTIAL if ok else Bundle.Status.FAILED
    )
    versions = sorted({i.tooljet_version for i in items if i.tooljet_version})
    bundle.tooljet_version = ", ".join(versions)
    bundle.size, bundle.sha256 = size, sha
    bundle.stored_on = storage.stored_on()
    bundle.finished_at = timezone.now()
    bundle.expires_at = bundle.finished_at + timedelta(seconds=settings.ADMINUI_BUNDLE_LINK_TTL)
    bundle.error = f"{len(failed)} of {len(items)} app(s) failed." if failed else ""
    bundle.save()
    audit_record(
        action=Action.APP_BUNDLE,
        actor=actor,
        connection=bundle.connection,
        target_type="bundle",
        target_id=str(bundle.pk),
        target_repr=bundle.file_name,
        after={
            "file_name": bundle.file_name,
            "size": size,
            "sha256": sha,
            "kind": bundle.kind,
            "workspace_id": bundle.workspace_id,
            "apps": [
                {"id": i.app_id, "name": i.app_name, "sha256": i.sha256, "status": i.status} for i in items
            ],
        },
        reason=bundle.reason,
        ticket=bundle.ticket,
        outcome="success" if not failed else "failure",
        error=bundle.error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    return bundle


def bundle_fail(bundle: Bundle, *, message: str, actor=None, write_error: bool = False) -> Bundle:
    """A build that cannot go on (the storage is full or refused a file, there is no room to start): the bundle
    fails with a plain message and every file it wrote is deleted. After a write error the apps that had worked
    lost their files too, so they fail with it and a retry exports them again."""
    storage.delete(bundle.storage_name)
    storage.delete_folder(bundle.parts_name)
    items = bundle.items.filter(status__in=[BundleItem.Status.PENDING, BundleItem.Status.RUNNING])
    if write_error:
        items = bundle.items.all()
    items.update(status=BundleItem.Status.FAILED, error=message)
    bundle.status, bundle.error, bundle.finished_at = Bundle.Status.FAILED, message, timezone.now()
    bundle.size, bundle.sha256 = None, ""
    bundle.save(update_fields=["status", "error", "finished_at", "size", "sha256"])
    audit_record(
        action=Action.APP_BUNDLE,
        actor=actor,
        connection=bundle.connection,
        target_type="bundle",
        target_id=str(bundle.pk),
        target_repr=bundle.file_name,
        after={"file_name": bundle.file_name, "kind": bundle.kind, "stored": False},
        reason=bundle.reason,
        ticket=bundle.ticket,
        outcome="failure",
        error=message,
    )
    return bundle


def bundle_build(*, bundle_id, only_failed: bool = False, request_id: str | None = None) -> Bundle:
    """The task body: export each pending app into its own file (streamed into the transfers storage), then write
    the ZIP and manifest. A storage that is full or refuses a write fails the whole bundle with a plain message and
    leaves no file of it behind; so does a quota or disk that has no room left when the build starts."""
    bundle = Bundle.objects.select_related("connection", "created_by").get(pk=bundle_id)
    actor = bundle.created_by or bundle.created_by_name or None
    if bundle.connection is None:
        bundle.status, bundle.error = Bundle.Status.FAILED, "The connection was deleted."
        bundle.save()
        return bundle
    try:
        storage.storage_room_check()
    except StorageRefused as exc:
        return bundle_fail(bundle, message=exc.message, actor=actor)
    bundle.status = Bundle.Status.RUNNING
    bundle.save(update_fields=["status"])
    try:
        _export_items(bundle)
        return bundle_finish(bundle, actor=actor)
    except (StorageWriteError, StorageUnreachable) as exc:
        logger.warning("bundle %s failed: %s", bundle.pk, exc.message)
        return bundle_fail(bundle, message=exc.message, actor=actor, write_error=True)


def _export_items(bundle: Bundle) -> None:
    provider = get_provider(bundle.connection)
    options = {"export_tjdb": bundle.export_tjdb, "all_versions": bundle.all_versions}
    for item in bundle.items.filter(status=BundleItem.Status.PENDING):
        item.status = BundleItem.Status.RUNNING
        item.attempts += 1
        item.save(update_fields=["status", "attempts"])
        try:
            size, sha = export_to_file(
                provider, app_id=item.app_id, workspace_id=bundle.workspace_id, dest=item.part_name, **options
            )
        except ProviderError as exc:
            item.status = BundleItem.Status.FAILED
            item.error = exc.message
            item.save(update_fields=["status", "error"])
            continue
        item.size, item.sha256 = size, sha
        item.tooljet_version = file_tooljet_version(item.part_name)
        item.versions = file_app_versions(item.part_name)  # what the file holds, not what the app has
        item.status = BundleItem.Status.OK
        item.error = ""
        item.save(update_fields=["status", "size", "sha256", "tooljet_version", "versions", "error"])


def bundle_download_open(*, bundle: Bundle, actor) -> BinaryIO:
    """Open a finished bundle for download, streamed from the transfers storage (audited). Raises
    FileNotFoundError when it expired or is gone, :class:`StorageUnreachable` when shared storage does not
    answer."""
    if bundle.is_expired:
        bundle_expire(bundle)
        raise FileNotFoundError("expired")
    fh = storage.open_read(bundle.storage_name)
    audit_record(
        action=Action.APP_BUNDLE_DOWNLOAD,
        actor=actor,
        connection=bundle.connection,
        target_type="bundle",
        target_id=str(bundle.pk),
        target_repr=bundle.file_name,
        after={
            "file_name": bundle.file_name,
            "size": bundle.size,
            "sha256": bundle.sha256,
            "kind": bundle.kind,
        },
    )
    return fh


def bundle_missing(bundle: Bundle) -> tuple[str, int]:
    """Why a bundle's file cannot be opened here, and the HTTP status that says it: expired (410), kept on the
    local disk of another host (503: it exists, this host cannot reach it), or gone (410)."""
    if bundle.is_expired:
        return "This download link has expired; build the bundle again.", 410
    if bundle.stored_on and bundle.stored_on != storage.host_name():
        return (
            f"This file is on the local disk of host “{bundle.stored_on}”, which this host cannot reach. "
            "Download it through that host, or ask an administrator to give every host the same shared storage "
            "for transfers (README, “Production”).",
            503,
        )
    return "The file is gone (cleaned up); build the bundle again.", 410


def bundle_expire(bundle: Bundle) -> None:
    """Delete the files of an expired bundle (the row stays for the record)."""
    storage.delete(bundle.storage_name)
    storage.delete_folder(bundle.parts_name)
