"""Import an app from a file: preflight checks, staging, name suggestions, then the audited import."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.text import Truncator

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record, audited
from apps.connections.clients import get_provider
from apps.connections.models import Connection
from apps.providers.base import ImportResult, RemoteApp
from apps.providers.errors import ProviderError
from apps.transfers import storage
from apps.transfers.models import StagedImport
from apps.transfers.preflight import (
    APP_NAME_MAX_LENGTH,
    TOOLJET_BODY_LIMIT,
    ExportRejected,
    ExportSummary,
    inspect_export,
    version_newer,
)
from apps.transfers.selectors import instance_tooljet_version
from apps.transfers.services.common import CREDENTIALS_WARNING, stamp, workspace_display_name

logger = logging.getLogger(__name__)

Action = AuditEvent.Action

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
    return fit(base, f" {stamp()}")


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
    storage.delete(staged.storage_name)
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

    Raises :class:`ExportRejected` (after writing an ``app.import_rejected`` row) when the file cannot be imported,
    ``storage.StorageProblem`` (nothing kept) when there is no room for it or the storage refuses it.
    """
    storage.storage_room_check()
    staged = StagedImport(
        stored_on=storage.stored_on(),
        connection=connection,
        workspace_id=workspace_id,
        original_name=file_name[:255],
        created_by=actor if getattr(actor, "pk", None) else None,
        source=source or {},
        reason=reason,
        ticket=ticket,
    )
    try:
        with storage.open_write(staged.storage_name) as sink:
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
        workspace_name = workspace_display_name(provider, workspace_id)
    except ExportRejected as exc:
        _discard_rejected(staged, exc, actor=actor, file_name=file_name, reason=reason, ticket=ticket)
        raise
    except ProviderError:
        storage.delete(staged.storage_name)
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


def staged_available(staged: StagedImport) -> None:
    """Raise ``storage.StorageUnreachable`` with a plain message when this host cannot read the staged file:
    checked on another host that kept it on its own disk, cleaned up, or shared storage that does not answer."""
    if storage.exists(staged.storage_name):
        return
    if staged.stored_on and staged.stored_on != storage.host_name():
        raise storage.StorageUnreachable(
            f"The checked file is on the local disk of host “{staged.stored_on}”, which this host cannot reach. "
            "Upload it again, or ask an administrator to give every host the same shared storage for transfers "
            "(README, “Production”). Nothing was sent."
        )
    raise storage.StorageUnreachable(
        "The checked file is gone (cleaned up); upload it again. Nothing was sent."
    )


def import_staged(provider, staged: StagedImport, app_name: str) -> ImportResult:
    with storage.open_local_copy(staged.storage_name) as fh:
        return provider.import_app(staged.workspace_id, fh, app_name=app_name)


def check_name(
    provider,
    staged: StagedImport,
    *,
    actor,
    app_name: str,
    after: dict,
    reason: str,
    ticket: str,
    action: str = Action.APP_IMPORT,
) -> list[RemoteApp]:
    """The apps of the target workspace; raises NameTaken (after writing the ``app.import_rejected`` row) when
    ``app_name`` is one of theirs, and nothing is sent upstream then. When the workspace cannot be read (the
    instance is down, refuses the connection…) the attempted ``action`` gets its failure row before the error
    goes on: every write that was asked for is audited, even one that never reached the instance."""
    try:
        apps = list(provider.iter_apps(staged.workspace_id))
    except ProviderError as exc:
        audit_record(
            action=action,
            actor=actor,
            connection=staged.connection,
            target_type="app",
            target_repr=app_name,
            after=after,
            reason=reason,
            ticket=ticket,
            outcome="failure",
            error=exc.message,
            upstream_status=exc.status_code,
            upstream_request_id=exc.upstream_request_id or "",
            extra={"staged_import": str(staged.pk)},
        )
        raise
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
    storage.delete(staged.storage_name)
    staged.delete()


def app_import(
    *, staged: StagedImport, actor, app_name: str, reason: str = "", ticket: str = ""
) -> ImportResult:
    """Import a staged file under ``app_name`` (always sent as ``appName``). Raises NameTaken (nothing sent, an
    ``app.import_rejected`` row), ``storage.StorageUnreachable`` (nothing sent) or ProviderError (an ``app.import``
    failure row)."""
    staged_available(staged)
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
    check_name(provider, staged, actor=actor, app_name=app_name, after=after, reason=reason, ticket=ticket)
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
        result = import_staged(provider, staged, app_name)
        event.after = {**after, "upstream_message": result.message}
    staged_discard(staged)
    return result


def import_landed(*, staged: StagedImport, app_name: str) -> bool | None:
    """After a lost answer: does the target workspace now hold an app called ``app_name``? None when it cannot be
    read either (then the operator must look)."""
    try:
        apps = get_provider(staged.connection).iter_apps(staged.workspace_id)
        return app_name.strip().casefold() in {a.name.casefold() for a in apps}
    except ProviderError:
        return None
