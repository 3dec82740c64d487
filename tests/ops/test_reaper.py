from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.directory.models import DirectorySync
from apps.ops.models import WorkerHeartbeat
from apps.ops.workers import heartbeat_beat, tasks_reap, tasks_release_own
from apps.transfers.models import Bundle, BundleItem
from tests.ops.conftest import run_queued_tasks
from tests.transfers.conftest import app_id, workspace_id

BUNDLE_TASK = "apps.transfers.tasks.bundle_build_task"


def _worker(worker_id: str, *, seen_ago: int) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        pid=1,
        started_at=now - timedelta(hours=1),
        seen_at=now - timedelta(seconds=seen_ago),
    )


def _claim(task_path: str, worker_id: str) -> DBTaskResult:
    row = DBTaskResult.objects.get(task_path=task_path, status="READY")
    row.claim(worker_id)
    return row


def _bundle_half_built(admin_client, sim, connection, capture) -> Bundle:
    apps = [app_id(sim, "Archive Browser"), app_id(sim, "Sales Dashboard")]
    with capture(execute=True):
        response = admin_client.post(
            f"/connections/{connection.slug}/bundles/",
            {"workspace": workspace_id(sim), "apps": apps, "tjdb": "1", "reason": "backup"},
        )
    assert response.status_code == 302
    bundle = Bundle.objects.get()
    Bundle.objects.filter(pk=bundle.pk).update(status=Bundle.Status.RUNNING)
    item = bundle.items.order_by("pk").first()
    item.status = BundleItem.Status.RUNNING
    item.save()
    part = Path(settings.ADMINUI_EXPORTS_DIR) / item.part_name
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(b'{"half": ')
    return bundle


def test_a_bundle_left_by_a_dead_worker_fails_with_retry_and_the_retry_completes(
    admin_client, tooljet_connection, django_capture_on_commit_callbacks
):
    sim, connection = tooljet_connection("tj")
    bundle = _bundle_half_built(admin_client, sim, connection, django_capture_on_commit_callbacks)
    part = Path(settings.ADMINUI_EXPORTS_DIR) / bundle.items.order_by("pk").first().part_name
    _worker("dead-1", seen_ago=300)
    _claim(BUNDLE_TASK, "dead-1")

    reaped = tasks_reap()

    assert [r.task_path for r in reaped] == [BUNDLE_TASK]
    assert DBTaskResult.objects.get(task_path=BUNDLE_TASK).status == "FAILED"
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.FAILED
    assert not part.exists()  # the half-written export is gone
    page = admin_client.get(f"/connections/{connection.slug}/bundles/{bundle.pk}/").content.decode()
    assert "the worker stopped" in page and "Retry failed only" in page
    assert 'hx-trigger="every 1s"' not in page  # no more polling for ever

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/connections/{connection.slug}/bundles/{bundle.pk}/retry/")
    run_queued_tasks()
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.DONE
    assert bundle.items.filter(status=BundleItem.Status.OK).count() == 2


def test_work_under_a_live_worker_is_left_alone(
    admin_client, tooljet_connection, django_capture_on_commit_callbacks
):
    sim, connection = tooljet_connection("tj")
    bundle = _bundle_half_built(admin_client, sim, connection, django_capture_on_commit_callbacks)
    heartbeat_beat(worker_id="alive-1")
    _claim(BUNDLE_TASK, "alive-1")
    assert tasks_reap() == []
    bundle.refresh_from_db()
    assert bundle.status == Bundle.Status.RUNNING


def test_a_sync_left_by_a_dead_worker_stops_saying_running(tooljet_connection, admin_client):
    from apps.directory.services import sync_request

    _sim, connection = tooljet_connection("tj")
    sync_request(connection=connection)
    DirectorySync.objects.filter(connection=connection).update(started_at=timezone.now())
    _worker("dead-2", seen_ago=300)
    _claim("apps.directory.tasks.sync_connection", "dead-2")
    tasks_reap()
    sync = DirectorySync.objects.get(connection=connection)
    assert sync.status == "failed" and "worker stopped" in sync.message
    assert not sync.in_progress


def test_work_of_a_worker_without_heartbeats_gets_the_old_hour(tooljet_connection, settings):
    from apps.directory.services import sync_request

    _sim, connection = tooljet_connection("tj")
    sync_request(connection=connection)
    row = _claim("apps.directory.tasks.sync_connection", "plain-db-worker")
    assert tasks_reap() == []
    DBTaskResult.objects.filter(pk=row.pk).update(started_at=timezone.now() - timedelta(hours=2))
    assert len(tasks_reap()) == 1


def test_a_worker_that_lost_the_database_fails_its_own_running_task(tooljet_connection):
    from apps.directory.services import sync_request

    _sim, connection = tooljet_connection("tj")
    sync_request(connection=connection)
    heartbeat_beat(worker_id="me")
    _claim("apps.directory.tasks.sync_connection", "me")
    assert tasks_release_own(worker_id="someone-else") == 0
    assert tasks_release_own(worker_id="me") == 1
    assert DirectorySync.objects.get(connection=connection).status == "failed"
