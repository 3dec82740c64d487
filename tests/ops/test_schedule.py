from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.directory.models import DirectorySync
from apps.ops.models import ScheduledJob
from apps.ops.schedule import job_claim, jobs, scheduler_tick
from tests.ops.conftest import run_queued_tasks

SYNC_TASK = "apps.directory.tasks.sync_connection"


def test_it_declares_the_routine_jobs():
    assert {
        "directory_sync",
        "audit_checkpoint",
        "transfers_cleanup",
        "task_results_prune",
        "tasks_reap",
        "plans_expire",
    } <= set(jobs())


def test_it_fires_a_due_run_once_however_many_schedulers_ask(db):
    now = timezone.now()
    claims = [job_claim(name="directory_sync", now=now) for _ in range(3)]
    assert claims == [True, False, False]
    later = ScheduledJob.objects.get(pk="directory_sync").next_run_at
    assert later == now + timedelta(seconds=900)
    assert job_claim(name="directory_sync", now=later) is True  # due again after the interval


def test_a_fresh_start_queues_a_sync_per_connection_at_once(tooljet_connection):
    _sim, one = tooljet_connection("one")
    _sim, two = tooljet_connection("two")
    assert "directory_sync" in scheduler_tick()
    queued = sorted(r.args_kwargs["args"][0] for r in DBTaskResult.objects.filter(task_path=SYNC_TASK))
    assert queued == sorted([one.pk, two.pk])
    assert "directory_sync" not in scheduler_tick()  # not due again yet


def test_one_failing_connection_never_stops_the_schedule(tooljet_connection):
    broken_sim, broken = tooljet_connection("broken")
    _sim, healthy = tooljet_connection("healthy")
    broken_sim.faults.add(kind="status", status=503, path="/api/ext/users", times=None)
    scheduler_tick()
    run_queued_tasks()
    assert DirectorySync.objects.get(connection=broken).status == "failed"
    assert DirectorySync.objects.get(connection=healthy).status == "ok"
    job = ScheduledJob.objects.get(pk="directory_sync")
    assert job.last_ok is True
    # the next run comes, and queues both again
    assert "directory_sync" in scheduler_tick(now=job.next_run_at)
    assert DBTaskResult.objects.filter(task_path=SYNC_TASK, status="READY").count() == 2


def test_a_failing_job_is_recorded_and_the_others_still_run(db, monkeypatch):
    import apps.directory.tasks as directory_tasks

    def boom():
        raise RuntimeError("boom")

    monkeypatch.setattr(directory_tasks, "sync_queue_all", boom)
    fired = scheduler_tick()
    assert {"directory_sync", "transfers_cleanup", "tasks_reap"} <= set(fired)
    job = ScheduledJob.objects.get(pk="directory_sync")
    assert job.last_ok is False and "boom" in job.last_error
    assert ScheduledJob.objects.get(pk="transfers_cleanup").last_ok is True


def test_an_interval_of_zero_turns_the_sync_off(db, settings):
    settings.ADMINUI_DIRECTORY_SYNC_INTERVAL = 0
    assert "directory_sync" not in scheduler_tick()


def test_the_periodic_sync_runs_while_redis_is_away(tooljet_connection, settings):
    """The shared rate-limit cache down (Redis on a loopback port where nothing listens): every sync still runs,
    on each process's own limiter."""
    _sim, one = tooljet_connection("one", requests_per_minute=600)
    _sim, two = tooljet_connection("two", requests_per_minute=600)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    scheduler_tick()
    run_queued_tasks()
    assert DirectorySync.objects.get(connection=one).status == "ok"
    assert DirectorySync.objects.get(connection=two).status == "ok"
