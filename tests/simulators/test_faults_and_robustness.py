"""Fault injection, the /__sim__ control surface, bad input and scale."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from apps.simulators import start_simulator
from apps.simulators.faults import parse_fault_spec


def test_it_injects_status_with_vendor_body_and_retry_after(tj, rt):
    tj.sim.faults.add(kind="status", status=429, path="/api/ext/users", retry_after=3)
    response = tj.get("/users")
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert response.json()["statusCode"] == 429
    assert tj.get("/users").status_code == 200
    rt.sim.faults.add(kind="status", status=503, path="/api/v2/users")
    assert rt.get("/users").json() == {"success": False, "message": "Service Temporarily Unavailable"}


@pytest.mark.parametrize("status", [500, 502, 504])
def test_it_injects_server_errors(tj, status):
    tj.sim.faults.add(kind="status", status=status, path="/api/ext/workspaces")
    response = tj.get("/workspaces")
    assert response.status_code == status and "statusCode" in response.json()


def test_it_injects_html_pages(tj):
    tj.sim.faults.add(kind="html", path="/api/ext/workspaces")
    tj.sim.faults.add(kind="html", status=200, path="/api/ext/workspaces")
    first, second = tj.get("/workspaces"), tj.get("/workspaces")
    assert (
        first.status_code == 502 and "<html>" in first.text and "text/html" in first.headers["content-type"]
    )
    assert second.status_code == 200 and "<html>" in second.text


def test_it_truncates_json(tj):
    tj.sim.faults.add(kind="truncated", path="/api/ext/users")
    response = tj.get("/users")
    assert response.status_code == 200 and response.text.startswith("[{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_it_drops_connections(tj):
    tj.sim.faults.add(kind="drop", path="/api/ext/users")
    with pytest.raises(httpx.TransportError):
        httpx.get(tj.sim.url + "/api/ext/users")
    assert tj.get("/users").status_code == 200


def test_it_adds_latency_and_matches_method_and_times(tj):
    tj.sim.faults.add(kind="latency", ms=150, path="/api/ext/workspaces", method="GET", times=None)
    start = time.perf_counter()
    assert tj.get("/workspaces").status_code == 200
    assert time.perf_counter() - start >= 0.15
    tj.sim.faults.clear()
    assert len(tj.sim.faults) == 0


def test_it_exposes_control_surface(tj):
    url = tj.sim.url + "/__sim__"
    assert (
        httpx.post(url + "/faults", json={"kind": "status", "status": 503, "path": "/api/ext"}).status_code
        == 201
    )
    assert tj.get("/workspaces").status_code == 503
    httpx.post(url + "/faults", json={"kind": "status", "status": 503, "times": None})
    assert httpx.delete(url + "/faults").status_code == 204
    assert tj.get("/workspaces").status_code == 200
    assert httpx.post(url + "/faults", json={"kind": "nope"}).status_code == 400
    state = httpx.get(url + "/state").json()
    assert state["kind"] == "tooljet" and state["users"] == len(tj.state.users)


def test_it_parses_cli_fault_specs():
    assert parse_fault_spec("status:503:/api/ext/users") == {
        "kind": "status",
        "status": 503,
        "path": "/api/ext/users",
        "times": None,
    }
    assert parse_fault_spec("latency:200") == {"kind": "latency", "ms": 200, "times": None}


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/users", b"{not json"),
        ("POST", "/users", b"[1,2]"),
        ("PATCH", "/user/priya.raman@example.com", b"7"),
        ("PUT", "/user/priya.raman@example.com/workspaces", b'{"id": 1}'),
        ("POST", "/users", b'{"name": 5, "email": [], "workspaces": [{"id": 3, "role": "boss"}]}'),
    ],
)
def test_it_answers_tooljet_bad_input_with_400(tj, method, path, content):
    response = tj.http.request(
        method, "/api/ext" + path, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["statusCode"] == 400


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/users", b"{not json"),
        ("POST", "/groups", b'{"name": 3}'),
        ("PUT", "/groups/1", b"[]"),
        ("POST", "/groups/1/members", b'{"members": [{"id": "user_00"}]}'),
        ("GET", "/users/123", b""),
        ("GET", "/users?limit=abc", b""),
        ("GET", "/users?limit=2&next_token=%%%", b""),
    ],
)
def test_it_answers_retool_bad_input_with_400(rt, method, path, content):
    response = rt.request(method, path, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["success"] is False


def test_it_never_serves_a_stack_trace(tj, rt, monkeypatch):
    monkeypatch.setattr(type(tj.sim.app), "on_workspaces_list", lambda self, request: 1 / 0)
    response = tj.get("/workspaces")
    assert (
        response.status_code == 500
        and "Traceback" not in response.text
        and response.json()["statusCode"] == 500
    )
    monkeypatch.setattr(type(rt.sim.app), "on_apps_list", lambda self, request: 1 / 0)
    assert rt.get("/apps").json() == {"success": False, "message": "Internal server error"}


def test_it_answers_unknown_routes_like_the_vendor(tj, rt):
    response = tj.http.delete("/api/ext/users")
    assert response.status_code == 404 and response.json()["message"] == "Cannot DELETE /api/ext/users"
    unknown = rt.get("/resources")  # out of scope (retool.md preamble), so never simulated
    assert unknown.status_code == 404 and unknown.json()["success"] is False


def test_it_is_deterministic_per_seed():
    with start_simulator("tooljet", users=30, seed=5) as a, start_simulator("tooljet", users=30, seed=5) as b:
        ids = [list(s.app.state.users) for s in (a, b)]
        assert ids[0] == ids[1]
        names = {u["firstName"] + " " + u["lastName"] for u in a.app.state.users.values()}
        assert {"Priya Raman", "Zoë O'Brien", "José Álvarez"} <= names


def test_it_streams_a_padded_export(simulator):
    sim = simulator("tooljet", users=5, export_pad_bytes=3 * 1024 * 1024)
    state = sim.app.state
    app = state.apps[state.padded_app_id]
    headers = {"Authorization": "Basic tj-test-token"}
    url = f"{sim.url}/api/ext/export/workspace/{app['organizationId']}/apps/{app['id']}"
    with httpx.stream("POST", url, headers=headers) as response:
        assert response.status_code == 201
        body = response.read()
    assert len(body) > 3 * 1024 * 1024
    assert int(response.headers["content-length"]) == len(body)  # streamed, yet framed like NestJS's JSON
    assert json.loads(body)["app"][0]["definition"]["appV2"]["name"] == "Archive Browser"


def test_it_scales_to_100k_users_and_streams_the_list():
    with start_simulator("tooljet", users=100_000, seed=2) as sim:
        assert len(sim.app.state.users) >= 100_000
        headers = {"Authorization": "Basic tj-test-token"}
        with httpx.stream("GET", sim.url + "/api/ext/users", headers=headers, timeout=60) as response:
            assert response.headers.get("transfer-encoding") == "chunked"
            first = next(response.iter_bytes())
            assert first.startswith(b"[")
            assert len(first) < 1024 * 1024  # the array is streamed in pieces, not built as one body
