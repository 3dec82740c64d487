from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.directory.models import DirectorySync, DirectoryUser
from apps.directory.services import directory_sync, index_upsert_user
from apps.providers.base import RemoteUser

from .conftest import PROFILES


@pytest.mark.parametrize(("kind", "profile"), PROFILES)
def test_it_syncs_every_profile(fleet_connection, kind, profile):
    sim, connection = fleet_connection(kind, profile, users=30)
    sync = directory_sync(connection=connection)
    # Retool's pending and expired invites are indexed too (the claimed one is an account by now)
    invites = 2 if kind == "retool" else 0
    if profile == "business":  # no users API: the invites are all the index holds
        assert sync.status == "ok", sync.message
        rows = DirectoryUser.objects.filter(connection=connection)
        assert sync.count == rows.count() == invites
        assert {r.status for r in rows} == {"invited"}
        return
    assert sync.status == "ok", sync.message
    assert (
        sync.count
        == len(sim.state.users) + invites
        == DirectoryUser.objects.filter(connection=connection).count()
    )
    priya = DirectoryUser.objects.get(connection=connection, email="priya.raman@example.com")
    assert priya.is_admin
    assert "|admin|" in priya.roles
    if kind == "tooljet":
        assert {m["workspace_name"] for m in priya.memberships} >= {"Acme Production"}
    else:
        assert any(g["name"] == "admin" for g in priya.groups)


def test_it_normalises_search_column(synced):
    _sim, connection = synced("tooljet", "latest")
    row = DirectoryUser.objects.filter(connection=connection, name__startswith="Zoë").first()
    assert row is not None
    assert "zoe" in row.search and "ë" not in row.search


def test_it_drops_users_gone_upstream_and_updates_changed_ones(synced):
    sim, connection = synced("tooljet", "latest")
    uid = sim.state.emails["jose.alvarez@example.com"]
    del sim.state.users[uid]
    del sim.state.emails["jose.alvarez@example.com"]
    sim.state.memberships.pop(uid, None)
    zoe = sim.state.users[sim.state.emails["zoe.obrien@example.com"]]
    zoe["firstName"] = "Zoey"
    directory_sync(connection=connection)
    assert not DirectoryUser.objects.filter(connection=connection, remote_id=uid).exists()
    assert DirectoryUser.objects.get(connection=connection, remote_id=zoe["id"]).name.startswith("Zoey")


def test_it_writes_only_the_rows_that_changed(synced):
    sim, connection = synced("tooljet", "latest")
    total = DirectoryUser.objects.filter(connection=connection).count()
    assert DirectorySync.objects.get(connection=connection).written == total
    before = dict(DirectoryUser.objects.filter(connection=connection).values_list("remote_id", "seen_at"))

    sync = directory_sync(connection=connection)
    assert (sync.status, sync.count, sync.written) == ("ok", total, 0)
    assert (
        dict(DirectoryUser.objects.filter(connection=connection).values_list("remote_id", "seen_at"))
        == before
    )

    zoe = sim.state.users[sim.state.emails["zoe.obrien@example.com"]]
    zoe["lastName"] = "O’Neill"
    uid = sim.state.emails.pop("jose.alvarez@example.com")
    del sim.state.users[uid]
    sim.state.memberships.pop(uid, None)
    sync = directory_sync(connection=connection)
    assert (sync.count, sync.written) == (total - 1, 2)  # one update, one delete
    row = DirectoryUser.objects.get(connection=connection, remote_id=zoe["id"])
    assert row.name.endswith("O’Neill") and "oneill" in row.search and row.seen_at > before[zoe["id"]]
    unchanged = DirectoryUser.objects.exclude(remote_id=zoe["id"]).filter(connection=connection)
    assert all(r.seen_at == before[r.remote_id] for r in unchanged)


def test_a_row_changed_in_the_index_alone_is_rewritten_by_the_next_sync(synced):
    _sim, connection = synced("tooljet", "latest")
    row = DirectoryUser.objects.get(connection=connection, email="priya.raman@example.com")
    index_upsert_user(
        connection=connection,
        user=RemoteUser(id=row.remote_id, email=row.email, name="Stale Name", role="builder"),
    )
    assert DirectoryUser.objects.get(pk=row.pk).digest != row.digest
    sync = directory_sync(connection=connection)
    assert sync.written == 1
    assert DirectoryUser.objects.get(pk=row.pk).name == row.name


def test_it_records_failure_with_message(fleet_connection):
    sim, connection = fleet_connection("tooljet", "latest")
    sim.faults.add(kind="status", status=503, path="/api/ext/users", times=None)
    sync = directory_sync(connection=connection)
    assert sync.status == "failed"
    assert "503" in sync.message or "internal" in sync.message.lower()


def test_it_upserts_one_person_into_the_index(fleet_connection):
    _sim, connection = fleet_connection("retool", "enterprise")
    user = RemoteUser(
        id="user_x", email="New.Person@Example.com", name="Nëw Person", is_admin=False, role="member"
    )
    row = index_upsert_user(connection=connection, user=user)
    assert row.email == "new.person@example.com"
    assert row.search == "new.person@example.com new person"
    assert row.roles == "|member|"
    assert DirectoryUser.objects.filter(connection=connection, remote_id="user_x").count() == 1


def test_command_syncs_one_connection(fleet_connection, capsys):
    _sim, connection = fleet_connection("tooljet", "lts-3.16")
    call_command("sync_directory", connection=connection.slug)
    assert DirectorySync.objects.get(connection=connection).status == "ok"
    assert "users" in capsys.readouterr().out


def test_the_periodic_sync_queues_one_task_per_connection_once(fleet_connection):
    from django_tasks_db.models import DBTaskResult

    from apps.directory.tasks import sync_all_connections

    _sim, connection = fleet_connection("tooljet", "latest")
    sync_all_connections.call()
    sync_all_connections.call()  # the first one is still queued: not twice
    rows = DBTaskResult.objects.filter(task_path="apps.directory.tasks.sync_connection", status="READY")
    assert [row.args_kwargs["args"] for row in rows] == [[connection.pk]]
    assert not DBTaskResult.objects.filter(task_path__endswith="sync_all_connections").exists()


def _sync_panel(client, connection, headers):
    return client.get(f"/connections/{connection.slug}/users/sync-status/", headers=headers)


def test_a_sync_whose_worker_never_starts_it_says_so(admin_client, synced, htmx_headers, settings):
    _sim, tj = synced("tooljet", "lts-3.16")
    admin_client.post(f"/connections/{tj.slug}/users/refresh/", headers=htmx_headers)
    response = _sync_panel(admin_client, tj, htmx_headers)
    assert "Sync running" in response.content.decode() and response.status_code == 200  # still polling
    settings.ADMINUI_WORKER_OVERDUE = 0  # as if 30 s went by without the worker taking it
    response = _sync_panel(admin_client, tj, htmx_headers)
    html = response.content.decode()
    assert "Still waiting after" in html and "manage.py worker" in html
    assert response.status_code == 200  # polls on: the panel picks up when the worker starts
    directory_sync(connection=tj)  # the worker starts after all
    response = _sync_panel(admin_client, tj, htmx_headers)
    assert "users indexed" in response.content.decode() and response.status_code == 286


def test_a_sync_left_running_by_a_dead_worker_can_be_started_again(
    admin_client, synced, htmx_headers, settings
):
    _sim, tj = synced("tooljet", "lts-3.16")
    two_hours_ago = timezone.now() - timedelta(hours=2)
    # the worker was killed mid-sync: nothing will ever set the final state
    DirectorySync.objects.filter(connection=tj).update(status="running", started_at=two_hours_ago)
    response = _sync_panel(admin_client, tj, htmx_headers)
    html = response.content.decode()
    assert response.status_code == 286  # no spinner polling for ever
    assert "Sync stopped" in html and "never finished" in html
    assert re.search(r"<button type=\"submit\"\s*>Refresh index</button>", html)
    search = admin_client.get("/?q=zoe", headers=htmx_headers).content.decode()
    assert f"{tj.name}: sync stopped" in search and "Indexing now" not in search
    # a sync that started recently is not stalled: the button waits for it
    settings.ADMINUI_DIRECTORY_SYNC_STALLED_AFTER = 3 * 3600
    html = _sync_panel(admin_client, tj, htmx_headers).content.decode()
    assert "Sync running" in html and re.search(r"<button type=\"submit\" disabled>", html)
