"""The periodic jobs of the console, declared in code (``manage.py scheduler`` runs them).

To add one, write a django.tasks task in the feature app and declare it here (see ``plans_expire`` below).

A job body must be quick: queue a task for anything that talks to an instance or walks a large table.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management import call_command
from django.tasks import task

from apps.ops.schedule import register_job

logger = logging.getLogger(__name__)

HOUR = 3600
DAY = 24 * HOUR


@register_job("directory_sync", every=lambda: settings.ADMINUI_DIRECTORY_SYNC_INTERVAL)
def _directory_sync() -> None:
    from apps.directory.tasks import sync_queue_all

    queued = sync_queue_all()
    logger.info("directory sync queued for %d connection(s)", len(queued))


@register_job("tasks_reap", every=lambda: max(5, settings.ADMINUI_WORKER_STALE_AFTER // 2))
def _tasks_reap() -> None:
    """Inline, not a task: it must work when every worker is dead."""
    from apps.ops.workers import tasks_reap

    tasks_reap()


@task
def audit_checkpoint_task() -> int:
    """`manage.py audit_verify --checkpoint`: walk the chain and append a checkpoint event carrying its head."""
    from apps.audit.services import audit_checkpoint, audit_verify

    result = audit_verify()
    if not result.ok:  # as the command: no checkpoint on a broken chain; the failed task is what alerts
        raise RuntimeError(f"audit chain verification failed at sequence {result.broken_sequence}")
    return audit_checkpoint(actor="system:scheduler").sequence


@register_job("audit_checkpoint", every=DAY, first_delay=HOUR)
def _audit_checkpoint() -> None:
    audit_checkpoint_task.enqueue()


@task
def transfers_cleanup_task() -> dict[str, int]:
    from apps.transfers.services.cleanup import transfers_cleanup

    result = transfers_cleanup()
    return {"bundles": result.bundles, "staged": result.staged, "orphans": result.orphans}


@register_job("transfers_cleanup", every=HOUR)
def _transfers_cleanup() -> None:
    transfers_cleanup_task.enqueue()


@register_job("task_results_prune", every=DAY, first_delay=HOUR)
def _task_results_prune() -> None:
    """Finished task rows older than ADMINUI_TASK_RESULTS_KEEP_DAYS go (django-tasks-db's own command)."""
    days = str(settings.ADMINUI_TASK_RESULTS_KEEP_DAYS)
    call_command("prune_db_task_results", "--min-age-days", days, verbosity=0)


@register_job("plans_expire", every=60)
def _plans_expire() -> None:
    """Time-boxed access ends on time (to the minute) and unanswered approval requests expire."""
    from apps.plans.tasks import plans_expire_task

    plans_expire_task.enqueue()
