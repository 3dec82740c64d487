"""python manage.py scheduler: run the periodic jobs of ``apps.ops.jobs`` (one process is enough; more are safe).

Every ADMINUI_SCHEDULER_TICK seconds it runs the jobs that are due. Several schedulers (one per host, say) never
fire a run twice: each run is claimed with a compare-and-set on its due time. A database that goes away is waited
for with backoff; SIGTERM or Ctrl-C stops it between ticks.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections
from django.db.utils import DatabaseError

from apps.ops.schedule import jobs, scheduler_tick

logger = logging.getLogger("apps.ops.scheduler")


class Command(BaseCommand):
    help = "Run the console's periodic jobs (directory sync, audit checkpoint, cleanup, reaper, pruning)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--tick",
            type=float,
            default=None,
            help="seconds between looks for due jobs (ADMINUI_SCHEDULER_TICK)",
        )
        parser.add_argument("--ticks", type=int, default=None, help="stop after this many ticks (for checks)")

    def handle(self, *args, tick: float | None, ticks: int | None, **options):
        tick = tick if tick is not None else settings.ADMINUI_SCHEDULER_TICK
        stop = threading.Event()

        def _stop(signum, frame):
            logger.info("scheduler: %s, stopping", signal.strsignal(signum))
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        names = ", ".join(jobs())
        logger.info("scheduler started (tick %.1f s): %s", tick, names)
        self.stdout.write(f"scheduler: {names}")
        delay, done = 0.5, 0
        while not stop.is_set():
            try:
                close_old_connections()
                fired = scheduler_tick()
                delay = 0.5
                wait = tick
                if fired:
                    logger.info("scheduler ran: %s", ", ".join(fired))
            except DatabaseError as exc:
                logger.warning("scheduler: database unavailable (%s); retrying in %.1f s", exc, delay)
                for conn in connections.all(initialized_only=True):
                    with contextlib.suppress(DatabaseError):
                        conn.close()
                wait, delay = delay, min(delay * 2, 30.0)
            done += 1
            if ticks is not None and done >= ticks:
                break
            stop.wait(wait)
        self.stdout.write("scheduler stopped")
