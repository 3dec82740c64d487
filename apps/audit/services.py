"""The only writers of the audit trail.

`audit_record(...)` appends one row: redacts, snapshots the actor and connection, takes the chain-head lock,
links the row to the current head and hashes it. `audited(...)` wraps an attempted change and records exactly
one row when the block exits (success, failure or denied).

Call them *outside* an `atomic()` block that may roll back when you want a failure row to survive the failure
(a row written inside a transaction disappears with it). Inside a transaction they work too, but hold the chain
lock until that transaction commits.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import ipaddress
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from apps.audit import tasks
from apps.audit.chain import VerifyResult, compute_hash, verify_chain
from apps.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditVerification, allow_append
from apps.audit.redaction import redact, redact_pair, scrub_text
from apps.audit.selectors import verification_pending
from apps.core.context import current_request_meta

_ACTIONS = frozenset(AuditEvent.Action.values)
_OUTCOMES = frozenset(AuditEvent.Outcome.values)


def _clip(value: Any, length: int) -> str:
    text = "" if value is None else str(value)
    return text.replace("\x00", "")[:length]


def _normal_ip(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def _actor_fields(actor) -> tuple[Any, str]:
    """(FK value, username snapshot). `actor` is an operator, None (the system) or a plain name (a CLI user,
    a username that failed to sign in)."""
    if actor is None:
        return None, ""
    if isinstance(actor, str):
        return None, actor
    if not getattr(actor, "is_authenticated", False) or getattr(actor, "pk", None) is None:
        return None, ""
    return actor, actor.get_username()


def _lock_chain_head() -> None:
    """Serialize appenders: a row lock on PostgreSQL; on SQLite the IMMEDIATE transaction already holds the
    database write lock. The lock row is (re)created if missing (e.g. after a test flush)."""
    if not AuditChainHead.objects.select_for_update().filter(pk=1).exists():
        AuditChainHead.objects.get_or_create(pk=1)
        AuditChainHead.objects.select_for_update().filter(pk=1).exists()


def audit_record(
    *,
    action: str,
    actor,
    connection=None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    before=None,
    after=None,
    reason: str = "",
    ticket: str = "",
    outcome: str = "success",
    error: str = "",
    upstream_status: int | None = None,
    upstream_request_id: str = "",
    duration_ms: int | None = None,
    request_id: str | None = None,
    remote_addr: str | None = None,
    user_agent: str | None = None,
    extra: dict | None = None,
) -> AuditEvent:
    """Append one audit row and return it. request_id/remote_addr/user_agent default to the current request's."""
    if action not in _ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to AuditEvent.Action")
    if outcome not in _OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    meta = current_request_meta()
    actor_fk, actor_username = _actor_fields(actor)
    red_before, red_after = redact_pair(before, after)
    red_extra = redact(extra) or {}
    if not isinstance(red_extra, dict):
        red_extra = {"value": red_extra}

    event = AuditEvent(
        actor=actor_fk,
        actor_username=_clip(actor_username, 150),
        remote_addr=_normal_ip(meta.remote_addr if remote_addr is None else remote_addr),
        user_agent=_clip(meta.user_agent if user_agent is None else user_agent, 300),
        request_id=_clip(meta.request_id if request_id is None else request_id, 128).strip("-") or "",
        connection=connection,
        connection_name=_clip(getattr(connection, "name", ""), 100),
        connection_slug=_clip(getattr(connection, "slug", ""), 60),
        provider=_clip(getattr(connection, "kind", ""), 16),
        action=action,
        target_type=_clip(target_type, 40),
        target_id=_clip(target_id, 200),
        target_repr=_clip(scrub_text(str(target_repr or "")), 300),
        before=red_before,
        after=red_after,
        reason=_clip(scrub_text(reason or ""), 10_000),
        ticket=_clip(ticket, 100),
        outcome=outcome,
        error=_clip(scrub_text(str(error or "")), 10_000),
        upstream_status=upstream_status
        if isinstance(upstream_status, int) and 0 <= upstream_status < 1000
        else None,
        upstream_request_id=_clip(upstream_request_id, 200),
        duration_ms=max(0, int(duration_ms)) if duration_ms is not None else None,
        extra=red_extra,
    )
    with transaction.atomic():
        _lock_chain_head()
        head = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash", "created_at").first()
        event.sequence = head[0] + 1 if head else 1
        event.prev_hash = head[1] if head else GENESIS_HASH
        # Taken inside the lock and never before the head's, so time never runs backwards along the chain.
        event.created_at = max(timezone.now(), head[2]) if head else timezone.now()
        event.hash = compute_hash(event)
        with allow_append():
            event.save(force_insert=True)
    return event


# -- refusals ----------------------------------------------------------------------------------------------------

# At most one denied row per (operator, what was tried, target) in this many seconds: a script that loops on a
# refused request cannot flood the trail.
DENIED_THROTTLE_SECONDS = 60


def mark_audited(exc: BaseException) -> None:
    """This refusal already has its audit row (or was deliberately throttled): nobody records it again."""
    exc._adminui_audited = True  # type: ignore[attr-defined]


def is_audited(exc: BaseException) -> bool:
    return bool(getattr(exc, "_adminui_audited", False))


def audit_denied(*, throttle: tuple[Any, ...], **fields: Any) -> AuditEvent | None:
    """Append one ``denied`` row (``audit_record`` fields), unless a row with the same ``throttle`` key — who, what
    was tried, on what — was written in the last ``DENIED_THROTTLE_SECONDS``. Returns the row, or None when
    throttled. The one writer of refusals: ``audited`` blocks and the request-refusal middleware both use it."""
    key = "audit:denied:" + hashlib.sha256(repr(throttle).encode()).hexdigest()[:40]
    if not cache.add(key, 1, timeout=DENIED_THROTTLE_SECONDS):
        return None
    return audit_record(outcome=AuditEvent.Outcome.DENIED, **fields)


@dataclass
class PendingAudit:
    """What the body of `with audited(...) as event:` may fill in. After the block, `.record` is the row."""

    before: Any = None
    after: Any = None
    target_repr: str = ""
    target_id: str = ""
    extra: dict = field(default_factory=dict)
    outcome: str = "success"
    error: str = ""
    upstream_status: int | None = None
    upstream_request_id: str = ""
    record: AuditEvent | None = None


@contextmanager
def audited(
    *,
    action: str,
    actor,
    connection=None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    before=None,
    reason: str = "",
    ticket: str = "",
    extra: dict | None = None,
) -> Iterator[PendingAudit]:
    """Record exactly one row when the block exits: its outcome (default success), or — if an exception escapes —
    failure (denied for PermissionDenied; unknown when a write was sent and its answer lost, ``may_have_applied``)
    with the error, upstream status and upstream request id; then re-raise."""
    if action not in _ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to AuditEvent.Action")
    pending = PendingAudit(
        before=before, target_repr=target_repr, target_id=target_id, extra=dict(extra or {})
    )
    started = time.monotonic()
    try:
        yield pending
    except BaseException as exc:
        denied = isinstance(exc, PermissionDenied)
        message = getattr(exc, "message", None)
        if denied:
            actor_pk = getattr(actor, "pk", actor)
            pending.record = audit_denied(
                throttle=(actor_pk, action, getattr(connection, "pk", None), target_type, pending.target_id),
                action=action,
                actor=actor,
                connection=connection,
                target_type=target_type,
                target_id=pending.target_id,
                target_repr=pending.target_repr,
                before=pending.before,
                reason=reason,
                ticket=ticket,
                error=str(exc) or "Not allowed.",
                duration_ms=int((time.monotonic() - started) * 1000),
                extra=pending.extra,
            )
            mark_audited(exc)
            raise
        pending.record = audit_record(
            action=action,
            actor=actor,
            connection=connection,
            target_type=target_type,
            target_id=pending.target_id,
            target_repr=pending.target_repr,
            before=pending.before,
            after=pending.after,
            reason=reason,
            ticket=ticket,
            outcome=AuditEvent.Outcome.UNKNOWN
            if getattr(exc, "may_have_applied", False)
            else AuditEvent.Outcome.FAILURE,
            error=str(message if isinstance(message, str) and message else exc) or type(exc).__name__,
            upstream_status=getattr(exc, "status_code", None),
            upstream_request_id=getattr(exc, "upstream_request_id", "") or "",
            duration_ms=int((time.monotonic() - started) * 1000),
            extra=pending.extra,
        )
        with contextlib.suppress(AttributeError, TypeError):
            exc.audited = True  # for outer nets (apps.connections.auditing): this failure has its row
        raise
    pending.record = audit_record(
        action=action,
        actor=actor,
        connection=connection,
        target_type=target_type,
        target_id=pending.target_id,
        target_repr=pending.target_repr,
        before=pending.before,
        after=pending.after,
        reason=reason,
        ticket=ticket,
        outcome=pending.outcome,
        error=pending.error,
        upstream_status=pending.upstream_status,
        upstream_request_id=pending.upstream_request_id,
        duration_ms=int((time.monotonic() - started) * 1000),
        extra=pending.extra,
    )


# ---------------------------------------------------------------------------------------------------------------
# Verification, export bookkeeping, retention
# ---------------------------------------------------------------------------------------------------------------


def audit_verify_request() -> None:
    """Queue a walk of the whole chain in the background, unless one is already on its way."""
    if not verification_pending():
        tasks.verify_chain.enqueue()


def audit_verify() -> VerifyResult:
    """Walk the chain, store the result (shown on the audit page) and return it. A head that an earlier
    successful verification saw must still be there."""
    previous = (
        AuditVerification.objects.filter(ok=True, head_sequence__isnull=False).order_by("-checked_at").first()
    )
    expected = (previous.head_sequence, previous.head_hash) if previous else None
    result = verify_chain(expected_head=expected)
    AuditVerification.objects.create(
        checked_at=timezone.now(),
        ok=result.ok,
        count=result.count,
        head_sequence=result.head_sequence,
        head_hash=result.head_hash,
        message=result.line,
    )
    return result


def audit_checkpoint(*, actor) -> AuditEvent:
    """Verify and write an `audit.checkpoint` row carrying the verified head (an anchor worth copying elsewhere)."""
    result = audit_verify()
    return audit_record(
        action=AuditEvent.Action.AUDIT_CHECKPOINT,
        actor=actor,
        target_type="audit",
        target_repr="audit chain",
        after={
            "verified": result.ok,
            "count": result.count,
            "head_sequence": result.head_sequence,
            "head_hash": result.head_hash,
        },
        outcome=AuditEvent.Outcome.SUCCESS if result.ok else AuditEvent.Outcome.FAILURE,
        error="" if result.ok else result.line,
    )


def cli_actor(username: str | None = None):
    """The actor for a management command: the named operator, or "cli:<os user>"."""
    if username:
        from django.contrib.auth import get_user_model

        return get_user_model().objects.get(username=username)
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return f"cli:{who}"


def audit_export_start(*, actor, qs, export_format: str, filters: dict) -> tuple[Any, AuditEvent]:
    """Audit an export and pin it to the current head: returns (queryset to stream, the audit.export row).
    Rows appended during streaming (including this one) are not part of the export."""
    from apps.accounts.roles import Perm, require

    with audited(
        action=AuditEvent.Action.AUDIT_EXPORT,
        actor=actor,
        target_type="audit",
        target_repr="audit trail",
        extra={"format": export_format, "filters": {k: v for k, v in filters.items() if v not in ("", None)}},
    ) as pending:
        if not isinstance(actor, str):
            require(actor, Perm.EXPORT_AUDIT)
        through = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
        pinned = qs.filter(sequence__lte=through)
        pending.extra["through_sequence"] = through
        pending.extra["rows"] = pinned.count()
        pending.extra["filename"] = export_filename(export_format)
    assert pending.record is not None
    return pinned, pending.record


def export_filename(export_format: str) -> str:
    return f"audit-{timezone.now():%Y%m%d-%H%M%S}.{export_format}"


@dataclass
class PruneResult:
    removed: int
    first_sequence: int | None = None
    last_sequence: int | None = None
    last_hash: str = ""
    checkpoint: AuditEvent | None = None


def audit_prune(*, actor, before: date, dry_run: bool = False) -> PruneResult:
    """Remove every row created before `before` (UTC midnight) — always a prefix of the chain. In one transaction it
    first appends an `audit.prune` checkpoint carrying the count and the last removed hash, then deletes, so
    `audit_verify` still passes. Admins only (Perm.EXPORT_AUDIT); denied and failed attempts are recorded."""
    from apps.accounts.roles import Perm

    target = {"target_type": "audit", "target_repr": f"audit rows before {before.isoformat()}"}
    if isinstance(actor, str) or actor is None or not actor.has_perm(Perm.EXPORT_AUDIT):
        audit_record(
            action=AuditEvent.Action.AUDIT_PRUNE,
            actor=actor,
            outcome=AuditEvent.Outcome.DENIED,
            error="pruning the audit trail needs an admin operator",
            **target,
        )
        raise PermissionDenied("pruning the audit trail needs an admin operator")
    cutoff = datetime.combine(before, dtime.min, tzinfo=UTC)
    started = time.monotonic()
    try:
        with transaction.atomic():
            _lock_chain_head()
            last = (
                AuditEvent.objects.filter(created_at__lt=cutoff)
                .order_by("-sequence")
                .values_list("sequence", "hash")
                .first()
            )
            if last is None:
                return PruneResult(removed=0)
            first = AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True).first()
            removed = AuditEvent.objects.filter(sequence__lte=last[0]).count()
            result = PruneResult(
                removed=removed, first_sequence=first, last_sequence=last[0], last_hash=last[1]
            )
            if dry_run:
                return result
            result.checkpoint = audit_record(
                action=AuditEvent.Action.AUDIT_PRUNE,
                actor=actor,
                after={
                    "before": before.isoformat(),
                    "removed_count": removed,
                    "removed_from_sequence": first,
                    "removed_through_sequence": last[0],
                    "last_removed_hash": last[1],
                },
                duration_ms=int((time.monotonic() - started) * 1000),
                **target,
            )
            _delete_through(last[0])
            return result
    except Exception as exc:
        audit_record(
            action=AuditEvent.Action.AUDIT_PRUNE,
            actor=actor,
            outcome=AuditEvent.Outcome.FAILURE,
            error=str(exc),
            **target,
        )
        raise


def _delete_through(sequence: int) -> None:
    """Deliberately bypass the append-only guards (model, queryset and, on PostgreSQL, the trigger)."""
    table = db_connection.ops.quote_name(AuditEvent._meta.db_table)
    with db_connection.cursor() as cursor:
        if db_connection.vendor == "postgresql":
            cursor.execute("SET LOCAL adminui.audit_prune = 'on'")
        cursor.execute(f"DELETE FROM {table} WHERE sequence <= %s", [sequence])  # noqa: S608 (quoted table name)
        if db_connection.vendor == "postgresql":
            cursor.execute("SET LOCAL adminui.audit_prune = 'off'")
