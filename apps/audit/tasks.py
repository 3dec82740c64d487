"""Background work of the audit trail (django.tasks, django-tasks-db backend)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from apps.audit.services import audit_verify
from apps.core.tasks import task_pending

# a walk of the chain still "running" after this lost its worker
STALLED_AFTER = timedelta(hours=1)


@task
def verify_chain() -> bool:
    """Walk the whole chain and store the result (the audit page shows it); a long trail takes a while."""
    return audit_verify().ok


def verification_pending() -> bool:
    """A verification was asked for and is still expected to finish: queued less than the worker-overdue time ago
    or started less than an hour ago. One left behind by a stopped worker does not hide the button for ever."""
    now = timezone.now()
    path = f"{__name__}.verify_chain"
    queued_since = now - timedelta(seconds=settings.ADMINUI_WORKER_OVERDUE)
    return task_pending(path, status="READY", enqueued_at__gte=queued_since) or task_pending(
        path, status="RUNNING", started_at__gte=now - STALLED_AFTER
    )
