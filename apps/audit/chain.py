"""The hash chain: canonical JSON of a row, its SHA-256, and the walk that verifies the whole trail.

hash = sha256(canonical JSON of the row's evidential fields, including `sequence` and `prev_hash`).
Canonical JSON: sorted keys, no whitespace, UTF-8, datetimes as UTC ISO-8601 with microseconds.
The FK columns (`actor_id`, `connection_id`) are not hashed: Django's SET_NULL may clear them; the
snapshots (`actor_username`, `connection_name`, `connection_slug`, `provider`) are.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apps.audit.models import GENESIS_HASH, AuditEvent

HASHED_FIELDS = (
    "sequence",
    "created_at",
    "actor_username",
    "remote_addr",
    "user_agent",
    "request_id",
    "connection_name",
    "connection_slug",
    "provider",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "before",
    "after",
    "reason",
    "ticket",
    "outcome",
    "error",
    "upstream_status",
    "upstream_request_id",
    "duration_ms",
    "extra",
    "prev_hash",
)

# Checkpoints (written by audit_prune) tell verification where a pruned chain legitimately starts.
CHECKPOINT_ACTIONS = (AuditEvent.Action.AUDIT_PRUNE, AuditEvent.Action.AUDIT_CHECKPOINT)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"not JSON serializable in an audit row: {type(value).__name__}")


def payload(event: AuditEvent) -> dict[str, Any]:
    data = {name: getattr(event, name) for name in HASHED_FIELDS}
    data["created_at"] = iso(event.created_at)
    data["extra"] = event.extra or {}
    return data


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_json(payload(event)).encode()).hexdigest()


@dataclass
class VerifyResult:
    ok: bool
    count: int = 0
    head_sequence: int | None = None
    head_hash: str = ""
    broken_sequence: int | None = None
    problem: str = ""  # "edited", "missing", "reordered"
    detail: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        if self.ok:
            return f"OK {self.count} {self.head_hash or '-'}"
        return f"BROKEN at sequence {self.broken_sequence}: {self.problem} — {self.detail}"


def _checkpoint_for(first: AuditEvent) -> dict | None:
    """The prune checkpoint that explains why the chain starts at `first` (its data), if any."""
    candidates = AuditEvent.objects.filter(
        action__in=CHECKPOINT_ACTIONS, outcome=AuditEvent.Outcome.SUCCESS, sequence__gte=first.sequence
    ).order_by("sequence")
    for event in candidates.iterator(chunk_size=100):
        data = (event.after or {}) if isinstance(event.after, dict) else {}
        if data.get("removed_through_sequence") == first.sequence - 1:
            return data
    return None


def verify_chain(*, chunk_size: int = 2000, expected_head: tuple[int, str] | None = None) -> VerifyResult:
    """Walk the chain in sequence order. Reports the first problem found:

    * missing   — a sequence number is absent (row deleted), or the chain starts late without a prune checkpoint,
                  or a previously verified head is gone;
    * reordered — a row sits at the wrong place (its prev_hash names another row of the trail);
    * edited    — a row's contents no longer match its hash, or its predecessor's.
    """
    qs = AuditEvent.objects.order_by("sequence")
    count = 0
    expected_seq: int | None = None
    expected_prev = GENESIS_HASH
    last: AuditEvent | None = None

    for event in qs.iterator(chunk_size=chunk_size):
        if expected_seq is None:
            expected_seq = 1
            if event.sequence != 1:
                checkpoint = _checkpoint_for(event)
                if checkpoint is None:
                    return VerifyResult(
                        False,
                        count,
                        broken_sequence=1,
                        problem="missing",
                        detail=f"sequences 1–{event.sequence - 1} are absent and no prune checkpoint accounts for them",
                    )
                if checkpoint.get("last_removed_hash") != event.prev_hash:
                    return VerifyResult(
                        False,
                        count,
                        broken_sequence=event.sequence,
                        problem="edited",
                        detail="prev_hash does not match the last hash recorded by the prune checkpoint",
                    )
                expected_seq, expected_prev = event.sequence, event.prev_hash
        if event.sequence != expected_seq:
            if event.sequence > expected_seq:
                missing = (
                    f"sequence {expected_seq}"
                    if event.sequence == expected_seq + 1
                    else f"sequences {expected_seq}–{event.sequence - 1}"
                )
                return VerifyResult(
                    False, count, broken_sequence=expected_seq, problem="missing", detail=f"{missing} deleted"
                )
            return VerifyResult(
                False, count, broken_sequence=event.sequence, problem="reordered", detail="duplicate sequence"
            )
        if event.prev_hash != expected_prev:
            elsewhere = (
                event.prev_hash
                and AuditEvent.objects.filter(hash=event.prev_hash)
                .exclude(sequence=event.sequence - 1)
                .exists()
            )
            if elsewhere:
                return VerifyResult(
                    False,
                    count,
                    broken_sequence=event.sequence,
                    problem="reordered",
                    detail="this row follows another row of the trail than its predecessor (rows moved or swapped)",
                )
            return VerifyResult(
                False,
                count,
                broken_sequence=event.sequence,
                problem="edited",
                detail=f"prev_hash does not match the hash of sequence {event.sequence - 1} "
                "(that row or this one was altered)",
            )
        if compute_hash(event) != event.hash:
            return VerifyResult(
                False,
                count,
                broken_sequence=event.sequence,
                problem="edited",
                detail="the row's contents no longer match its hash",
            )
        count += 1
        expected_seq = event.sequence + 1
        expected_prev = event.hash
        last = event

    result = VerifyResult(
        True, count, head_sequence=last.sequence if last else None, head_hash=last.hash if last else ""
    )
    if expected_head is not None:
        head_seq, head_hash = expected_head
        if last is None or last.sequence < head_seq:
            return VerifyResult(
                False,
                count,
                broken_sequence=(last.sequence + 1) if last else head_seq,
                problem="missing",
                detail=f"the chain ends before sequence {head_seq}, which an earlier verification saw",
            )
        seen = AuditEvent.objects.filter(sequence=head_seq).values_list("hash", flat=True).first()
        if seen is not None and seen != head_hash:
            return VerifyResult(
                False,
                count,
                broken_sequence=head_seq,
                problem="edited",
                detail="the row differs from what an earlier verification saw",
            )
    return result
