from __future__ import annotations

import httpx


def test_it_logs_every_api_request_but_not_control_calls(simulator):
    sim = simulator("tooljet", users=3)
    headers = {"Authorization": "Basic tj-test-token"}
    httpx.get(f"{sim.url}/api/ext/workspaces", headers=headers)
    httpx.patch(f"{sim.url}/api/ext/user/nobody@example.com", headers=headers, json={})
    httpx.get(f"{sim.url}/__sim__/state")
    assert list(sim.requests) == [
        ("GET", "/api/ext/workspaces"),
        ("PATCH", "/api/ext/user/nobody@example.com"),
    ]
    assert sim.writes() == [("PATCH", "/api/ext/user/nobody@example.com")]
