"""python manage.py worker: the django-tasks-db worker, made to last.

Same options as ``db_worker``. On top: a heartbeat row (``apps.ops.workers``) so the reaper can tell a dead
worker's work from a slow one's, and a database that goes away (a restart, a failover) no longer ends the process:
it waits and reconnects with backoff (0.5 s doubling up to 30 s), and fails what it was running when the
connection broke, since nothing else would record its end.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from django.db.utils import DatabaseError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from apps.ops.workers import HeartbeatThread, heartbeat_forget, tasks_release_own

logger = logging.getLogger("apps.ops.worker")

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0


def _close_all() -> None:
    for conn in connections.all(initialized_only=True):
        with contextlib.suppress(DatabaseError):
            conn.close()


class HealingWorker(Worker):
    def run(self) -> None:
        heartbeat = HeartbeatThread(self.worker_id, settings.ADMINUI_WORKER_HEARTBEAT)
        heartbeat.start()
        delay = BACKOFF_FIRST
        try:
            while self.running:
                started = time.monotonic()
                try:
                    super().run()
                    return  # --batch or --max-tasks reached, or shut down
                except DatabaseError as exc:
                    if time.monotonic() - started > 60:
                        delay = BACKOFF_FIRST  # it had been working: start the backoff again
                    logger.warning(
                        "worker %s: database unavailable (%s); reconnecting in %.1f s",
                        self.worker_id,
                        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                        delay,
                    )
                    _close_all()
                    time.sleep(delay)  # backoff between reconnection attempts
                    delay = min(delay * 2, BACKOFF_MAX)
                    self._recover()
        finally:
            heartbeat.stop()
            with contextlib.suppress(DatabaseError):  # else the heartbeat just goes stale
                heartbeat_forget(worker_id=self.worker_id)

    def _recover(self) -> None:
        try:
            released = tasks_release_own(worker_id=self.worker_id)
        except DatabaseError:
            _close_all()
            return  # still away: the next round of the loop tries again
        if released:
            logger.warning(
                "worker %s: failed %d task(s) cut off by the database outage", self.worker_id, released
            )
        logger.info("worker %s: database back", self.worker_id)


class Command(DbWorkerCommand):
    help = (
        "Run a task worker that writes heartbeats and survives database restarts (use instead of db_worker)."
    )

    def handle(
        self, *, verbosity: int, queue_name: str, exclude_queues: str, reload: bool, **options
    ) -> None:
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = HealingWorker(
            queue_names=queue_names,
            excluded_queue_names=excluded,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
        )
        if reload and not options["batch"]:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the child process runs tasks
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
