"""Fidelity review: gaps between the simulators and the contracts, one test per gap."""

from __future__ import annotations

import json
import re
import socket
import uuid

import httpx
import pytest

from apps.providers.base import CAPABILITY_FLAGS, ConnectionConfig
from apps.providers.tooljet import ToolJetProvider

from .conftest import RT_TOKEN, TJ_TOKEN


def test_it_serves_an_openapi_stub_at_api_v2_spec_without_auth(rt):
    response = httpx.get(rt.sim.url + "/api/v2/spec")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.") and spec["info"]["version"]
    paths = spec["paths"]
    assert set(paths["/users/{userId}"]) == {"get", "patch", "delete"}
    assert "204" in paths["/users/{userId}"]["delete"]["responses"]
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


# -- second review: each test below fails on the simulator as it was before the fix ------------------------------

# path and query parameter names per operation, as in Retool's OpenAPI 3.373.0 (seed 003)
SEED_003_PARAMETERS = {
    ("/users", "get"): {"email", "first_name", "last_name", "limit", "next_token"},
    ("/users", "post"): set(),
    ("/users/{userId}", "get"): {"userId", "includeGroups"},
    ("/users/{userId}", "patch"): {"userId"},
    ("/users/{userId}", "delete"): {"userId"},
    ("/users/{userId}/user_attributes", "post"): {"userId"},
    ("/users/{userId}/user_attributes/{attributeName}", "delete"): {"userId", "attributeName"},
    ("/user_attributes", "get"): set(),
    ("/user_attributes", "post"): set(),
    ("/user_attributes/{id}", "patch"): {"id"},
    ("/user_attributes/{id}", "delete"): {"id", "update_existing_users"},
    ("/groups", "get"): set(),
    ("/groups", "post"): set(),
    ("/groups/{groupId}", "get"): {"groupId", "excludeDisabledUsers"},
    ("/groups/{groupId}", "put"): {"groupId"},
    ("/groups/{groupId}", "delete"): {"groupId"},
    ("/groups/{groupId}/members", "post"): {"groupId"},
    ("/groups/{groupId}/members/{userId}", "delete"): {"groupId", "userId"},
    ("/apps", "get"): {"using_resource", "name_contains", "limit", "next_token"},
    ("/apps/{appId}", "get"): {"appId"},
    ("/apps/cloneApp", "post"): set(),
    ("/spaces", "get"): set(),
    ("/folders", "get"): set(),
    ("/folders", "post"): set(),
    ("/folders/{folderId}", "get"): {"folderId"},
    ("/folders/{folderId}", "patch"): {"folderId"},
    ("/folders/{folderId}", "delete"): {"folderId", "recursive"},
    ("/permissions/grant", "post"): set(),
    ("/permissions/revoke", "post"): set(),
    ("/permissions/listObjects", "post"): set(),
    ("/permissions/accessList/{objectType}/{objectId}", "get"): {"objectType", "objectId"},
    ("/user_invites", "get"): set(),
    ("/user_invites", "post"): set(),
    ("/user_invites/{userInviteId}", "get"): {"userInviteId"},
    ("/user_invites/{userInviteId}", "delete"): {"userInviteId"},
    ("/user_invites/{userInviteId}/user_attributes", "post"): {"userInviteId"},
    ("/user_invites/{userInviteId}/user_attributes/{attributeName}", "delete"): {
        "userInviteId",
        "attributeName",
    },
}


def test_it_names_spec_parameters_like_the_real_spec(rt):
    paths = httpx.get(rt.sim.url + "/api/v2/spec").json()["paths"]
    served = {
        (path, method): {p["name"] for p in op["parameters"]}
        for path, ops in paths.items()
        for method, op in ops.items()
    }
    assert served == SEED_003_PARAMETERS
    for path, ops in paths.items():
        for op in ops.values():
            in_path = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert in_path == set(re.findall(r"{(\w+)}", path))


def _attribute(rt, name="tier"):
    return next(a for a in rt.get("/user_attributes").json()["data"] if a["name"] == name)


def test_it_patches_a_user_attribute_with_replace_operations(rt):
    attr = _attribute(rt)
    body = {
        "operations": [
            {"op": "replace", "path": "/label", "value": "Service tier"},
            {"op": "replace", "path": "/default_value", "value": None},
            {"op": "replace", "path": "/data_type", "value": "json"},
        ],
        "update_existing": False,
    }
    response = rt.patch(f"/user_attributes/{attr['id']}", json=body)
    assert response.status_code == 200, response.text
    want = {**attr, "label": "Service tier", "default_value": None, "data_type": "json"}
    assert response.json() == {"success": True, "data": want}
    assert _attribute(rt) == want


@pytest.mark.parametrize(
    "body",
    [
        {"label": "Flat label"},  # the old flat form
        {"operations": [{"op": "add", "path": "/label", "value": "Added"}]},
        {"operations": [{"op": "remove", "path": "/default_value"}]},
        {"operations": [{"op": "replace", "path": "/name", "value": "renamed"}]},
        {"operations": [{"op": "replace", "path": "/intercom", "value": "x"}]},
        {"operations": [{"op": "replace", "path": "/label", "value": "X"}]},  # label under 2 characters
        {"operations": [{"op": "replace", "path": "/data_type", "value": "date"}]},
        {"operations": [], "update_existing": "yes"},
        {"operations": [], "label": "Extra key"},
        [{"op": "replace", "path": "/label", "value": "Bare array"}],
    ],
)
def test_it_rejects_attribute_patches_that_are_not_replace_operations(rt, body):
    attr = _attribute(rt)
    response = rt.patch(f"/user_attributes/{attr['id']}", json=body)
    assert response.status_code == 400 and response.json()["success"] is False
    assert _attribute(rt) == attr


def test_it_answers_400_for_a_malformed_attribute_id_and_404_for_an_unknown_one(rt):
    body = {"operations": [{"op": "replace", "path": "/label", "value": "Whatever"}]}
    assert rt.patch("/user_attributes/not-a-uuid", json=body).status_code == 400
    assert rt.delete("/user_attributes/not-a-uuid").status_code == 400
    assert rt.patch(f"/user_attributes/{uuid.uuid4()}", json=body).status_code == 404


def test_it_accepts_and_ignores_group_timestamps(rt):
    sent = {"created_at": "2019-02-08T11:45:48.899Z", "updated_at": "2019-02-24T18:28:18.790Z"}
    created = rt.post("/groups", json={"name": "Timestamps", **sent})
    assert created.status_code == 200, created.text
    group = created.json()["data"]
    assert group["created_at"] != sent["created_at"] and group["created_at"] == group["updated_at"]
    replaced = rt.put(f"/groups/{group['id']}", json={"name": "Timestamps 2", **sent})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["data"]["created_at"] == group["created_at"]
    assert replaced.json()["data"]["updated_at"] > group["updated_at"]


def test_it_still_rejects_unknown_group_keys(rt):
    response = rt.post("/groups", json={"name": "Typo", "universal_app_acess": "use"})
    assert response.status_code == 400 and "universal_app_acess" in response.json()["message"]
    response = rt.put(f"/groups/{rt.group_id('Support')}", json={"name": "Support", "created_at": 5})
    assert response.status_code == 400


def test_it_requires_is_group_admin_in_every_member_entry(rt):
    user = rt.new_user()
    gid = rt.group_id("Support")
    response = rt.post(f"/groups/{gid}/members", json={"members": [{"id": user["id"]}]})
    assert response.status_code == 400 and response.json()["success"] is False
    assert user["id"] not in {m["id"] for m in rt.get(f"/groups/{gid}").json()["data"]["members"]}
    response = rt.post("/groups", json={"name": "No flag", "members": [{"id": user["id"]}]})
    assert response.status_code == 400
    response = rt.put(f"/groups/{gid}", json={"name": "Support", "members": [{"id": user["id"]}]})
    assert response.status_code == 400
    flag = rt.post(f"/groups/{gid}/members", json={"members": [{"id": user["id"], "is_group_admin": "no"}]})
    assert flag.status_code == 400


def test_it_ignores_extra_top_level_keys_when_adding_members(rt):
    user = rt.new_user()
    gid = rt.group_id("Support")
    body = {"members": [{"id": user["id"], "is_group_admin": True}], "note": "extra"}
    response = rt.post(f"/groups/{gid}/members", json=body)
    assert response.status_code == 200, response.text
    member = next(m for m in response.json()["data"]["members"] if m["id"] == user["id"])
    assert member["is_group_admin"] is True
    assert rt.post(f"/groups/{gid}/members", json={"note": "no members"}).status_code == 400


def _app_names(rt, **params):
    response = rt.get("/apps", params=params)
    assert response.status_code == 200, response.text
    return [a["name"] for a in response.json()["data"]]


def test_it_filters_apps_by_resource(rt):
    by_name = {name: rid for rid, name in rt.state.resources.items()}
    assert _app_names(rt, using_resource=by_name["Stripe"]) == ["Customer 360", "Refund approvals"]
    assert _app_names(rt, using_resource=by_name["Unused REST API"]) == []
    assert _app_names(rt, using_resource=str(uuid.uuid4())) == []
    both = _app_names(rt, using_resource=by_name["Sales Postgres"], name_contains="360")
    assert both == ["Customer 360"]


@pytest.mark.parametrize("value", ["not-a-uuid", "", "1234"])
def test_it_rejects_a_resource_filter_that_is_not_a_uuid(rt, value):
    response = rt.get("/apps", params={"using_resource": value})
    assert response.status_code == 400 and response.json()["success"] is False


def test_it_answers_400_for_malformed_app_ids(rt):
    assert rt.get("/apps/not-a-uuid").status_code == 400
    assert rt.get(f"/apps/{uuid.uuid4()}").status_code == 404
    clone = rt.post("/apps/cloneApp", json={"app_id": "not-a-uuid", "new_app_name": "Copy"})
    assert clone.status_code == 400
    clone = rt.post("/apps/cloneApp", json={"app_id": str(uuid.uuid4()), "new_app_name": "Copy"})
    assert clone.status_code == 404


def test_it_sends_no_content_type_on_empty_retool_responses(rt):
    user = rt.new_user()
    gid = rt.post("/groups", json={"name": "Short lived"}).json()["data"]["id"]
    for response in (
        rt.delete(f"/users/{user['id']}"),
        rt.delete(f"/groups/{gid}"),
        rt.delete(f"/user_attributes/{_attribute(rt)['id']}"),
    ):
        assert response.status_code == 204
        assert response.content == b"" and "content-type" not in response.headers


def test_it_sends_no_content_type_on_empty_tooljet_responses(tj):
    created = tj.post(f"/workspace/{tj.ws}/groups", json={"name": "Short lived"})
    assert created.status_code == 201
    gid = tj.group_id(tj.ws, "Short lived")
    updated = tj.patch(f"/workspace/{tj.ws}/groups/{gid}", json={"name": "Shorter lived"})
    deleted = tj.delete(f"/workspace/{tj.ws}/groups/{gid}")
    for response in (created, updated, deleted):
        assert response.content == b"" and "content-type" not in response.headers
    assert (updated.status_code, deleted.status_code) == (204, 204)


UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("method", "path", "invalid", "valid"),
    [
        ("PATCH", f"/api/ext/user/{UNKNOWN}", {"email": "not-an-email"}, {}),
        ("PUT", f"/api/ext/user/{UNKNOWN}/workspaces", {"id": "not an array"}, []),
        ("PUT", f"/api/ext/user/{UNKNOWN}/workspaces", [{"role": "boss"}], []),
        ("PATCH", f"/api/ext/user/{UNKNOWN}/workspace/{UNKNOWN}", {"status": "bogus"}, {}),
        (
            "PUT",
            f"/api/ext/workspace/{UNKNOWN}/user/{UNKNOWN}",
            {"userDetails": [{"key": "x"}]},
            {"userDetails": []},
        ),
        ("PATCH", f"/api/ext/workspace/{UNKNOWN}/groups/{UNKNOWN}", {"name": "Bad@Name!"}, {}),
        ("PATCH", f"/api/ext/workspace/{UNKNOWN}/groups/not-a-uuid", {"granularPermissions": [{}]}, {}),
        ("PATCH", f"/api/v2/ext/users/{UNKNOWN}", {"status": "bogus"}, {}),
    ],
)
def test_it_validates_tooljet_bodies_before_looking_anything_up(simulator, method, path, invalid, valid):
    sim = simulator("tooljet", token=TJ_TOKEN, users=5, v2_api=True)
    headers = {"Authorization": f"Basic {TJ_TOKEN}"}
    response = httpx.request(method, sim.url + path, json=invalid, headers=headers)
    assert response.status_code == 400, response.text
    assert isinstance(response.json()["message"], list)  # class-validator wording, not a lookup error
    assert httpx.request(method, sim.url + path, json=valid, headers=headers).status_code == 404


def test_it_creates_no_group_when_the_body_is_invalid_and_the_workspace_unknown(tj):
    response = tj.post(f"/workspace/{UNKNOWN}/groups", json={"name": "x" * 51})
    assert response.status_code == 400
    assert response.json()["message"] == ["name must be shorter than or equal to 50 characters"]


@pytest.fixture
def ce(simulator):
    return simulator("tooljet", token=TJ_TOKEN, users=5, community_edition=True, v2_api=True)


@pytest.mark.parametrize("header", [f"Basic {TJ_TOKEN}", "Basic wrong", None])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/ext/workspaces"),
        ("GET", "/api/ext/users"),
        ("POST", "/api/ext/users"),
        ("PATCH", f"/api/ext/user/{UNKNOWN}"),
        ("GET", f"/api/ext/workspace/{UNKNOWN}/groups"),
        ("PUT", f"/api/ext/update-user-role/workspace/{UNKNOWN}"),
    ],
)
def test_it_denies_every_registered_route_on_community_edition(ce, method, path, header):
    headers = {"Authorization": header} if header else {}
    response = httpx.request(method, ce.url + path, headers=headers)
    assert response.status_code == 403
    assert response.json()["message"] == "Forbidden resource"
    assert "error" not in response.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/ext/workspace/{UNKNOWN}/apps"),
        ("GET", "/api/ext/workspace/not-a-uuid/apps"),
        ("POST", f"/api/ext/export/workspace/{UNKNOWN}/apps/{UNKNOWN}"),
        ("POST", f"/api/ext/import/workspace/{UNKNOWN}/apps"),
        ("GET", "/api/v2/ext/users"),
        ("POST", f"/api/v2/ext/users/{UNKNOWN}/archive"),
        ("POST", "/api/ext/apps"),  # git routes are not simulated at all
    ],
)
def test_it_has_no_app_git_or_v2_routes_on_community_edition(ce, method, path):
    response = httpx.request(method, ce.url + path, headers={"Authorization": f"Basic {TJ_TOKEN}"})
    assert response.status_code == 404
    assert response.json()["message"] == f"Cannot {method} {path}"


def test_the_tooljet_probe_reports_community_edition(ce):
    config = ConnectionConfig(kind="tooljet", base_url=ce.url, token=TJ_TOKEN, key="ce-probe")
    result = ToolJetProvider(config, sleep=lambda s: None).probe(thorough=True)
    assert not result.ok
    assert "Community Edition" in result.message
    assert result.error["error"] == "ForbiddenError" and result.error["reason"] == "unlicensed"
    assert result.error["upstream_message"] == "Forbidden resource"
    assert not any(getattr(result.capabilities, flag) for flag in CAPABILITY_FLAGS)
    assert ce.writes() == []


@pytest.fixture
def small(simulator):
    sim = simulator("tooljet", token=TJ_TOKEN, users=5, max_json_bytes=2048)
    yield sim, httpx.Client(base_url=sim.url + "/api/ext", headers={"Authorization": f"Basic {TJ_TOKEN}"})


def test_it_answers_413_above_the_json_limit(small):
    sim, client = small
    ws = next(iter(sim.state.workspaces))
    body = {"name": "Big Body", "email": "big.body@example.com", "workspaces": [{"id": ws}]}
    padded = {**body, "padding": "x" * 2048}
    response = client.post("/users", json=padded)
    assert response.status_code == 413
    error = response.json()
    assert set(error) == {"statusCode", "timestamp", "path", "message"}
    assert (error["statusCode"], error["path"]) == (413, "/api/ext/users")
    assert "big.body@example.com" not in sim.state.emails
    assert client.post("/users", json={**body, "padding": "x" * 1500}).status_code == 201


def test_it_answers_413_for_a_chunked_body_above_the_limit(small):
    sim, client = small
    chunks = [b'{"name": "Chunked", "padding": "', b"x" * 4096, b'"}']
    response = client.post("/users", content=iter(chunks), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["statusCode"] == 413
    ws = next(iter(sim.state.workspaces))
    body = json.dumps({"name": "Chunked", "email": "chunked@example.com", "workspaces": [{"id": ws}]})
    at_limit = body[:-1] + " " * (2048 - len(body)) + "}"  # exactly max_json_bytes
    chunks = [at_limit[:1000].encode(), at_limit[1000:].encode()]
    response = client.post("/users", content=iter(chunks), headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


def test_it_refuses_a_declared_oversized_body_without_reading_it(simulator):
    sim = simulator("tooljet", token=TJ_TOKEN, users=5)  # default limit: 50 MiB
    declared = 50 * 1024 * 1024 + 1
    with socket.create_connection((sim.host, sim.port), timeout=5) as sock:
        sock.sendall(
            (
                "POST /api/ext/users HTTP/1.1\r\n"
                f"Host: {sim.host}\r\nAuthorization: Basic {TJ_TOKEN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
                '{"name": '
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:  # the 413 arrives although only 9 of the declared bytes were sent
            piece = sock.recv(4096)
            assert piece, "connection closed without an answer"
            head += piece
    assert head.startswith(b"HTTP/1.1 413 ")


def test_it_treats_a_body_that_is_not_json_as_empty(tj):
    body = json.dumps(
        {"name": "Plain Text", "email": "plain.text@example.com", "workspaces": [{"id": tj.ws}]}
    )
    response = tj.post("/users", content=body, headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert "name should not be empty" in response.json()["message"]
    priya = tj.user_id("priya.raman@example.com")
    before = tj.get(f"/user/{priya}").json()
    patched = tj.patch(
        f"/user/{priya}", content='{"name": "Jane Doe"}', headers={"Content-Type": "text/plain"}
    )
    assert patched.status_code == 200 and tj.get(f"/user/{priya}").json() == before
    sent = tj.patch(
        f"/user/{priya}", content='{"name": "Jane Doe"}', headers={"Content-Type": "application/json"}
    )
    assert sent.status_code == 200 and sent.json()["name"] == "Jane Doe"
