"""Fixtures for the operations tests: simulator-backed connections, exports in tmp_path."""

from __future__ import annotations

import pytest
from django.conf import settings

from apps.simulators import DEFAULT_TOKENS


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.ADMINUI_EXPORTS_DIR = tmp_path / "exports"
    settings.ADMINUI_REQUIRE_REASON = False
    return settings.ADMINUI_EXPORTS_DIR


def run_queued_tasks() -> int:
    """Run every queued task here, as the worker does (its loop would close the test's transaction)."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["*"],
        excluded_queue_names=[],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
    )
    ran = 0
    while (row := DBTaskResult.objects.ready().first()) is not None:
        row.claim(worker.worker_id)
        worker.run_task(row)
        ran += 1
    return ran


@pytest.fixture
def tooljet_connection(simulator, probed_connection):
    """`tooljet_connection(slug)` → (simulator, probed Connection) on its own ToolJet simulator."""

    def make(slug: str, **kw):
        sim = simulator("tooljet", profile="latest", users=20)
        return sim, probed_connection(sim, token=DEFAULT_TOKENS["tooljet"], slug=slug, name=slug, **kw)

    return make


# The database-restart drill starts (and restarts) its own PostgreSQL cluster; like tests/postgres it runs when the
# suite runs on PostgreSQL (CI's second pass), where the server binaries are known to be there.
IS_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
collect_ignore_glob = [] if IS_POSTGRES else ["test_postgres_*.py"]
