"""Workers that heal: heartbeats, and the reaper that fails work a dead worker left "running".

A ``manage.py worker`` writes its :class:`WorkerHeartbeat` row every ADMINUI_WORKER_HEARTBEAT seconds from a
thread of its own (a long bundle build does not stop it). A task row still RUNNING whose worker has been silent
for ADMINUI_WORKER_STALE_AFTER seconds will never finish: :func:`tasks_reap` marks it failed and tells the feature
that owns it (the bundle says "failed — the worker stopped" and offers Retry; the sync stops saying "running").
Work claimed by a worker that never wrote a heartbeat (a plain ``db_worker``) is left alone for
ADMINUI_DIRECTORY_SYNC_STALLED_AFTER seconds, the older rule, so it is not failed under a live worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.utils import DatabaseError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.directory.models import DirectorySync
from apps.transfers import storage
from apps.transfers.models import Bundle, BundleItem

logger = logging.getLogger(__name__)

WORKER_LOST = "apps.ops.workers.WorkerLost"
BUNDLE_ERROR = "Failed — the worker stopped while building this bundle. Retry to finish the remaining apps."
ITEM_ERROR = "The worker stopped before this app was exported."
SYNC_ERROR = (
    "Failed — the worker stopped during this sync. The next scheduled sync (or Refresh) runs it again."
)


class WorkerLost(Exception):
    """Recorded on a task row whose worker stopped (killed, machine lost) while running it."""


# -- heartbeats -------------------------------------------------------------------------------------------------


def heartbeat_beat(*, worker_id: str, started_at: datetime | None = None) -> None:
    """Write (or refresh) this worker's heartbeat row."""
    from apps.ops.models import WorkerHeartbeat

    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(pk=worker_id).update(seen_at=now)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "started_at": started_at or now,
                "seen_at": now,
            },
        )


def heartbeat_forget(*, worker_id: str) -> None:
    from apps.ops.models import WorkerHeartbeat

    WorkerHeartbeat.objects.filter(pk=worker_id).delete()


class HeartbeatThread(threading.Thread):
    """Beats until stopped; a database that is away only skips beats (the worker is not dead, just waiting)."""

    def __init__(self, worker_id: str, interval: float):
        super().__init__(name="adminui-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self.started_at = timezone.now()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            try:
                heartbeat_beat(worker_id=self.worker_id, started_at=self.started_at)
            except DatabaseError as exc:
                logger.warning("worker %s: heartbeat not written (%s)", self.worker_id, exc)
            finally:
                connection.close()  # this thread's own connection: never left half-dead between beats
            if self._stop_event.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop_event.set()


def fresh_worker_ids(*, now: datetime | None = None) -> set[str]:
    from apps.ops.models import WorkerHeartbeat

    now = now or timezone.now()
    since = now - timedelta(seconds=settings.ADMINUI_WORKER_STALE_AFTER)
    return set(WorkerHeartbeat.objects.filter(seen_at__gte=since).values_list("worker_id", flat=True))


# -- the reaper -------------------------------------------------------------------------------------------------


def stuck_tasks(*, now: datetime | None = None) -> list[DBTaskResult]:
    """Task rows RUNNING under a worker that is gone: its heartbeat is stale, or (a worker without heartbeats)
    it started longer than ADMINUI_DIRECTORY_SYNC_STALLED_AFTER ago."""
    from apps.ops.models import WorkerHeartbeat

    now = now or timezone.now()
    fresh = fresh_worker_ids(now=now)
    known = set(WorkerHeartbeat.objects.values_list("worker_id", flat=True))
    old = now - timedelta(seconds=settings.ADMINUI_DIRECTORY_SYNC_STALLED_AFTER)
    stuck = []
    for row in DBTaskResult.objects.filter(status="RUNNING"):
        worker = row.worker_ids[-1] if row.worker_ids else None
        if worker in fresh:
            continue
        if worker not in known and row.started_at and row.started_at > old:
            continue
        stuck.append(row)
    return stuck


@dataclass
class Reaped:
    task_id: str
    task_path: str
    worker_id: str | None


def _bundle_abandoned(args: list[Any], kwargs: dict[str, Any]) -> None:
    bundle_id = args[0] if args else kwargs.get("bundle_id")
    bundle = Bundle.objects.filter(pk=bundle_id).first()
    if bundle is None or bundle.is_finished:
        return
    unfinished = bundle.items.filter(status__in=[BundleItem.Status.RUNNING, BundleItem.Status.PENDING])
    for item in unfinished:
        storage.delete(item.part_name)  # a half-written export is never offered
    unfinished.update(status=BundleItem.Status.FAILED, error=ITEM_ERROR)
    Bundle.objects.filter(pk=bundle.pk).update(
        status=Bundle.Status.FAILED, error=BUNDLE_ERROR, finished_at=timezone.now()
    )


def _sync_abandoned(args: list[Any], kwargs: dict[str, Any]) -> None:
    connection_id = args[0] if args else kwargs.get("connection_id")
    DirectorySync.objects.filter(connection_id=connection_id, status=DirectorySync.Status.RUNNING).update(
        status=DirectorySync.Status.FAILED, message=SYNC_ERROR
    )


def _plan_apply_abandoned(args: list[Any], kwargs: dict[str, Any]) -> None:
    """A plan half applied resumes on another worker: operations whose answer was lost are re-read before anything
    is sent again, never blindly re-sent."""
    from apps.plans.tasks import plan_apply_task

    plan_id = args[0] if args else kwargs.get("plan_id")
    plan_apply_task.enqueue(plan_id, resume=True)


def _audit_walk_abandoned(args: list[Any], kwargs: dict[str, Any]) -> None:
    """Nothing to tidy: a walk of the chain writes its result only when it ends."""


# task path → what its feature needs done when a worker died running it; new long tasks add themselves here
ABANDONED: dict[str, Callable[[list[Any], dict[str, Any]], None]] = {
    "apps.transfers.tasks.bundle_build_task": _bundle_abandoned,
    "apps.directory.tasks.sync_connection": _sync_abandoned,
    "apps.audit.tasks.verify_chain": _audit_walk_abandoned,
    "apps.plans.tasks.plan_apply_task": _plan_apply_abandoned,
}


def _fail(row: DBTaskResult, *, reason: str) -> bool:
    """Mark one RUNNING row failed (only if it is still RUNNING: a worker that finishes it first wins)."""
    now = timezone.now()
    updated = DBTaskResult.objects.filter(pk=row.pk, status="RUNNING").update(
        status="FAILED",
        finished_at=now,
        return_value=None,
        exception_class_path=WORKER_LOST,
        traceback=f"{WORKER_LOST}: {reason}\n",
    )
    if not updated:
        return False
    handler = ABANDONED.get(row.task_path)
    if handler is not None:
        args_kwargs = row.args_kwargs or {}
        handler(list(args_kwargs.get("args") or []), dict(args_kwargs.get("kwargs") or {}))
    logger.warning("task %s (%s) marked failed: %s", row.pk, row.task_path, reason)
    return True


def tasks_reap(*, now: datetime | None = None) -> list[Reaped]:
    """Fail every task left RUNNING by a dead worker and let its feature show it; forget heartbeats a day old."""
    from apps.ops.models import WorkerHeartbeat

    now = now or timezone.now()
    reaped = []
    for row in stuck_tasks(now=now):
        worker = row.worker_ids[-1] if row.worker_ids else None
        if _fail(row, reason=f"worker {worker or '?'} stopped while running it (no heartbeat)"):
            reaped.append(Reaped(task_id=str(row.pk), task_path=row.task_path, worker_id=worker))
    WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()
    return reaped


def tasks_release_own(*, worker_id: str) -> int:
    """A worker that lost the database in the middle of a task could not record its end: after reconnecting it
    runs nothing, so whatever is still RUNNING under its id is failed now (not an hour later)."""
    released = 0
    for row in DBTaskResult.objects.filter(status="RUNNING"):
        if row.worker_ids and row.worker_ids[-1] == worker_id:
            released += _fail(row, reason=f"worker {worker_id} lost its database connection while running it")
    return released
