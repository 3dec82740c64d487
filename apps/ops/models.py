"""Rows the operations layer keeps: one heartbeat per running worker, one row per scheduled job."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """A `manage.py worker` process; ``seen_at`` moves every ADMINUI_WORKER_HEARTBEAT seconds while it lives."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class ScheduledJob(models.Model):
    """When a job declared in ``apps.ops.jobs`` is next due. Schedulers claim a run by moving ``next_run_at``
    forward with a compare-and-set update, so several schedulers never fire the same run twice."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_ok = models.BooleanField(null=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name
