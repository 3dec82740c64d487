"""Drills with real processes: a production-mode console's `manage.py worker` and `manage.py scheduler` on their
own database, a ToolJet simulator on 127.0.0.1. Every wait polls for a condition with a deadline."""

from __future__ import annotations

import os
import signal

import pytest
from django_tasks_db.models import DBTaskResult

from apps.directory.models import DirectorySync
from apps.ops.models import ScheduledJob
from apps.simulators import DEFAULT_TOKENS
from apps.transfers.models import Bundle, BundleItem

from .drill import ALIAS, open_drill, wait_for

SYNC_TASK = "apps.directory.tasks.sync_connection"


@pytest.fixture
def drill(tmp_path, django_db_blocker):
    with django_db_blocker.unblock():
        drill, cleanup = open_drill(tmp_path / "drill")
        try:
            yield drill
        finally:
            cleanup()


def _connect(drill, sim, slug: str = "tj") -> int:
    code = f"""
from apps.connections.services import connection_create, connection_test
c = connection_create(actor=None, token={DEFAULT_TOKENS["tooljet"]!r}, data={{
    "name": {slug!r}, "slug": {slug!r}, "kind": "tooljet", "base_url": {sim.url!r}, "environment": "staging",
    "timeout": 10.0, "requests_per_minute": 6000, "verify_tls": True, "notes": ""}})
connection_test(actor=None, connection=c)
print(c.pk)
"""
    return int(drill.shell(code).splitlines()[-1])


def _sync(connection_id: int) -> DirectorySync | None:
    return DirectorySync.objects.using(ALIAS).filter(connection_id=connection_id).first()


def test_a_fresh_production_start_runs_the_first_sync_and_two_schedulers_fire_it_once(drill, simulator):
    sim = simulator("tooljet", profile="latest", users=30)
    connection_id = _connect(drill, sim)
    first = drill.start("scheduler", "--ticks", "4", "--tick", "0.3")
    second = drill.start("scheduler", "--ticks", "4", "--tick", "0.3")
    first.wait(timeout=60), second.wait(timeout=60)
    assert first.returncode == 0 and second.returncode == 0, drill.logs()
    drill.worker()

    sync = wait_for(
        lambda: (s := _sync(connection_id)) is not None and s.status == "ok" and s, what="the first sync"
    )
    assert sync.count == 30
    rows = DBTaskResult.objects.using(ALIAS)
    assert rows.filter(task_path=SYNC_TASK).count() == 1  # two schedulers, one run
    assert rows.filter(task_path="apps.ops.jobs.transfers_cleanup_task").count() == 1
    assert ScheduledJob.objects.using(ALIAS).get(pk="directory_sync").last_ok is True


def _bundle(drill, sim, apps: int) -> str:
    workspace = next(w["id"] for w in sim.app.state.workspaces.values() if w["slug"] == "acme-production")
    code = f"""
from apps.connections.models import Connection
from apps.transfers import selectors
from apps.transfers.services.bundles import bundle_create
c = Connection.objects.get(slug="tj")
inventory = selectors.app_inventory(c, workspace_id={workspace!r})
group = next(g for g in inventory.workspaces if g.workspace.id == {workspace!r})
bundle = bundle_create(connection=c, actor=None, workspace_id={workspace!r}, workspace_name="acme",
                                apps=group.apps[:{apps}], reason="drill")
print(bundle.pk)
"""
    return drill.shell(code).splitlines()[-1]


def test_kill_9_of_a_worker_mid_bundle_is_reaped_and_the_retry_completes(drill, simulator):
    sim = simulator("tooljet", profile="latest", users=5)
    _connect(drill, sim)
    sim.faults.add(kind="latency", ms=1500, path="/api/ext/export", times=None)  # each app takes a while
    bundle_id = _bundle(drill, sim, apps=4)
    bundles = Bundle.objects.using(ALIAS)
    worker = drill.worker()
    wait_for(
        lambda: BundleItem.objects.using(ALIAS).filter(bundle_id=bundle_id, status="ok").exists(),
        what="the first app of the bundle",
    )
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    assert bundles.get(pk=bundle_id).status == "running"  # left behind: nothing would ever finish it

    drill.start("scheduler")  # its reaper notices the silent worker
    bundle = wait_for(
        lambda: (b := bundles.get(pk=bundle_id)).status == "failed" and b, timeout=60, what="the reaper"
    )
    assert "the worker stopped" in bundle.error
    assert DBTaskResult.objects.using(ALIAS).get(task_path__endswith="bundle_build_task").status == "FAILED"
    left = BundleItem.objects.using(ALIAS).filter(bundle_id=bundle_id, status="failed")
    assert left.exists() and not any(
        (drill.base / "exports" / bundle_id / i.file_name).exists() for i in left
    )

    sim.faults.clear()
    retried = drill.shell(
        "from apps.transfers.models import Bundle; from apps.transfers.services.bundles import bundle_retry_failed;"
        f"print(bundle_retry_failed(bundle=Bundle.objects.get(pk={bundle_id!r}), actor=None))"
    )
    assert retried.endswith("True")
    drill.worker()
    bundle = wait_for(
        lambda: (b := bundles.get(pk=bundle_id)).status == "done" and b, what="the retried bundle"
    )
    assert BundleItem.objects.using(ALIAS).filter(bundle_id=bundle_id, status="ok").count() == 4
    assert (drill.base / "exports" / f"{bundle_id}.zip").stat().st_size == bundle.size
