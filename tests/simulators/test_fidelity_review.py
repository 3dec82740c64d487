"""Fidelity review (issue 3 hardening): gaps between the simulators and the contracts, one test per gap."""

from __future__ import annotations

import httpx

from .conftest import RT_TOKEN


def test_it_serves_an_openapi_stub_at_api_v2_spec_without_auth(rt):
    response = httpx.get(rt.sim.url + "/api/v2/spec")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.") and spec["info"]["version"]
    paths = spec["paths"]
    assert set(paths["/users/{uid}"]) == {"get", "patch", "delete"}
    assert "204" in paths["/users/{uid}"]["delete"]["responses"]
    assert "200" in paths["/users"]["post"]["responses"]  # creates answer 200, not 201
    assert {p["name"] for p in paths["/users"]["get"]["parameters"]} >= {"limit", "next_token"}
    assert paths["/users"]["get"]["security"] == [{"bearerAuth": ["users:read"]}]
    assert "/apps/cloneApp" in paths and not any("export" in p for p in paths)


def test_it_counts_spec_and_health_in_the_request_log_but_needs_no_token(rt):
    assert httpx.get(rt.sim.url + "/api/v2/spec").status_code == 200
    assert httpx.get(rt.sim.url + "/api/checkHealth").status_code == 200
    assert ("GET", "/api/v2/spec") in rt.sim.requests


def test_it_names_the_missing_scope_on_every_business_plan_write(simulator):
    business = simulator("retool", profile="business", users=3)
    c = httpx.Client(base_url=business.url + "/api/v2", headers={"Authorization": f"Bearer {RT_TOKEN}"})
    for method, path, scope in (
        ("POST", "/users", "users:write"),
        ("POST", "/groups", "groups:write"),
        ("PUT", "/groups/1", "groups:write"),
        ("GET", "/spaces", "spaces:read"),
    ):
        response = c.request(method, path, json={})
        assert response.status_code == 403
        assert response.json() == {
            "success": False,
            "message": f'API token is missing one of "{scope}" or one of "mcp:admin"',
        }
    assert business.writes() == [
        ("POST", "/api/v2/users"),
        ("POST", "/api/v2/groups"),
        ("PUT", "/api/v2/groups/1"),
    ]
