"""Retool contract §13 assertions 1-34."""

from __future__ import annotations

import re

import httpx
import pytest

from .conftest import RT_TOKEN

USER_KEYS = [
    "id",
    "legacy_id",
    "first_name",
    "last_name",
    "created_at",
    "last_active",
    "email",
    "active",
    "metadata",
    "is_admin",
    "two_factor_auth_enabled",
    "user_type",
]


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {RT_TOKEN}", RT_TOKEN])
def test_it_r01_requires_bearer(rt, header):
    headers = {"Authorization": header} if header else {}
    response = httpx.get(rt.sim.url + "/api/v2/users", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"success": False, "message": "Authentication failure"}


def test_it_r02_reports_missing_scope_and_business_plan(rt, simulator):
    rt.state.tokens["limited"] = frozenset({"groups:read"})
    response = httpx.get(rt.sim.url + "/api/v2/users", headers={"Authorization": "Bearer limited"})
    assert response.status_code == 403
    assert response.json()["message"].startswith('API token is missing one of "users:read"')
    business = simulator("retool", profile="business", users=5)
    c = httpx.Client(base_url=business.url + "/api/v2", headers={"Authorization": f"Bearer {RT_TOKEN}"})
    for path in ("/users", "/groups", "/groups/1", "/users?limit=1"):
        assert c.get(path).status_code == 403
    for path in ("/user_attributes", "/apps"):
        assert c.get(path).status_code == 200


def test_it_r03_serves_check_health_without_auth(rt):
    response = httpx.get(rt.sim.url + "/api/checkHealth")
    assert response.status_code == 200 and response.json()["version"]


def test_it_r04_keeps_spaces_separate(rt, simulator):
    other = simulator("retool", token="space-b-token", users=3, seed=9)
    assert (
        httpx.get(other.url + "/api/v2/users", headers={"Authorization": f"Bearer {RT_TOKEN}"}).status_code
        == 401
    )
    spaces = rt.get("/spaces").json()["data"]
    assert spaces and all(re.fullmatch(r"org_[0-9a-f]{32}", s["id"]) for s in spaces)


@pytest.mark.parametrize("path", ["/users", "/groups", "/apps", "/spaces"])
def test_it_r05_wraps_lists_in_envelopes(rt, path):
    body = rt.get(path).json()
    assert body["success"] is True and set(body) == {
        "success",
        "data",
        "total_count",
        "next_token",
        "has_more",
    }


def test_it_r05_user_attributes_has_only_data(rt):
    assert set(rt.get("/user_attributes").json()) == {"success", "data"}


def test_it_r06_creates_user_with_200(rt):
    body = {
        "active": True,
        "email": "t@example.com",
        "first_name": "Test",
        "last_name": "User",
        "metadata": {"department": "engineering"},
    }
    response = rt.post("/users", json=body)
    assert response.status_code == 200
    data = response.json()["data"]
    assert list(data) == USER_KEYS
    assert re.fullmatch(r"user_[0-9a-f]{32}", data["id"]) and isinstance(data["legacy_id"], int)
    assert (
        data["last_active"] is None and data["is_admin"] is False and data["two_factor_auth_enabled"] is False
    )
    assert data["user_type"] == "default" and data["metadata"] == {"department": "engineering"}


@pytest.mark.parametrize("extra", [{"last_name": None}, {"last_name": ""}, {"is_admin": True}])
def test_it_r07_rejects_invalid_creates(rt, extra):
    body = {"email": "t@example.com", "first_name": "Test", "last_name": "User", **extra}
    body = {k: v for k, v in body.items() if v is not None}
    before = len(rt.state.users)
    response = rt.post("/users", json=body)
    assert 400 <= response.status_code < 500 and response.json()["success"] is False
    assert len(rt.state.users) == before


def test_it_r08_gets_user_with_groups(rt):
    user = rt.new_user()
    assert rt.get(f"/users/{user['id']}").json()["data"] == user
    groups = rt.get(f"/users/{user['id']}", params={"includeGroups": "true"}).json()["data"]["groups"]
    assert groups == [
        {"id": rt.group_id("All Users"), "legacy_id": rt.group_id("All Users"), "name": "All Users"}
    ]


def test_it_r09_patches_names_keeping_metadata(rt):
    user = rt.new_user(metadata={"department": "sales"})
    ops = [
        {"op": "replace", "path": "/first_name", "value": "Updated"},
        {"op": "replace", "path": "/last_name", "value": "TestUser"},
    ]
    data = rt.patch(f"/users/{user['id']}", json={"operations": ops}).json()["data"]
    assert (data["first_name"], data["last_name"], data["metadata"]) == (
        "Updated",
        "TestUser",
        {"department": "sales"},
    )


def test_it_r10_patches_active_and_metadata(rt):
    user = rt.new_user(metadata={"department": "sales"})
    ops = [
        {"op": "replace", "path": "/active", "value": False},
        {"op": "replace", "path": "/metadata", "value": {}},
    ]
    data = rt.patch(f"/users/{user['id']}", json={"operations": ops}).json()["data"]
    assert data["active"] is False and data["metadata"] == {}


@pytest.mark.parametrize(
    "body",
    [
        {"operations": [{"op": "replace", "path": "/email", "value": "x@example.com"}]},
        {"operations": [{"op": "replace", "path": "/is_admin", "value": True}]},
        [{"op": "replace", "path": "/first_name", "value": "X"}],
    ],
)
def test_it_r11_rejects_forbidden_patches(rt, body):
    user = rt.new_user()
    assert rt.patch(f"/users/{user['id']}", json=body).status_code == 400
    assert rt.get(f"/users/{user['id']}").json()["data"] == user


def test_it_r12_disables_instead_of_deleting(rt):
    user = rt.new_user()
    response = rt.delete(f"/users/{user['id']}")
    assert response.status_code == 204 and response.content == b""
    assert rt.get(f"/users/{user['id']}").json()["data"]["active"] is False
    assert user["id"] in {u["id"] for u in rt.get("/users").json()["data"]}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_it_r13_404s_unknown_user(rt, method):
    response = rt.request(
        method, "/users/user_" + "0" * 32, json={"operations": []} if method == "PATCH" else None
    )
    assert response.status_code == 404 and response.json()["success"] is False


def test_it_r14_lists_everything_without_limit(rt):
    body = rt.get("/users").json()
    assert body["next_token"] is None and body["has_more"] is False
    assert body["total_count"] == len(body["data"]) == len(rt.state.users)


def _pages(rt, path, **params):
    pages, seen, token = [], set(), None
    while True:
        query = {**params, **({"next_token": token} if token else {})}
        body = rt.get(path, params=query).json()
        pages.append(body)
        token = body["next_token"]
        if not body["has_more"]:
            assert token is None
            return pages
        assert token not in seen
        seen.add(token)


def test_it_r15_paginates_with_opaque_tokens(simulator):
    sim = simulator("retool", users=5)
    rt_client = httpx.Client(base_url=sim.url + "/api/v2", headers={"Authorization": f"Bearer {RT_TOKEN}"})

    class Wrapper:
        get = rt_client.get

    pages = _pages(Wrapper, "/users", limit=2)
    assert [len(p["data"]) for p in pages] == [2, 2, 1]
    ids = [u["id"] for p in pages for u in p["data"]]
    assert len(set(ids)) == 5
    again = rt_client.get("/users", params={"limit": 2}).json()["next_token"]
    assert again != pages[0]["next_token"]
    assert rt_client.get("/users", params={"limit": 0}).status_code == 400


def test_it_r16_ignores_next_parameter(rt):
    assert rt.get("/users", params={"next": "abc"}).json() == rt.get("/users").json()


def test_it_r17_filters_by_email(rt):
    data = rt.get("/users", params={"email": "PRIYA.RAMAN@example.com"}).json()["data"]
    assert [u["email"] for u in data] == ["priya.raman@example.com"]


def test_it_r18_declares_attributes(rt):
    attrs = rt.get("/user_attributes").json()["data"]
    assert set(attrs[0]) == {"id", "name", "label", "data_type", "default_value", "intercom_attribute_name"}
    body = {"name": "region", "label": "Region", "dataType": "string"}
    created = rt.post("/user_attributes", json=body)
    assert created.status_code == 200 and created.json()["data"]["data_type"] == "string"
    assert rt.post("/user_attributes", json=body).status_code == 409


def test_it_r19_sets_user_attribute(rt):
    user = rt.new_user(metadata={"tier": "gold"})
    response = rt.post(f"/users/{user['id']}/user_attributes", json={"name": "department", "value": "sales"})
    assert response.status_code == 200
    assert response.json()["data"]["metadata"] == {"tier": "gold", "department": "sales"}
    assert rt.get(f"/users/{user['id']}").json()["data"]["metadata"]["department"] == "sales"


def test_it_r20_validates_attribute_values(rt):
    user = rt.new_user()
    path = f"/users/{user['id']}/user_attributes"
    assert rt.post(path, json={"name": "department", "value": None}).status_code == 200
    assert rt.post(path, json={"name": "department", "value": 42}).status_code == 400
    assert rt.post(path, json={"name": "undeclared", "value": "x"}).status_code == 400


def test_it_r21_deletes_attribute_value_with_200(rt):
    user = rt.new_user(metadata={"department": "sales", "tier": "gold"})
    response = rt.delete(f"/users/{user['id']}/user_attributes/department")
    assert response.status_code == 200 and response.json()["data"]["metadata"] == {"tier": "gold"}


BUILT_INS = {
    "admin": ("own", "own", "own", "edit"),
    "editor": ("edit", "own", "edit", "edit"),
    "viewer": ("use", "use", "use", "use"),
    "All Users": ("edit", "own", "edit", "edit"),
}
LEVELS = (
    "universal_app_access",
    "universal_resource_access",
    "universal_workflow_access",
    "universal_query_library_access",
)


def test_it_r22_has_built_in_groups(rt):
    groups = {g["name"]: g for g in rt.get("/groups").json()["data"]}
    for name, levels in BUILT_INS.items():
        assert tuple(groups[name][k] for k in LEVELS) == levels
    for group in groups.values():
        assert isinstance(group["id"], int) and group["id"] == group["legacy_id"]
    assert sum(groups["admin"][k] for k in ("user_list_access", "audit_log_access", "theme_access")) == 3


GROUP_BODY = {
    "account_details_access": True,
    "audit_log_access": True,
    "name": "tf-acc-test-group",
    "theme_access": False,
    "universal_app_access": "use",
    "universal_query_library_access": "edit",
    "universal_resource_access": "own",
    "universal_workflow_access": "none",
    "unpublished_release_access": False,
    "usage_analytics_access": True,
    "user_list_access": False,
}


def _group(rt, **extra):
    response = rt.post("/groups", json={**GROUP_BODY, **extra})
    assert response.status_code == 200
    return response.json()["data"]


def test_it_r23_creates_group(rt):
    group = _group(rt)
    assert group["members"] == [] and group["user_invites"] == [] and group["landing_page_app_id"] is None
    assert group["created_at"] == group["updated_at"] and group["universal_app_access"] == "use"


def test_it_r24_replaces_group(rt):
    group = _group(rt)
    body = {
        "account_details_access": False,
        "audit_log_access": False,
        "landing_page_app_id": None,
        "members": [],
        "name": "tf-acc-test-group-modified",
        "theme_access": False,
        "universal_app_access": "own",
        "universal_query_library_access": "none",
        "universal_resource_access": "none",
        "universal_workflow_access": "edit",
        "unpublished_release_access": True,
        "usage_analytics_access": False,
        "user_invites": [],
        "user_list_access": True,
    }
    data = rt.put(f"/groups/{group['id']}", json=body).json()["data"]
    assert data["name"] == "tf-acc-test-group-modified" and data["universal_app_access"] == "own"
    assert data["updated_at"] > group["updated_at"] and data["created_at"] == group["created_at"]


def test_it_r25_put_without_members_removes_them(rt):
    user = rt.new_user()
    group = _group(rt, members=[{"id": user["id"], "is_group_admin": False}])
    assert group["members"]
    assert rt.put(f"/groups/{group['id']}", json={"name": "x"}).json()["data"]["members"] == []


def test_it_r26_adds_members_and_flips_admin_flag(rt):
    user = rt.new_user()
    group = _group(rt)
    data = rt.post(
        f"/groups/{group['id']}/members", json={"members": [{"id": user["id"], "is_group_admin": False}]}
    )
    assert data.status_code == 200
    assert data.json()["data"]["members"] == [
        {"id": user["id"], "email": user["email"], "is_group_admin": False}
    ]
    again = rt.post(
        f"/groups/{group['id']}/members", json={"members": [{"id": user["id"], "is_group_admin": True}]}
    )
    assert again.json()["data"]["members"] == [
        {"id": user["id"], "email": user["email"], "is_group_admin": True}
    ]


def test_it_r27_removes_member_with_200(rt):
    user = rt.new_user()
    group = _group(rt, members=[{"id": user["id"], "is_group_admin": False}])
    response = rt.delete(f"/groups/{group['id']}/members/{user['id']}")
    assert response.status_code == 200 and response.json()["data"]["members"] == []


def test_it_r28_is_admin_follows_admin_group(rt):
    user = rt.new_user()
    admin = rt.group_id("admin")
    rt.post(f"/groups/{admin}/members", json={"members": [{"id": user["id"], "is_group_admin": False}]})
    assert rt.get(f"/users/{user['id']}").json()["data"]["is_admin"] is True
    rt.delete(f"/groups/{admin}/members/{user['id']}")
    assert rt.get(f"/users/{user['id']}").json()["data"]["is_admin"] is False


def test_it_r29_validates_group_ids(rt):
    assert rt.get("/groups/abc").status_code == 400
    assert rt.get("/groups/9999").status_code == 404
    group = _group(rt)
    assert rt.delete(f"/groups/{group['id']}").status_code == 204
    assert rt.get(f"/groups/{group['id']}").status_code == 404


def test_it_r30_excludes_disabled_members(rt):
    user = rt.new_user()
    group = _group(rt, members=[{"id": user["id"], "is_group_admin": False}])
    rt.delete(f"/users/{user['id']}")
    assert rt.get(f"/groups/{group['id']}").json()["data"]["members"]
    assert (
        rt.get(f"/groups/{group['id']}", params={"excludeDisabledUsers": "true"}).json()["data"]["members"]
        == []
    )


def test_it_r31_filters_and_paginates_apps(rt):
    assert [a["name"] for a in rt.get("/apps", params={"name_contains": "DASH"}).json()["data"]] == [
        "Sales dashboard"
    ]
    pages = _pages(rt, "/apps", limit=2)
    assert sum(len(p["data"]) for p in pages) == len(rt.state.apps)


def test_it_r32_clones_apps(rt):
    source = rt.get("/apps").json()["data"][0]
    response = rt.post("/apps/cloneApp", json={"app_id": source["id"], "new_app_name": "Copy"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["id"] != source["id"] and data["name"] == "Copy"
    missing = rt.post(
        "/apps/cloneApp", json={"app_id": "00000000-0000-4000-8000-000000000000", "new_app_name": "X"}
    )
    assert missing.status_code == 404
    extra = rt.post("/apps/cloneApp", json={"app_id": source["id"], "new_app_name": "X", "bogus": 1})
    assert extra.status_code == 400


def test_it_r33_has_no_export_route(rt):
    source = rt.get("/apps").json()["data"][0]
    assert rt.post(f"/apps/{source['id']}/export").status_code == 404


def test_it_r34_rate_limits_per_window(simulator):
    sim = simulator("retool", users=3, rate_limit_rpm=3, retry_after=7)
    now = [1000.0]
    sim.app.state.monotonic = lambda: now[0]
    c = httpx.Client(base_url=sim.url + "/api/v2", headers={"Authorization": f"Bearer {RT_TOKEN}"})
    assert [c.get("/apps").status_code for _ in range(3)] == [200, 200, 200]
    limited = c.get("/apps")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json() == {"success": False, "message": "Rate limit exceeded"}
    now[0] += 60
    assert c.get("/apps").status_code == 200
