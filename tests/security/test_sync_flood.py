"""A refresh of a connection's index is a full pull of its users: at most one waits to start and one runs per
connection, and only those who may change people can ask for one."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from apps.directory.services import SYNC_TASK, directory_sync
from tests.directory.conftest import fleet_connection, synced

__all__ = ["fleet_connection", "synced"]


def _queued(connection) -> int:
    return DBTaskResult.objects.filter(
        task_path=SYNC_TASK, status="READY", args_kwargs__args__0=connection.pk
    ).count()


def _user_list_pulls(sim) -> int:
    return sum(
        1 for method, path, *_ in sim.requests if method == "GET" and path.rstrip("/").endswith("/users")
    )


def test_it_collapses_30_refreshes_into_one_queued_sync(helpdesk_client, synced, htmx_headers):
    sim, tj = synced("tooljet", "latest")
    url = f"/connections/{tj.slug}/users/refresh/"
    answers = [helpdesk_client.post(url, headers=htmx_headers) for _ in range(30)]
    assert all(a.status_code == 200 for a in answers)
    assert _queued(tj) == 1
    assert "this refresh joins it" not in answers[0].content.decode()
    assert all("this refresh joins it" in a.content.decode() for a in answers[1:])
    # what the worker then does: one pull for the 30 requests
    before = _user_list_pulls(sim)
    for row in DBTaskResult.objects.filter(task_path=SYNC_TASK, status="READY"):
        directory_sync(connection=tj)
        DBTaskResult.objects.filter(pk=row.pk).update(status="SUCCESSFUL")
    assert _user_list_pulls(sim) - before == 1
    # once it has run, a new refresh queues a new one
    helpdesk_client.post(url, headers=htmx_headers)
    assert _queued(tj) == 1


def test_a_running_sync_leaves_room_for_one_queued(helpdesk_client, synced, htmx_headers):
    _sim, tj = synced("tooljet", "latest")
    url = f"/connections/{tj.slug}/users/refresh/"
    helpdesk_client.post(url, headers=htmx_headers)
    DBTaskResult.objects.filter(task_path=SYNC_TASK).update(status="RUNNING")  # the worker took it
    for _ in range(5):
        helpdesk_client.post(url, headers=htmx_headers)
    assert _queued(tj) == 1
    assert DBTaskResult.objects.filter(task_path=SYNC_TASK).count() == 2


def test_a_viewer_cannot_queue_a_sync(viewer_client, synced, htmx_headers):
    _sim, tj = synced("tooljet", "latest")
    for _ in range(30):
        assert (
            viewer_client.post(f"/connections/{tj.slug}/users/refresh/", headers=htmx_headers).status_code
            == 403
        )
    assert _queued(tj) == 0
    page = viewer_client.get(f"/connections/{tj.slug}/users/").content.decode()
    assert "Refresh index" not in page
