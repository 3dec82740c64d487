"""Streamed, audited export downloads."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import ijson

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.connections.clients import get_provider
from apps.connections.models import Connection
from apps.core.context import current_request_meta
from apps.providers.errors import ProviderError
from apps.providers.jsonguard import GuardedReader
from apps.transfers import storage
from apps.transfers.digest import OverlappedSha256
from apps.transfers.preflight import (
    header_tooljet_version,
)
from apps.transfers.services.common import OUT_CHUNK, export_filename, version_label, workspace_name

logger = logging.getLogger(__name__)

Action = AuditEvent.Action

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
            workspace_name=workspace_name(provider, workspace_id),
            app=app,
            version_label=version_label(app, version_name, all_versions),
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


def export_to_file(provider, *, app_id: str, workspace_id: str, dest: str, **options) -> tuple[int, str]:
    """Stream one export into ``dest`` (a name in the transfers storage); returns (size, sha256). Never holds the
    body in memory; an upstream or storage failure keeps nothing (``storage.StorageWriteError`` for the latter)."""
    with provider.export_app(app_id, workspace_id=workspace_id, **options) as stream:
        return storage.write_stream(dest, stream)


def file_app_versions(name: str) -> list[str]:
    """The names of the app versions a stored export file holds (one unless every version was exported); ``[]``
    when the file is not a ToolJet export."""
    names: list[str] = []
    try:
        fh = storage.open_read(name)
        try:
            for prefix, event, value in ijson.parse(GuardedReader(fh)):
                if prefix == "app.item.definition.appV2.appVersions.item.name" and event == "string":
                    names.append(value)
        finally:
            fh.close()
    except ijson.JSONError:
        return []
    return names


def file_tooljet_version(name: str) -> str:
    try:
        fh = storage.open_read(name)
        try:
            return header_tooljet_version(fh)
        finally:
            fh.close()
    except ijson.JSONError:
        return ""
