"""Writes and audited reads for app transfers: streamed export downloads, import with preflight, copy between
instances, bundles (built by a task), Retool clone and upload bundles.

Every function here receives ``actor`` explicitly and writes its own audit row (STYLE §4, §7).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

import ijson
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator, slugify
from zipstream import ZIP_DEFLATED, ZipStream

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record, audited
from apps.connections.models import Connection
from apps.connections.provider import connection_capabilities, get_provider
from apps.core.context import current_request_meta
from apps.providers.base import ImportResult, RemoteApp, RemoteWorkspace
from apps.providers.errors import ProviderError, Unsupported
from apps.transfers.digest import OverlappedSha256, write_hashed
from apps.transfers.models import Bundle, BundleItem, StagedImport, exports_dir
from apps.transfers.preflight import (
    APP_NAME_MAX_LENGTH,
    TOOLJET_BODY_LIMIT,
    ExportRejected,
    ExportSummary,
    header_tooljet_version,
    inspect_export,
    inspect_json_object,
    inspect_zip,
    looks_like_zip,
    version_newer,
)
from apps.transfers.selectors import instance_tooljet_version

logger = logging.getLogger(__name__)

Action = AuditEvent.Action
UUIDISH = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# upstream reads (up to READ_SIZE, often less) are gathered into ~1 MiB pieces for the WSGI server (fewer writes)
OUT_CHUNK = 1024 * 1024
CREDENTIALS_WARNING = (
    "Data-source credentials are not part of a ToolJet export: after the import, open each data source in the "
    "target workspace and enter its credentials again."
)


def _stamp(now=None) -> str:
    return timezone.localtime(now or timezone.now()).strftime("%Y%m%d-%H%M")


def _username(actor) -> str:
    return actor.get_username() if getattr(actor, "is_authenticated", False) else str(actor or "system")


def _bundle_owner(connection: Connection, actor) -> dict[str, Any]:
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
    parts = [connection.slug, workspace, label, slugify(version_label) or "latest", _stamp(now)]
    return "-".join(parts) + ".json"


def _find_workspace(provider, workspace_id: str) -> RemoteWorkspace | None:
    try:
        return next((ws for ws in provider.list_workspaces() if ws.id == workspace_id), None)
    except (ProviderError, Unsupported):
        return None


def _workspace_name(provider, workspace_id: str) -> str:
    """For file names: the workspace's slug (or name), else the start of its id."""
    ws = _find_workspace(provider, workspace_id)
    return (ws.slug or ws.name) if ws else workspace_id[:8]


def _workspace_display_name(provider, workspace_id: str) -> str:
    """The workspace's name as operators know it; ``""`` when the instance does not say."""
    ws = _find_workspace(provider, workspace_id)
    return ws.name if ws else ""


def _version_label(app: RemoteApp, version_name: str | None, all_versions: bool) -> str:
    if all_versions:
        return "all"
    if version_name:
        return version_name
    return app.versions[-1][1] if app.versions else "latest"


# -- streamed export download ---------------------------------------------------------------------------------


class AuditedExport:
    """The iterable a ``StreamingHttpResponse`` sends: upstream chunks passed through one by one, hashed on the
    way. Exactly one ``app.export`` row is written when the stream ends, fails or is closed by a disconnect."""

    def __init__(self, *, ctx, stream, connection, actor, audit: dict[str, Any], meta):
        self._ctx = ctx
        self._stream = stream
        self._connection = connection
        self._actor = actor
        self._audit = audit
        self._meta = meta
        self._digest = OverlappedSha256()
        self._size = 0
        self._started = time.monotonic()
        self._finished = False
        self._error: BaseException | None = None
        self.filename: str = audit["after"]["file_name"]
        self.content_length = stream.headers.get("content-length") or stream.headers.get("Content-Length")
        self.closed_ok = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            pending: list[bytes] = []
            pending_size = 0
            for chunk in self._stream:
                if chunk:
                    pending.append(chunk)
                    pending_size += len(chunk)
                    if pending_size >= OUT_CHUNK:
                        piece = b"".join(pending)
                        pending, pending_size = [], 0
                        self._digest.update(piece)
                        self._size += len(piece)
                        yield piece
            if pending:
                piece = b"".join(pending)
                self._digest.update(piece)
                self._size += len(piece)
                yield piece
            self.closed_ok = True
        except BaseException as exc:
            self._error = exc
            raise
        finally:
            self.close()

    def close(self) -> None:
        if self._finished:
            return
        self._finished = True
        try:
            self._ctx.__exit__(None, None, None)
        except Exception:  # noqa: BLE001 - closing a broken upstream stream must not hide the audit row
            logger.warning("closing the upstream export stream failed", exc_info=True)
        try:
            sha256 = self._digest.hexdigest()
        except Exception:  # noqa: BLE001 - the audit row is written whatever happened to the digest
            logger.exception("hashing the export stream failed")
            sha256 = ""
        after = {**self._audit["after"], "size": self._size, "sha256": sha256}
        error = ""
        if not self.closed_ok:
            error = (
                getattr(self._error, "message", None)
                or (str(self._error) if self._error else "")
                or "The download was interrupted before the end."
            )
        audit_record(
            action=Action.APP_EXPORT,
            actor=self._actor,
            connection=self._connection,
            target_type="app",
            target_id=self._audit["target_id"],
            target_repr=self._audit["target_repr"],
            after=after,
            reason=self._audit.get("reason", ""),
            outcome="success" if self.closed_ok else "failure",
            error=error,
            upstream_status=getattr(self._error, "status_code", None),
            duration_ms=int((time.monotonic() - self._started) * 1000),
            request_id=self._meta.request_id,
            remote_addr=self._meta.remote_addr,
            user_agent=self._meta.user_agent,
            extra={"purpose": "download"},
        )


def app_export_open(
    *,
    connection: Connection,
    actor,
    workspace_id: str,
    app_id: str,
    version_name: str | None = None,
    all_versions: bool = False,
    export_tjdb: bool = True,
) -> AuditedExport:
    """Open the upstream export (errors before the first byte raise ProviderError and are audited) and return the
    stream to hand to the browser."""
    meta = current_request_meta()
    provider = get_provider(connection)
    target = {"workspace_id": workspace_id, "app_id": app_id}
    options = {"version": version_name or "", "all_versions": all_versions, "export_tjdb": export_tjdb}
    try:
        app = provider.get_app(app_id, workspace_id=workspace_id)
        filename = export_filename(
            connection=connection,
            workspace_name=_workspace_name(provider, workspace_id),
            app=app,
            version_label=_version_label(app, version_name, all_versions),
        )
        ctx = provider.export_app(
            app_id,
            workspace_id=workspace_id,
            version_name=version_name or None,
            export_tjdb=export_tjdb,
            all_versions=all_versions,
        )
        stream = ctx.__enter__()
    except ProviderError as exc:
        audit_record(
            action=Action.APP_EXPORT,
            actor=actor,
            connection=connection,
            target_type="app",
            target_id=app_id,
            target_repr=app_id,
            after={**target, **options},
            outcome="failure",
            error=exc.message,
            upstream_status=exc.status_code,
        )
        raise
    return AuditedExport(
        ctx=ctx,
        stream=stream,
        connection=connection,
        actor=actor,
        meta=meta,
        audit={
            "target_id": app_id,
            "target_repr": app.name,
            "after": {**target, **options, "app_name": app.name, "file_name": filename},
        },
    )


def _export_to_file(provider, *, app_id: str, workspace_id: str, dest, **options) -> tuple[int, str]:
    """Stream one export into ``dest`` (a path); returns (size, sha256). Never holds the body in memory."""
    with provider.export_app(app_id, workspace_id=workspace_id, **options) as stream:
        return write_hashed(stream, dest)


def _file_tooljet_version(path) -> str:
    try:
        with open(path, "rb") as fh:
            return header_tooljet_version(fh)
    except ijson.JSONError:
        return ""


# -- import: preflight, then import ---------------------------------------------------------------------------


def suggest_name(name: str, taken: Iterable[str], *, max_length: int = APP_NAME_MAX_LENGTH) -> str:
    """``name`` if it is free and short enough; else shortened to ``max_length`` and/or numbered “(2)”, “(3)”…"""
    taken_set = {t.casefold() for t in taken}

    def fit(base: str, suffix: str = "") -> str:
        return base[: max_length - len(suffix)].rstrip() + suffix

    base = (name or "Imported app").strip() or "Imported app"
    if fit(base).casefold() not in taken_set:
        return fit(base)
    for n in range(2, 1000):
        candidate = fit(base, f" ({n})")
        if candidate.casefold() not in taken_set:
            return candidate
    return fit(base, f" {_stamp()}")


def import_reject(
    *,
    connection,
    actor,
    workspace_id,
    file_name,
    message,
    summary: ExportSummary | None,
    reason="",
    ticket="",
) -> None:
    """Write the ``app.import_rejected`` row for a file that was refused before anything was sent upstream."""
    audit_record(
        action=Action.APP_IMPORT_REJECTED,
        actor=actor,
        connection=connection,
        target_type="workspace",
        target_id=workspace_id,
        target_repr=file_name,
        after={
            "file_name": file_name,
            "size": summary.size if summary else None,
            "sha256": summary.sha256 if summary else "",
            "workspace_id": workspace_id,
        },
        reason=reason,
        ticket=ticket,
        outcome="failure",
        error=message,
    )


@dataclass
class Check:
    level: str  # ok | warning | error | info
    title: str
    detail: str = ""


def _checks(
    summary: ExportSummary, *, target_version: str, taken: list[str], name: str, suggested: str
) -> list[dict[str, str]]:
    checks: list[Check] = [
        Check("ok", "Valid ToolJet export", f"{summary.app_count} app definition(s), {summary.size:,} bytes.")
    ]
    if summary.size > TOOLJET_BODY_LIMIT:
        checks.append(
            Check(
                "warning",
                "Larger than ToolJet accepts by default",
                f"The file is {summary.size / 2**20:,.0f} MB; ToolJet refuses request bodies over "
                f"{TOOLJET_BODY_LIMIT // 2**20} MB unless the instance's MAX_JSON_SIZE setting was raised (a proxy "
                "in front of it may allow less). If the import is refused as too large, ask its admin.",
            )
        )
    if target_version:
        checks.append(
            Check(
                "ok",
                "Version compatible",
                f"Exported from ToolJet {summary.tooljet_version}; the target runs {target_version}.",
            )
        )
    else:
        checks.append(
            Check(
                "warning",
                "Target version unknown",
                f"Exported from ToolJet {summary.tooljet_version}. The target's version could not be read "
                "(no apps to learn it from); ToolJet refuses files from newer versions.",
            )
        )
    if len(name) > APP_NAME_MAX_LENGTH:
        checks.append(
            Check(
                "warning",
                "Name too long",
                f"The app's name (“{Truncator(name).chars(60)}”) has {len(name):,} characters; names are limited "
                f"to {APP_NAME_MAX_LENGTH}. It will be imported as “{suggested}” unless you choose another name.",
            )
        )
    elif name.casefold() in {t.casefold() for t in taken}:
        checks.append(
            Check(
                "warning",
                "Name already taken",
                f"An app called “{name}” exists in the target workspace; it will be imported as “{suggested}” "
                "unless you choose another name.",
            )
        )
    else:
        checks.append(Check("ok", "Name is free", f"“{name}” is not used in the target workspace."))
    if summary.tables:
        checks.append(
            Check(
                "info",
                "ToolJet database tables included",
                "Tables: " + ", ".join(summary.tables) + ". Missing tables are created; rows are not copied.",
            )
        )
    elif summary.has_tjdb_key:
        checks.append(Check("info", "No ToolJet database tables", "The export lists no tables."))
    else:
        checks.append(
            Check(
                "info",
                "ToolJet database not exported",
                "The file was exported without ToolJet database tables.",
            )
        )
    checks.append(Check("warning", "Credentials are not carried", CREDENTIALS_WARNING))
    return [c.__dict__ for c in checks]


def _discard_rejected(
    staged: StagedImport, exc: ExportRejected, *, actor, file_name: str, reason: str, ticket: str = ""
) -> None:
    """Drop the staged file of a refused export and write its ``app.import_rejected`` row."""
    staged.path.unlink(missing_ok=True)
    import_reject(
        connection=staged.connection,
        actor=actor,
        workspace_id=staged.workspace_id,
        file_name=file_name,
        message=exc.message,
        summary=exc.summary,
        reason=reason,
        ticket=ticket,
    )


def import_preflight(
    *,
    connection: Connection,
    actor,
    workspace_id: str,
    fileobj: BinaryIO,
    file_name: str,
    source: dict | None = None,
    reason: str = "",
    ticket: str = "",
) -> StagedImport:
    """Check an export file against the target before anything is sent; stage it for the confirm step, with the
    operator's reason and ticket so the confirm form starts with them.

    Raises :class:`ExportRejected` (after writing an ``app.import_rejected`` row) when the file cannot be imported.
    """
    staged = StagedImport(
        connection=connection,
        workspace_id=workspace_id,
        original_name=file_name[:255],
        created_by=actor if getattr(actor, "pk", None) else None,
        source=source or {},
        reason=reason,
        ticket=ticket,
    )
    try:
        with open(staged.path, "wb") as sink:
            summary = inspect_export(fileobj, sink=sink)
    except ExportRejected as exc:
        _discard_rejected(staged, exc, actor=actor, file_name=file_name, reason=reason, ticket=ticket)
        raise
    provider = get_provider(connection)
    try:
        target_version = instance_tooljet_version(connection, workspace_id=workspace_id, provider=provider)
        if target_version and version_newer(summary.tooljet_version, target_version):
            message = (
                f"This export comes from ToolJet {summary.tooljet_version}, which is newer than the target "
                f"({target_version}). ToolJet only imports files from the same or an older version; nothing was "
                "sent."
            )
            raise ExportRejected(message, summary=summary)
        taken = [a.name for a in provider.iter_apps(workspace_id)]
        workspace_name = _workspace_display_name(provider, workspace_id)
    except ExportRejected as exc:
        _discard_rejected(staged, exc, actor=actor, file_name=file_name, reason=reason, ticket=ticket)
        raise
    except ProviderError:
        staged.path.unlink(missing_ok=True)
        raise
    name = summary.app_name or (source or {}).get("app_name") or "Imported app"
    suggested = suggest_name(name, taken)
    staged.size = summary.size
    staged.sha256 = summary.sha256
    staged.summary = {
        **summary.to_dict(),
        "target_version": target_version,
        "workspace_name": workspace_name,
        "taken": taken,
        "name": name,
        "suggested_name": suggested,
        "name_taken": suggested != name,
        "checks": _checks(
            summary, target_version=target_version, taken=taken, name=name, suggested=suggested
        ),
    }
    staged.save()
    return staged


class NameTaken(Exception):
    def __init__(self, name: str, suggested: str):
        super().__init__(name)
        self.name = name
        self.suggested = suggested


def _import_staged(provider, staged: StagedImport, app_name: str) -> ImportResult:
    with open(staged.path, "rb") as fh:
        return provider.import_app(staged.workspace_id, fh, app_name=app_name)


def _check_name(
    provider, staged: StagedImport, *, actor, app_name: str, after: dict, reason: str, ticket: str
) -> list[RemoteApp]:
    """The apps of the target workspace; raises NameTaken (after writing the ``app.import_rejected`` row) when
    ``app_name`` is one of theirs, and nothing is sent upstream then."""
    apps = list(provider.iter_apps(staged.workspace_id))
    taken = [a.name for a in apps]
    if app_name.casefold() not in {t.casefold() for t in taken}:
        return apps
    audit_record(
        action=Action.APP_IMPORT_REJECTED,
        actor=actor,
        connection=staged.connection,
        target_type="workspace",
        target_id=staged.workspace_id,
        target_repr=app_name,
        after=after,
        reason=reason,
        ticket=ticket,
        outcome="failure",
        error=f"An app called “{app_name}” already exists in the target workspace.",
    )
    raise NameTaken(app_name, suggest_name(app_name, taken))


def staged_discard(staged: StagedImport) -> None:
    staged.path.unlink(missing_ok=True)
    staged.delete()


def app_import(
    *, staged: StagedImport, actor, app_name: str, reason: str = "", ticket: str = ""
) -> ImportResult:
    """Import a staged file under ``app_name`` (always sent as ``appName``). Raises NameTaken (nothing sent, an
    ``app.import_rejected`` row) or ProviderError (an ``app.import`` failure row)."""
    connection = staged.connection
    provider = get_provider(connection)
    app_name = app_name.strip()
    after = {
        "file_name": staged.original_name,
        "size": staged.size,
        "sha256": staged.sha256,
        "workspace_id": staged.workspace_id,
        "workspace_name": staged.summary.get("workspace_name", ""),
        "app_name": app_name,
        "tooljet_version": staged.summary.get("tooljet_version", ""),
        "tables": staged.summary.get("tables", []),
    }
    _check_name(provider, staged, actor=actor, app_name=app_name, after=after, reason=reason, ticket=ticket)
    with audited(
        action=Action.APP_IMPORT,
        actor=actor,
        connection=connection,
        target_type="app",
        target_repr=app_name,
        reason=reason,
        ticket=ticket,
        extra={"staged_import": str(staged.pk)},  # the result page finds the outcome by it
    ) as event:
        event.after = after
        result = _import_staged(provider, staged, app_name)
        event.after = {**after, "upstream_message": result.message}
    staged_discard(staged)
    return result


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
    tmp = exports_dir() / "staging" / f"copy-{timezone.now().timestamp():.6f}-{app_id}.json"
    tmp.parent.mkdir(parents=True, exist_ok=True)
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
        size, sha = _export_to_file(
            provider, app_id=app_id, workspace_id=source_workspace_id, dest=tmp, **options
        )
        event.after = {"workspace_id": source_workspace_id, "size": size, "sha256": sha, **options}
    source = {
        "connection": source_connection.slug,
        "connection_name": source_connection.name,
        "workspace_id": source_workspace_id,
        "app_id": app_id,
        "app_name": app.name,
        "version": _version_label(app, version_name, all_versions),
    }
    file_name = export_filename(
        connection=source_connection,
        workspace_name=_workspace_name(provider, source_workspace_id),
        app=app,
        version_label=source["version"],
    )
    try:
        with open(tmp, "rb") as fh:
            return import_preflight(
                connection=target_connection,
                actor=actor,
                workspace_id=target_workspace_id,
                fileobj=fh,
                file_name=file_name,
                source=source,
            )
    finally:
        tmp.unlink(missing_ok=True)


def _backup_target_app(*, staged: StagedImport, actor, provider, app: RemoteApp) -> Bundle:
    connection = staged.connection
    bundle = Bundle.objects.create(
        kind=Bundle.Kind.BACKUP,
        status=Bundle.Status.RUNNING,
        workspace_id=staged.workspace_id,
        **_bundle_owner(connection, actor),
        file_name=export_filename(
            connection=connection,
            workspace_name=_workspace_name(provider, staged.workspace_id),
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
            size, sha = _export_to_file(
                provider, app_id=app.id, workspace_id=staged.workspace_id, dest=bundle.path, all_versions=True
            )
        except ProviderError as exc:
            bundle.status, bundle.error, bundle.finished_at = (
                Bundle.Status.FAILED,
                exc.message,
                timezone.now(),
            )
            bundle.save()
            raise
        event.after = {"file_name": bundle.file_name, "size": size, "sha256": sha}
    bundle.size, bundle.sha256 = size, sha
    bundle.tooljet_version = _file_tooljet_version(bundle.path)
    bundle.status = Bundle.Status.DONE
    bundle.finished_at = timezone.now()
    bundle.expires_at = bundle.finished_at + timedelta(seconds=settings.ADMINUI_BUNDLE_LINK_TTL)
    bundle.save()
    return bundle


def app_copy_run(
    *, staged: StagedImport, actor, app_name: str, backup: bool = False, reason: str = "", ticket: str = ""
) -> tuple[ImportResult, Bundle | None]:
    """Finish a copy: optionally back up the same-named app on the target, then import. One ``app.copy`` row."""
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
    target_apps = _check_name(
        provider, staged, actor=actor, app_name=app_name, after=after, reason=reason, ticket=ticket
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
        result = _import_staged(provider, staged, app_name)
        event.after["upstream_message"] = result.message
    staged_discard(staged)
    return result, backup_bundle


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
    """Create a bundle of ``apps`` and queue the task that builds it."""
    now = timezone.now()
    bundle = Bundle.objects.create(
        kind=Bundle.Kind.EXPORT,
        workspace_id=workspace_id,
        workspace_name=workspace_name,
        export_tjdb=export_tjdb,
        all_versions=all_versions,
        reason=reason,
        ticket=ticket,
        **_bundle_owner(connection, actor),
        created_at=now,
        queued_at=now,
        file_name=f"{connection.slug}-{slugify(workspace_name) or 'workspace'}-bundle-{_stamp(now)}.zip",
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
            versions=[n for _id, n in app.versions],
            file_name=f"{name}.json",
        )
    _enqueue(bundle, only_failed=False)
    return bundle


def _enqueue(bundle: Bundle, *, only_failed: bool) -> None:
    from apps.transfers.tasks import bundle_build_task

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


def _write_zip(bundle: Bundle) -> tuple[int, str, list[BundleItem]]:
    """Assemble the ZIP from the per-app files plus ``manifest.json``, streamed to disk (zipstream-ng)."""
    items = list(bundle.items.all())
    zs = ZipStream(compress_type=ZIP_DEFLATED, sized=False)
    for item in items:
        if item.status == BundleItem.Status.OK:
            zs.add_path(str(item.part_path), f"apps/{item.file_name}")
    zs.add(json.dumps(_manifest(bundle, items), indent=2, ensure_ascii=False).encode(), "manifest.json")
    size, sha256 = write_hashed(zs, bundle.path)
    return size, sha256, items


def _finish(bundle: Bundle, *, actor) -> Bundle:
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


def bundle_build(*, bundle_id, only_failed: bool = False, request_id: str | None = None) -> Bundle:
    """The task body: export each pending app into its own file (streamed), then write the ZIP and manifest."""
    bundle = Bundle.objects.select_related("connection", "created_by").get(pk=bundle_id)
    actor = bundle.created_by or bundle.created_by_name or None
    if bundle.connection is None:
        bundle.status, bundle.error = Bundle.Status.FAILED, "The connection was deleted."
        bundle.save()
        return bundle
    bundle.status = Bundle.Status.RUNNING
    bundle.save(update_fields=["status"])
    bundle.directory.mkdir(parents=True, exist_ok=True)
    provider = get_provider(bundle.connection)
    options = {"export_tjdb": bundle.export_tjdb, "all_versions": bundle.all_versions}
    for item in bundle.items.filter(status=BundleItem.Status.PENDING):
        item.status = BundleItem.Status.RUNNING
        item.attempts += 1
        item.save(update_fields=["status", "attempts"])
        try:
            size, sha = _export_to_file(
                provider, app_id=item.app_id, workspace_id=bundle.workspace_id, dest=item.part_path, **options
            )
        except (ProviderError, OSError) as exc:
            item.status = BundleItem.Status.FAILED
            item.error = getattr(exc, "message", None) or str(exc)
            item.save(update_fields=["status", "error"])
            continue
        item.size, item.sha256 = size, sha
        item.tooljet_version = _file_tooljet_version(item.part_path)
        item.status = BundleItem.Status.OK
        item.error = ""
        item.save(update_fields=["status", "size", "sha256", "tooljet_version", "error"])
    return _finish(bundle, actor=actor)


UPLOAD_HINT = "Upload the .json file that the product's “Export to JSON” saved (or its Toolscript ZIP)."


class UploadRejected(Exception):
    """Uploaded files that are not exports; nothing was stored. ``problems``: ``[(file name, message)]``."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in problems))
        self.problems = problems


def upload_name(upload) -> str:
    """The browser's file name without any directory part (never trusted as a path)."""
    return upload.name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]


def _store_upload(upload, dest: Path) -> tuple[int, str]:
    """Check one uploaded file while storing it at ``dest``; returns (size, sha256). A ``.zip`` must be a readable
    ZIP archive (a Toolscript export); anything else must be one JSON object, checked in the same streaming pass
    that writes and hashes it. Raises :class:`ExportRejected`."""
    if upload_name(upload).lower().endswith(".zip"):
        inspect_zip(upload)
        return write_hashed(upload.chunks(), dest)
    if looks_like_zip(upload):
        raise ExportRejected(
            "This file is a ZIP archive, not JSON; name it .zip to keep it as a Toolscript export."
        )
    with open(dest, "wb") as sink:
        summary = inspect_json_object(upload, sink=sink, hint=UPLOAD_HINT)
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
    after an ``app.bundle`` failure row."""
    now = timezone.now()
    bundle = Bundle(
        kind=Bundle.Kind.UPLOAD,
        status=Bundle.Status.RUNNING,
        reason=reason,
        ticket=ticket,
        **_bundle_owner(connection, actor),
        created_at=now,
        file_name=f"{connection.slug}-uploaded-exports-{_stamp(now)}.zip",
    )
    bundle.directory.mkdir(parents=True, exist_ok=True)
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
                size, sha256 = _store_upload(upload, bundle.directory / name)
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
        shutil.rmtree(bundle.directory, ignore_errors=True)
        raise
    if problems:
        shutil.rmtree(bundle.directory, ignore_errors=True)
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
    return _finish(bundle, actor=actor)


def bundle_download_open(*, bundle: Bundle, actor) -> BinaryIO:
    """Open a finished bundle for download (audited). Raises FileNotFoundError when it expired or is gone."""
    if bundle.is_expired:
        bundle_expire(bundle)
        raise FileNotFoundError("expired")
    fh = open(bundle.path, "rb")  # noqa: SIM115 - handed to FileResponse, which closes it
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


def bundle_expire(bundle: Bundle) -> None:
    """Delete the files of an expired bundle (the row stays for the record)."""
    bundle.path.unlink(missing_ok=True)
    shutil.rmtree(bundle.directory, ignore_errors=True)


STAGED_IMPORT_MAX_AGE = timedelta(days=1)


@dataclass
class CleanupResult:
    bundles: int = 0  # expired bundles whose files were removed
    staged: int = 0  # staged imports (row and file) older than a day
    orphans: int = 0  # staging files older than a day with no row


def transfers_cleanup(*, now=None) -> CleanupResult:
    """Remove the files of expired bundles (rows stay for the record) and staged imports older than a day.

    Idempotent and cheap when there is nothing to do; ``manage.py transfers_cleanup`` and the end of every
    bundle task call it."""
    now = now or timezone.now()
    result = CleanupResult()
    for bundle in Bundle.objects.filter(expires_at__lte=now):
        if bundle.path.exists() or bundle.directory.exists():
            bundle_expire(bundle)
            result.bundles += 1
    cutoff = now - STAGED_IMPORT_MAX_AGE
    for staged in StagedImport.objects.filter(created_at__lt=cutoff):
        staged_discard(staged)
        result.staged += 1
    staging = exports_dir() / "staging"
    if staging.is_dir():
        known = {f"{pk}.json" for pk in StagedImport.objects.values_list("pk", flat=True)}
        for path in staging.iterdir():
            if path.name in known or not path.is_file():
                continue
            if path.stat().st_mtime < cutoff.timestamp():
                path.unlink(missing_ok=True)
                result.orphans += 1
    return result


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
