"""Bundles made from uploaded export files."""

from __future__ import annotations

import logging
import zipfile
from typing import Any

from django.utils import timezone
from django.utils.text import slugify

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.connections.models import Connection
from apps.providers import jsonguard
from apps.transfers import storage
from apps.transfers.models import Bundle, BundleItem
from apps.transfers.preflight import (
    ExportRejected,
    inspect_json_object,
    inspect_zip,
    looks_like_zip,
)
from apps.transfers.services.bundles import bundle_fail, bundle_finish
from apps.transfers.services.common import bundle_owner, stamp

logger = logging.getLogger(__name__)

Action = AuditEvent.Action

UPLOAD_HINT = "Upload the .json file that the product's “Export to JSON” saved (or its Toolscript ZIP)."


class UploadRejected(Exception):
    """Uploaded files that are not exports; nothing was stored. ``problems``: ``[(file name, message)]``."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in problems))
        self.problems = problems


def upload_name(upload) -> str:
    """The browser's file name without any directory part (never trusted as a path)."""
    return upload.name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]


# Top-level keys only a ToolJet app export has (a Retool export has neither).
TOOLJET_EXPORT_KEYS = frozenset({"tooljet_version", "tooljet_database"})
PRODUCTS = {"tooljet": "ToolJet", "retool": "Retool"}


def _console_bundle_kind(upload) -> str | None:
    """The product of a ZIP this console built (its ``manifest.json`` says ``adminui-bundle/…``), else None."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            if "manifest.json" not in archive.namelist():
                return None
            with archive.open("manifest.json") as fh:
                manifest = jsonguard.loads(fh.read(1_000_000))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, KeyError):
        return None
    finally:
        upload.seek(0)
    if not isinstance(manifest, dict) or not str(manifest.get("format", "")).startswith("adminui-bundle/"):
        return None
    connection = manifest.get("connection")
    return str(connection.get("kind") or "") if isinstance(connection, dict) else ""


def _store_upload(upload, dest: str, *, kind: str) -> tuple[int, str]:
    """Check one uploaded file while storing it at ``dest``; returns (size, sha256). A ``.zip`` must be a readable
    ZIP archive (a Toolscript export); anything else must be one JSON object, checked in the same streaming pass
    that writes and hashes it. A file of the other product (a ToolJet export, or a bundle this console built
    from a ToolJet connection, uploaded to a Retool one) is refused. Raises :class:`ExportRejected`."""
    if upload_name(upload).lower().endswith(".zip"):
        inspect_zip(upload)
        bundle_kind = _console_bundle_kind(upload)
        if bundle_kind is not None:
            raise ExportRejected(
                f"This ZIP is a bundle this console built"
                f"{f' from a {PRODUCTS.get(bundle_kind, bundle_kind)} connection' if bundle_kind else ''}, "
                f"not an export made in {PRODUCTS.get(kind, kind)}; it is already stored where it was built."
            )
        return storage.write_stream(dest, upload.chunks())
    if looks_like_zip(upload):
        raise ExportRejected(
            "This file is a ZIP archive, not JSON; name it .zip to keep it as a Toolscript export."
        )
    with storage.open_write(dest) as sink:
        summary = inspect_json_object(upload, sink=sink, hint=UPLOAD_HINT)
    if kind == "retool" and TOOLJET_EXPORT_KEYS & set(summary.top_keys):
        storage.delete(dest)
        raise ExportRejected(
            "This is a ToolJet app export (it has “tooljet_version”), not a Retool one. Store it on a ToolJet "
            "connection, or upload the JSON Retool's “Export to JSON” made.",
            summary=summary,
        )
    return summary.size, summary.sha256


def bundle_upload_reject(
    *, connection: Connection, actor, files: list[dict], message: str, reason: str = "", ticket: str = ""
) -> None:
    """Write the ``app.bundle`` failure row for uploaded files that were refused (nothing stored, nothing sent).
    ``files``: name, size and — when read — SHA-256 and the reason of each file."""
    audit_record(
        action=Action.APP_BUNDLE,
        actor=actor,
        connection=connection,
        target_type="bundle",
        target_repr=", ".join(f["file_name"] for f in files)[:300] or "(upload)",
        after={"kind": Bundle.Kind.UPLOAD, "stored": False, "files": files},
        reason=reason,
        ticket=ticket,
        outcome="failure",
        error=message,
    )


def bundle_from_uploads(
    *, connection: Connection, actor, files: list, reason: str = "", ticket: str = ""
) -> Bundle:
    """A bundle of export files the operator downloaded from the vendor's own UI (Retool has no export API).
    Nothing is sent upstream; each file is checked (a JSON object, or a readable ZIP) and stored with its SHA-256
    and listed in the same manifest. When any file is refused nothing is kept: :class:`UploadRejected` is raised
    after an ``app.bundle`` failure row; ``storage.StorageProblem`` (nothing kept) when there is no room or the
    storage refuses a file."""
    storage.storage_room_check()
    now = timezone.now()
    bundle = Bundle(
        kind=Bundle.Kind.UPLOAD,
        status=Bundle.Status.RUNNING,
        reason=reason,
        ticket=ticket,
        **bundle_owner(connection, actor),
        created_at=now,
        file_name=f"{connection.slug}-uploaded-exports-{stamp(now)}.zip",
    )
    items: list[BundleItem] = []
    report: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    try:
        for position, upload in enumerate(files, start=1):
            original = upload_name(upload)
            stem, dot, ext = original.rpartition(".")
            safe = (slugify(stem) if dot else slugify(original)) or "export"
            name = f"{position:03d}-{safe}.{slugify(ext) or 'json'}" if dot else f"{position:03d}-{safe}"
            try:
                size, sha256 = _store_upload(upload, f"{bundle.parts_name}/{name}", kind=connection.kind)
            except ExportRejected as exc:
                problems.append((original, exc.message))
                report.append(
                    {
                        "file_name": original,
                        "size": exc.summary.size if exc.summary else upload.size,
                        "sha256": exc.summary.sha256 if exc.summary else "",
                        "error": exc.message,
                    }
                )
                continue
            report.append({"file_name": original, "size": size, "sha256": sha256})
            items.append(
                BundleItem(
                    position=position,
                    app_name=stem if dot else original,
                    file_name=name,
                    size=size,
                    sha256=sha256,
                    status=BundleItem.Status.OK,
                )
            )
    except BaseException:
        storage.delete_folder(bundle.parts_name)
        raise
    if problems:
        storage.delete_folder(bundle.parts_name)
        refused = "; ".join(f"{name}: {message}" for name, message in problems)
        bundle_upload_reject(
            connection=connection,
            actor=actor,
            files=report,
            message=f"{len(problems)} of {len(files)} file(s) refused, nothing stored. {refused}",
            reason=reason,
            ticket=ticket,
        )
        raise UploadRejected(problems)
    bundle.save(force_insert=True)
    for item in items:
        item.bundle = bundle
    BundleItem.objects.bulk_create(items)
    try:
        return bundle_finish(bundle, actor=actor)
    except storage.StorageProblem as exc:
        bundle_fail(bundle, message=exc.message, actor=actor, write_error=True)
        raise
