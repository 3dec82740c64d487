"""Background work of the audit trail (django.tasks, django-tasks-db backend)."""

from __future__ import annotations

from django.tasks import task

from apps.audit.services import audit_verify


@task
def verify_chain() -> bool:
    """Walk the whole chain and store the result (the audit page shows it); a long trail takes a while."""
    return audit_verify().ok


def verification_pending() -> bool:
    """A verification was asked for and has not finished (queued or running)."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # another backend: no way to look
        return False
    return DBTaskResult.objects.filter(
        task_path=f"{__name__}.verify_chain", status__in=("READY", "RUNNING")
    ).exists()
