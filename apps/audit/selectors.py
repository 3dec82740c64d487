"""Reads of the audit trail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Perm
from apps.accounts.scope import operator_scope
from apps.audit.models import AuditEvent, AuditVerification
from apps.core.tasks import task_pending


def events_visible_to(user) -> Q:
    """What of the trail an operator may read: events of the connections their scope covers, and events about no
    connection (sign-ins, operators, the trail itself) for admin operators only."""
    scope = operator_scope(user)
    admin = user.has_perm(Perm.GRANT_ADMIN)
    if scope.unrestricted and admin:
        return Q()
    about_connection = ~Q(connection_slug="")
    visible = (
        about_connection if scope.unrestricted else Q(connection__isnull=False) & scope.q("connection__")
    )
    return visible | Q(connection_slug="") if admin else visible


def event_search(*, filters: dict, visible: Q | None = None) -> QuerySet[AuditEvent]:
    """Events matching the audit filters (see AuditFilterForm), newest first; only ``visible`` ones when given
    (``events_visible_to``)."""
    qs = AuditEvent.objects.all() if visible is None else AuditEvent.objects.filter(visible)
    if value := filters.get("connection"):
        qs = qs.filter(connection_slug=value)
    if value := filters.get("actor"):
        qs = qs.filter(actor_username__iexact=value)
    if value := filters.get("action"):
        qs = qs.filter(action__startswith=value) if value.endswith(".") else qs.filter(action=value)
    if value := filters.get("target"):
        target_type, sep, target_id = value.partition(":")
        if sep:
            qs = qs.filter(target_type=target_type.strip(), target_id=target_id.strip())
        else:
            qs = qs.filter(Q(target_id=value) | Q(target_repr__icontains=value))
    if value := filters.get("outcome"):
        qs = qs.filter(outcome=value)
    if value := filters.get("since"):
        qs = qs.filter(created_at__gte=datetime.combine(value, time.min, tzinfo=UTC))
    if value := filters.get("until"):
        qs = qs.filter(created_at__lt=datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC))
    if value := filters.get("q"):
        qs = qs.filter(
            Q(target_repr__icontains=value)
            | Q(target_id__icontains=value)
            | Q(actor_username__icontains=value)
            | Q(reason__icontains=value)
            | Q(ticket__icontains=value)
            | Q(error__icontains=value)
            | Q(request_id=value)
            | Q(connection_name__icontains=value)
        )
    return qs.order_by("-sequence")


@dataclass
class EventPage:
    """One page of the trail, newest first, found by position (``sequence``) instead of by number: no count and no
    OFFSET over the whole trail, so the page costs the same at event 1 and at event 1,000,000."""

    object_list: list[AuditEvent]
    has_next: bool  # older events exist: ?before=<next_before>
    has_previous: bool  # newer events exist: ?after=<previous_after>

    @property
    def next_before(self) -> int | None:
        return self.object_list[-1].sequence if self.object_list else None

    @property
    def previous_after(self) -> int | None:
        return self.object_list[0].sequence if self.object_list else None


def event_page(
    *,
    filters: dict,
    before: int | None = None,
    after: int | None = None,
    size: int = 50,
    visible: Q | None = None,
) -> EventPage:
    """``size`` events matching the filters, newest first: the newest ones, those just older than ``before``, or
    those just newer than ``after``. Each page reads ``size + 1`` rows along an index, plus one ``exists``."""
    qs = event_search(filters=filters, visible=visible)
    if after is not None:
        rows = list(qs.filter(sequence__gt=after).order_by("sequence")[: size + 1])
        has_previous = len(rows) > size
        rows = rows[:size][::-1]
        has_next = bool(rows) and qs.filter(sequence__lt=rows[-1].sequence).exists()
        return EventPage(object_list=rows, has_next=has_next, has_previous=has_previous)
    if before is not None:
        qs = qs.filter(sequence__lt=before)
    rows = list(qs[: size + 1])
    has_previous = (
        before is not None
        and bool(rows)
        and event_search(filters=filters, visible=visible).filter(sequence__gt=rows[0].sequence).exists()
    )
    return EventPage(object_list=rows[:size], has_next=len(rows) > size, has_previous=has_previous)


def history_url(*, target_type: str = "", target_id: str = "", connection=None) -> str:
    """The audit page filtered to one object's history, e.g. /audit/?target=user:42&connection=prod."""
    params = {}
    if target_type and target_id:
        params["target"] = f"{target_type}:{target_id}"
    if connection is not None:
        params["connection"] = getattr(connection, "slug", connection)
    url = reverse("audit:event_list")
    return f"{url}?{urlencode(params)}" if params else url


def latest_verification() -> AuditVerification | None:
    return AuditVerification.objects.order_by("-checked_at").first()


@dataclass(frozen=True)
class DiffLine:
    path: str
    kind: str  # "added", "removed", "changed", "unchanged"
    before: str = ""
    after: str = ""

    @property
    def changed(self) -> bool:
        return self.kind != "unchanged"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# A list of objects is shown item by item when each item can be told by one of these (a user's workspaces by name):
# `workspaces[Acme Staging].role: admin → builder` instead of the whole list twice as JSON.
_ITEM_KEYS = ("name", "workspace_name", "email", "key", "id")


def _item_key(items: list) -> str | None:
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in _ITEM_KEYS:
        labels = [i.get(key) for i in items]
        if all(isinstance(label, str | int) and label != "" for label in labels) and len(set(labels)) == len(
            labels
        ):
            return key
    return None


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in value:
            out.update(_flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and (key := _item_key(value)) is not None:
        out = {}
        for item in value:
            out.update(_flatten({k: v for k, v in item.items() if k != key}, f"{prefix}[{item[key]}]"))
        return out
    return {prefix or "(value)": value}


def event_diff(before: Any, after: Any) -> list[DiffLine]:
    """A readable before/after diff: nested keys flattened to dotted paths, each added/removed/changed/unchanged."""
    if before is None and after is None:
        return []
    flat_before = _flatten(before) if before is not None else {}
    flat_after = _flatten(after) if after is not None else {}
    lines = []
    for path in sorted(set(flat_before) | set(flat_after)):
        if path not in flat_before:
            lines.append(DiffLine(path, "added", after=_show(flat_after[path])))
        elif path not in flat_after:
            lines.append(DiffLine(path, "removed", before=_show(flat_before[path])))
        elif flat_before[path] != flat_after[path]:
            lines.append(DiffLine(path, "changed", _show(flat_before[path]), _show(flat_after[path])))
        else:
            lines.append(DiffLine(path, "unchanged", _show(flat_before[path]), _show(flat_after[path])))
    # what changed first (the page shows it; the unchanged rest is folded away), each part in path order
    return sorted(lines, key=lambda line: not line.changed)


def event_changes(event: AuditEvent) -> dict[str, Any]:
    """What the detail page shows under "Changes". A failed or denied attempt recorded no ``after``: diffing its
    ``before`` against nothing would strike every field through as removed, as if the target were deleted. It is
    shown as not applied, with the attempted change (the row's details) and the state at the time folded away."""
    attempted = [
        (key, value) for key, value in (event.extra or {}).items() if value not in (None, "", [], {})
    ]
    if event.after is None and event.before is not None and event.outcome != AuditEvent.Outcome.SUCCESS:
        state = "unknown" if event.outcome == AuditEvent.Outcome.UNKNOWN else "not_applied"
        return {"diff": event_diff(event.before, event.before), "applied": state, "attempted": attempted}
    return {"diff": event_diff(event.before, event.after), "applied": "", "attempted": attempted}


# a walk of the chain still "running" after this lost its worker
STALLED_AFTER = timedelta(hours=1)


def verification_pending() -> bool:
    """A verification was asked for and is still expected to finish: queued less than the worker-overdue time ago
    or started less than an hour ago. One left behind by a stopped worker does not hide the button for ever."""
    now = timezone.now()
    path = "apps.audit.tasks.verify_chain"
    queued_since = now - timedelta(seconds=settings.ADMINUI_WORKER_OVERDUE)
    return task_pending(path, status="READY", enqueued_at__gte=queued_since) or task_pending(
        path, status="RUNNING", started_at__gte=now - STALLED_AFTER
    )
