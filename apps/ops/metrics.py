"""Prometheus metrics (prometheus-client).

Gauges are computed from the database when /metrics is scraped, so every gunicorn process and host answers the
same. The only counters — upstream calls by connection and status, with their latency — are counted where the
calls happen (web processes and task workers) through the providers' observer seam. With
``PROMETHEUS_MULTIPROC_DIR`` set (the deploy units share one directory between the web and worker services of a
host) prometheus-client's multiprocess mode adds up every process's counts; without it a scrape sees the counts
of the process that answers. Counting in the database instead would add a write to every upstream call.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

UPSTREAM_REQUESTS = Counter(
    "adminui_upstream_requests",
    "Calls to ToolJet and Retool instances by connection id and HTTP status (0: no answer).",
    ["connection_id", "status"],
)
UPSTREAM_SECONDS = Histogram(
    "adminui_upstream_request_duration_seconds",
    "Latency of calls to ToolJet and Retool instances by connection id.",
    ["connection_id"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25),
)


def _observe(key: str, method: str, status: int, seconds: float) -> None:
    connection_id = key.removeprefix("connection:")
    UPSTREAM_REQUESTS.labels(connection_id=connection_id, status=str(status)).inc()
    UPSTREAM_SECONDS.labels(connection_id=connection_id).observe(seconds)


def install_upstream_observer() -> None:
    from apps.providers.http import add_observer

    add_observer(_observe)


def _dir_bytes(path: Path) -> int:
    total = 0
    stack = [path]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


class DatabaseCollector:
    """Everything that can be read from the database at scrape time."""

    def collect(self) -> Iterator[Metric]:
        yield from self._directory()
        yield from self._tasks()
        yield from self._schedule()
        yield self._exports()

    def _exports(self) -> Metric:
        """A local folder is measured on disk (whatever is in it); shared storage by the rows that account for
        its files (listing a bucket at every scrape would cost a request per thousand objects)."""
        from apps.transfers import storage

        exports = GaugeMetricFamily(
            "adminui_exports_bytes",
            "Bytes the transfers storage holds: ADMINUI_EXPORTS_DIR on disk, or what the rows account for on "
            "shared storage.",
        )
        local = storage.is_local()
        exports.add_metric(
            [], _dir_bytes(Path(settings.ADMINUI_EXPORTS_DIR)) if local else storage.bytes_kept()
        )
        return exports

    def _directory(self) -> Iterator[Metric]:
        from apps.directory.models import DirectorySync

        now = timezone.now()
        labels = ["connection", "connection_id"]
        age = GaugeMetricFamily(
            "adminui_directory_index_age_seconds", "Seconds since the last successful sync.", labels=labels
        )
        ok = GaugeMetricFamily(
            "adminui_directory_last_sync_ok",
            "1 when the last sync succeeded, 0 when it failed (no sample while one runs).",
            labels=labels,
        )
        running = GaugeMetricFamily("adminui_directory_sync_running", "1 while a sync runs.", labels=labels)
        duration = GaugeMetricFamily(
            "adminui_directory_sync_duration_seconds",
            "How long the last successful sync took.",
            labels=labels,
        )
        for sync in DirectorySync.objects.select_related("connection"):
            values = [sync.connection.slug, str(sync.connection_id)]
            if sync.synced_at:
                age.add_metric(values, (now - sync.synced_at).total_seconds())
            running.add_metric(values, 1 if sync.in_progress else 0)
            if sync.status == DirectorySync.Status.OK:
                ok.add_metric(values, 1)
                if sync.started_at and sync.synced_at and sync.synced_at >= sync.started_at:
                    duration.add_metric(values, (sync.synced_at - sync.started_at).total_seconds())
            elif sync.status == DirectorySync.Status.FAILED or sync.stalled:
                ok.add_metric(values, 0)
        yield from (age, ok, running, duration)

    def _tasks(self) -> Iterator[Metric]:
        from django_tasks_db.models import DBTaskResult

        from apps.ops.workers import fresh_worker_ids, stuck_tasks

        now = timezone.now()
        ready = DBTaskResult.objects.ready()
        queued = GaugeMetricFamily("adminui_tasks_queued", "Tasks ready to run, by queue.", labels=["queue"])
        for row in ready.values("queue_name").annotate(n=Count("pk")):
            queued.add_metric([row["queue_name"]], row["n"])
        oldest = GaugeMetricFamily(
            "adminui_tasks_oldest_queued_seconds", "Age of the oldest task waiting for a worker (0: none)."
        )
        first = ready.aggregate(first=Min("enqueued_at"))["first"]
        oldest.add_metric([], (now - first).total_seconds() if first else 0)
        running = GaugeMetricFamily("adminui_tasks_running", "Tasks running now.")
        running.add_metric([], DBTaskResult.objects.filter(status="RUNNING").count())
        stuck = GaugeMetricFamily(
            "adminui_tasks_stuck", "Tasks still running under a worker that stopped (the reaper fails them)."
        )
        stuck.add_metric([], len(stuck_tasks(now=now)))
        workers = GaugeMetricFamily("adminui_workers_alive", "Task workers with a fresh heartbeat.")
        workers.add_metric([], len(fresh_worker_ids(now=now)))
        yield from (queued, oldest, running, stuck, workers)

    def _schedule(self) -> Iterator[Metric]:
        from apps.ops.models import ScheduledJob

        now = timezone.now()
        last = GaugeMetricFamily(
            "adminui_job_last_run_timestamp_seconds", "When a periodic job last started.", labels=["job"]
        )
        ok = GaugeMetricFamily("adminui_job_last_ok", "1 when a job's last run succeeded.", labels=["job"])
        overdue = GaugeMetricFamily(
            "adminui_job_overdue_seconds",
            "Seconds a periodic job is past due (the scheduler is down).",
            labels=["job"],
        )
        for job in ScheduledJob.objects.all():
            if job.last_started_at:
                last.add_metric([job.name], job.last_started_at.timestamp())
            if job.last_ok is not None:
                ok.add_metric([job.name], 1 if job.last_ok else 0)
            overdue.add_metric([job.name], max(0.0, (now - job.next_run_at).total_seconds()))
        yield from (last, ok, overdue)


def metrics_render() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(UPSTREAM_REQUESTS)
        registry.register(UPSTREAM_SECONDS)
    registry.register(DatabaseCollector())
    return generate_latest(registry)
