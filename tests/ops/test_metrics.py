from __future__ import annotations

import re

from django.test import Client

from apps.directory.services import directory_sync
from apps.ops.schedule import scheduler_tick


def _value(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + want + '}') if want else ''} (\S+)$"
    match = re.search(pattern, text, re.M)
    assert match, f"{name} {labels} not in the scrape"
    return float(match.group(1))


def test_it_wants_the_token_or_an_allowed_network(db, settings):
    settings.ADMINUI_METRICS_TOKEN = "s3cret-metrics"
    client = Client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    settings.ADMINUI_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 401  # neither set: no one
    settings.ADMINUI_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "127.0.0.0/8"]
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    settings.ADMINUI_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics").status_code == 401


def test_it_reports_syncs_queue_and_upstream_calls(tooljet_connection, settings, exports_dir):
    settings.ADMINUI_METRICS_TOKEN = "t"
    sim, good = tooljet_connection("good")
    broken_sim, broken = tooljet_connection("broken")
    broken_sim.faults.add(kind="status", status=503, path="/api/ext/users", times=None)
    directory_sync(connection=good)
    directory_sync(connection=broken)
    scheduler_tick()  # queues a sync per connection
    exports_dir.mkdir(parents=True, exist_ok=True)
    (exports_dir / "x.zip").write_bytes(b"z" * 1234)

    text = Client().get("/metrics", headers={"Authorization": "Bearer t"}).content.decode()

    assert _value(text, "adminui_directory_last_sync_ok", connection="good", connection_id=str(good.pk)) == 1
    assert (
        _value(text, "adminui_directory_last_sync_ok", connection="broken", connection_id=str(broken.pk)) == 0
    )
    assert (
        _value(text, "adminui_directory_index_age_seconds", connection="good", connection_id=str(good.pk))
        >= 0
    )
    from django_tasks_db.models import DBTaskResult

    assert _value(text, "adminui_tasks_queued", queue="default") == DBTaskResult.objects.ready().count() >= 2
    assert _value(text, "adminui_tasks_oldest_queued_seconds") >= 0
    assert _value(text, "adminui_tasks_stuck") == 0
    assert _value(text, "adminui_workers_alive") == 0
    assert _value(text, "adminui_exports_bytes") == 1234
    assert _value(text, "adminui_job_last_ok", job="directory_sync") == 1
    assert _value(text, "adminui_upstream_requests_total", connection_id=str(good.pk), status="200") >= 1
    assert _value(text, "adminui_upstream_requests_total", connection_id=str(broken.pk), status="503") >= 1
    assert _value(text, "adminui_upstream_request_duration_seconds_count", connection_id=str(good.pk)) >= 1
    assert "s3cret" not in text and sim.url not in text  # nothing but ids and slugs


def test_it_adds_up_several_processes_in_multiprocess_mode(
    tooljet_connection, settings, tmp_path, monkeypatch
):
    """Two processes (this one and a `sync_directory` subprocess) count into one directory; one scrape sees both."""
    import os
    import subprocess
    import sys

    settings.ADMINUI_METRICS_TOKEN = "t"
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    script = (
        "import os; os.environ['PROMETHEUS_MULTIPROC_DIR']=os.environ['D'];"
        "from apps.ops.metrics import _observe;"
        "[_observe('connection:77', 'GET', 200, 0.01) for _ in range(3)]"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], env={**os.environ, "D": str(metrics_dir)}, check=True)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    text = Client().get("/metrics", headers={"Authorization": "Bearer t"}).content.decode()
    assert _value(text, "adminui_upstream_requests_total", connection_id="77", status="200") == 6


def test_full_readiness_wants_a_live_worker(db):
    from apps.ops.workers import heartbeat_beat

    client = Client()
    assert client.get("/readyz").status_code == 200  # the cheap check: the database only
    response = client.get("/readyz?full=1")
    assert response.status_code == 503 and b"no task worker heartbeat" in response.content
    heartbeat_beat(worker_id="w1")
    assert client.get("/readyz?full=1").content == b"ok"


def test_full_readiness_reports_a_cache_that_is_away(db, settings):
    from apps.ops.workers import heartbeat_beat

    heartbeat_beat(worker_id="w1")
    # a Redis cache on a loopback port where nothing listens (Django swaps the cache handlers on this change)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = Client().get("/readyz?full=1")
    assert response.status_code == 503 and b"cache unavailable" in response.content
