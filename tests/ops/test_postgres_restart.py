"""Drill: PostgreSQL restarts under a running `manage.py worker`; the worker waits, reconnects and keeps working.
The drill has a cluster of its own (initdb on a loopback port) so the restart touches nothing else."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from apps.directory.models import DirectorySync
from apps.ops.models import ScheduledJob

from .drill import ALIAS, open_drill, wait_for
from .test_drills import _connect

pytestmark = pytest.mark.postgres


class Cluster:
    def __init__(self) -> None:
        initdb = shutil.which("initdb") or "/usr/lib/postgresql/15/bin/initdb"
        self.bin = Path(initdb).parent
        self.dir = Path(tempfile.mkdtemp(prefix="adminui-pgdrill."))
        self.run_as: list[str] = []
        if os.getuid() == 0:  # initdb refuses root: the cluster belongs to CI's unprivileged user
            subprocess.run(["id", "adminui-ci"], check=True, capture_output=True)
            shutil.chown(self.dir, "adminui-ci")
            self.run_as = ["runuser", "-u", "adminui-ci", "--"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._pg("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        data = str(self.dir / "data")
        self._pg("pg_ctl", "-D", data, "-l", str(self.dir / "log"), "-w", "-o", options, "start")

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    @property
    def server(self) -> dict:
        return {"HOST": "127.0.0.1", "PORT": self.port, "USER": "postgres", "PASSWORD": ""}


@pytest.fixture
def cluster():
    cluster = Cluster()
    cluster.start()
    yield cluster
    try:
        cluster.stop()
    finally:
        shutil.rmtree(cluster.dir, ignore_errors=True)


@pytest.fixture
def drill(tmp_path, cluster, django_db_blocker):
    with django_db_blocker.unblock():
        drill, cleanup = open_drill(tmp_path / "drill", postgres=cluster.server)
        try:
            yield drill
        finally:
            cleanup()


def _request_sync(drill, connection_id: int) -> None:
    drill.shell(
        "from apps.connections.models import Connection; from apps.directory.services import sync_request;"
        f"sync_request(connection=Connection.objects.get(pk={connection_id}))"
    )


def test_a_worker_and_the_scheduler_survive_a_postgresql_restart(drill, cluster, simulator):
    from django.db import connections

    sim = simulator("tooljet", profile="latest", users=10)
    connection_id = _connect(drill, sim)
    worker = drill.worker()
    scheduler = drill.start("scheduler")
    _request_sync(drill, connection_id)
    first = wait_for(
        lambda: (
            (s := DirectorySync.objects.using(ALIAS).get(connection_id=connection_id)).status == "ok" and s
        ),
        what="the sync before the restart",
    )

    connections[ALIAS].close()
    cluster.stop()
    for proc in (worker, scheduler):
        wait_for(lambda p=proc: "database unavailable" in Path(p.log_path).read_text(), what="both to notice")
    cluster.start()

    _request_sync(drill, connection_id)
    second = wait_for(
        lambda: (
            (s := DirectorySync.objects.using(ALIAS).get(connection_id=connection_id)).status == "ok"
            and s.synced_at > first.synced_at
            and s
        ),
        what="a sync after the restart",
    )
    assert second.count == 10
    assert worker.poll() is None and scheduler.poll() is None, drill.logs()  # still the same processes
    reaped_before = ScheduledJob.objects.using(ALIAS).get(pk="tasks_reap").last_started_at
    wait_for(
        lambda: ScheduledJob.objects.using(ALIAS).get(pk="tasks_reap").last_started_at > reaped_before,
        what="the scheduler's next run after the restart",
    )
