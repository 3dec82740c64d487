"""A small scheduler for django.tasks: jobs declared in code, due times kept in the database.

Every job has an interval in seconds (read when it is due, so settings apply without a migration; 0 turns it
off). :func:`scheduler_tick` runs each due job once: it first *claims* the run by moving the job's ``next_run_at``
forward with a compare-and-set ``UPDATE … WHERE next_run_at = <what it read>``. Only one of several schedulers can
win that update, so N schedulers never fire a run twice, and no lock is held (nothing to expire when a scheduler
is killed). A job body is quick: it queues django.tasks work (one task per connection for the directory sync) or
does a short database chore; heavy work runs in the task workers.

Why not django-crontask: its only cross-process lock is a Redis lock, and the console must keep its schedule
while Redis is away (the cache is optional and may fail); it also brings APScheduler for what is a due-time
column and a loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: Callable[[], int]  # seconds between runs, read when due; 0 or less: off
    run: Callable[[], object]
    first_delay: int = 0  # seconds after the first scheduler start before the first run


_JOBS: dict[str, Job] = {}


def register_job(name: str, *, every: int | Callable[[], int], first_delay: int = 0):
    """Declare a periodic job (a decorator). ``every`` is seconds or a callable giving them (a setting)."""

    def decorator(fn: Callable[[], object]) -> Callable[[], object]:
        interval = every if callable(every) else (lambda: every)
        _JOBS[name] = Job(name=name, every=interval, run=fn, first_delay=first_delay)
        return fn

    return decorator


def jobs() -> dict[str, Job]:
    """Every declared job (``apps.ops.jobs`` declares the routine ones when the app is ready)."""
    return dict(_JOBS)


def _row(job: Job, now: datetime):
    from apps.ops.models import ScheduledJob

    row = ScheduledJob.objects.filter(pk=job.name).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return ScheduledJob.objects.create(
                name=job.name, next_run_at=now + timedelta(seconds=job.first_delay)
            )
    except IntegrityError:  # another scheduler created it a moment ago
        return ScheduledJob.objects.get(pk=job.name)


def job_claim(*, name: str, now: datetime | None = None) -> bool:
    """Claim the due run of one job: True for exactly one caller per due run."""
    from apps.ops.models import ScheduledJob

    job = jobs()[name]
    now = now or timezone.now()
    interval = job.every()
    if interval <= 0:
        return False
    row = _row(job, now)
    if row.next_run_at > now:
        return False
    claimed = ScheduledJob.objects.filter(pk=name, next_run_at=row.next_run_at).update(
        next_run_at=now + timedelta(seconds=interval), last_started_at=now
    )
    return claimed == 1


def job_run(*, name: str) -> bool:
    """Run a claimed job and record how it ended; a failure is logged and recorded, never raised."""
    from apps.ops.models import ScheduledJob

    job = jobs()[name]
    ok, error = True, ""
    try:
        job.run()
    except Exception as exc:  # noqa: BLE001 - one job failing never stops the schedule
        logger.exception("scheduled job %s failed", name)
        ok, error = False, f"{type(exc).__name__}: {exc}"[:2000]
    ScheduledJob.objects.filter(pk=name).update(last_finished_at=timezone.now(), last_ok=ok, last_error=error)
    return ok


def scheduler_tick(*, now: datetime | None = None) -> list[str]:
    """Run every job that is due and not claimed by another scheduler; the names of the jobs this call ran."""
    fired = []
    for name in jobs():
        if job_claim(name=name, now=now):
            job_run(name=name)
            fired.append(name)
    return fired
