"""No upstream call holds a worker past its connection's timeout without progress (real HTTP, the drip fault)."""

from __future__ import annotations

import http.client
import time

import pytest

from apps.connections.clients import get_provider
from apps.providers.errors import ProviderTimeout
from apps.providers.netguard import Deadline, MinimumProgress
from tests.transfers.conftest import workspace_id


def test_the_drip_fault_sends_headers_at_once_then_a_byte_at_a_time(simulator):
    sim = simulator("tooljet", users=3)
    sim.faults.add(kind="drip", ms=200, path="/api/ext/workspaces")
    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=5)
    started = time.monotonic()
    conn.request("GET", "/api/ext/workspaces", headers={"Authorization": "Basic tj-test-token"})
    response = conn.getresponse()
    headers_after = time.monotonic() - started
    first, second = response.read(1), response.read(1)
    two_bytes_after = time.monotonic() - started
    conn.close()
    assert response.status == 200 and int(response.headers["Content-Length"]) > 10
    assert first + second == b"[{"
    assert headers_after < 0.5 <= two_bytes_after + 0.3  # one wait of 200 ms between the two bytes


def test_a_connection_test_against_a_dripping_server_ends_within_its_timeout(
    admin_client, simulator, make_connection
):
    sim = simulator("tooljet", users=3)
    sim.faults.add(kind="drip", ms=300, path="/api/ext/workspaces", times=None)
    connection = make_connection(sim, timeout=1.0)
    started = time.monotonic()
    response = admin_client.post(f"/connections/{connection.slug}/test/")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    connection.refresh_from_db()
    assert connection.last_test_ok is False
    assert "did not answer in time" in connection.last_test["message"]
    assert elapsed < 3.5, elapsed  # a call or two of ≤ 1 s each; the whole body would take over a minute


def test_a_streamed_export_that_stalls_is_cut_by_the_minimum_progress_rule(simulator, probed_connection):
    sim = simulator("tooljet", profile="latest")
    connection = probed_connection(sim, timeout=1.0)
    provider = get_provider(connection)
    app = next(iter(provider.iter_apps(workspace_id(sim))))
    sim.faults.add(kind="drip", ms=250, path="/api/ext/export/")
    started = time.monotonic()
    with (
        pytest.raises(ProviderTimeout),
        provider.export_app(app.id, workspace_id=workspace_id(sim)) as stream,
    ):
        for _ in stream:
            pass
    assert time.monotonic() - started < 3.0  # headers at once, then ≤ 1 s per window of too little progress


def test_a_streamed_export_at_a_normal_pace_is_untouched(simulator, probed_connection):
    sim = simulator("tooljet", profile="latest")
    connection = probed_connection(sim, timeout=1.0)
    provider = get_provider(connection)
    app = next(iter(provider.iter_apps(workspace_id(sim))))
    with provider.export_app(app.id, workspace_id=workspace_id(sim)) as stream:
        body = b"".join(stream)
    assert body.startswith(b"{") and len(body) > 1024


def test_minimum_progress_counts_only_time_spent_waiting():
    rule = MinimumProgress(window=1.0, min_bytes=100)
    rule.received(10, 0.6)
    assert rule.budget() == pytest.approx(0.4)
    rule.received(0, 0.0)  # the reader away for any time: no change
    assert rule.budget() == pytest.approx(0.4)
    rule.received(95, 0.1)  # enough in this window: a new one starts
    assert rule.budget() == pytest.approx(1.0)


def test_a_deadline_runs_on_the_clock_from_the_last_byte_sent():
    now = [100.0]
    deadline = Deadline(2.0, clock=lambda: now[0])
    now[0] = 101.5
    assert deadline.budget() == pytest.approx(0.5)
    now[0] = 130.0  # a large upload went on until now
    deadline.sent()
    assert deadline.budget() == pytest.approx(2.0)


def test_a_slow_upload_is_not_cut_by_the_deadline(simulator, probed_connection):
    """An import body streamed slower than the timeout still gets its answer: the deadline counts from the last
    byte written."""
    import json

    sim = simulator("tooljet", profile="latest")
    connection = probed_connection(sim, timeout=1.0)
    provider = get_provider(connection)
    body = json.dumps(
        {
            "tooljet_version": "3.20.40-ee",
            "app": [{"definition": {"appV2": {"name": "Slow", "appVersions": [{"id": "x", "name": "v1"}]}}}],
            "tooljet_database": [],
        }
    ).encode()

    def slowly():
        for i in range(0, len(body), len(body) // 3 + 1):
            time.sleep(0.5)  # the upload itself is slow (1.5 s in all, over the 1 s timeout)
            yield body[i : i + len(body) // 3 + 1]

    started = time.monotonic()
    result = provider.import_app(workspace_id(sim), slowly(), app_name="Slow")
    assert time.monotonic() - started > 1.0
    assert result is not None


def test_the_pooled_client_reads_through_the_guarded_backend(simulator, probed_connection):
    from apps.providers.netguard import GuardedBackend

    sim = simulator("tooljet", users=3)
    provider = get_provider(probed_connection(sim))
    assert isinstance(provider.session.client._transport._pool._network_backend, GuardedBackend)
