"""Background work of the audit trail (django.tasks, django-tasks-db backend)."""

from __future__ import annotations

from django.tasks import task


@task
def verify_chain() -> bool:
    """Walk the whole chain and store the result (the audit page shows it); a long trail takes a while."""
    from apps.audit.services import audit_verify

    return audit_verify().ok
