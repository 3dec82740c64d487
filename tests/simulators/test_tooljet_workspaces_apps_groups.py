"""ToolJet contract §11 assertions 29-63 (memberships, roles, metadata, apps, groups, profiles)."""

from __future__ import annotations

import httpx
import pytest

from .conftest import TJ_TOKEN

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_it_a29_replaces_memberships(tj):
    user = tj.create(workspaces=[{"id": tj.ws, "role": "builder", "groups": [{"name": "Support"}]}])
    body = tj.put(f"/user/{user['id']}/workspaces", json=[{"id": tj.ws_b, "status": "active"}]).json()
    assert [w["id"] for w in body["workspaces"]] == [tj.ws_b]
    assert "Support" not in {g["name"] for g in body["userGroups"]}


def test_it_a30_clears_memberships_and_404s_unknown_user(tj):
    user = tj.create()
    assert tj.put(f"/user/{user['id']}/workspaces", json=[]).json()["workspaces"] == []
    assert tj.put(f"/user/{UNKNOWN}/workspaces", json=[]).status_code == 404


def test_it_a31_rejects_bad_membership_replacements(tj):
    user = tj.create()
    assert tj.put(f"/user/{user['id']}/workspaces", json=[{"id": UNKNOWN}]).status_code == 400
    assert (
        tj.put(
            f"/user/{user['id']}/workspaces", json=[{"id": tj.ws, "groups": [{"name": "admin"}]}]
        ).status_code
        == 400
    )
    archived = tj.user_id("marten.angstrom@example.com")
    assert tj.put(f"/user/{archived}/workspaces", json=[{"id": tj.ws, "status": "active"}]).status_code == 400


def test_it_a32_updates_membership_status(tj):
    user = tj.create()
    assert tj.patch(f"/user/{user['id']}/workspace/{tj.ws}", json={"status": "active"}).status_code == 200
    assert tj.patch(f"/user/{user['id']}/workspace/{tj.ws_b}", json={"status": "active"}).status_code == 404
    archived = tj.user_id("marten.angstrom@example.com")
    assert tj.patch(f"/user/{archived}/workspace/{tj.ws}", json={"status": "active"}).status_code == 400


def test_it_a33_replaces_custom_groups_in_workspace(tj):
    user = tj.create(workspaces=[{"id": tj.ws, "groups": [{"name": "Support"}]}])
    new = tj.group_id(tj.ws, "Finance Analysts")
    body = tj.patch(f"/user/{user['id']}/workspace/{tj.ws}", json={"groups": [{"id": new}]}).json()
    assert [g["name"] for g in body["workspaces"][0]["groups"]] == ["Finance Analysts"]
    assert (
        tj.patch(f"/user/{user['id']}/workspace/{tj.ws}", json={"groups": [{"id": UNKNOWN}]}).status_code
        == 400
    )
    assert tj.patch(f"/user/{user['id']}/workspace/{tj.ws}", json={}).json() == body


def test_it_a34_changes_role_by_id_or_email(tj):
    user = tj.create()
    path = f"/update-user-role/workspace/{tj.ws}"
    assert tj.put(path, json={"newRole": "builder", "userId": user["id"]}).status_code == 200
    assert "builder" in {g["name"] for g in tj.get(f"/user/{user['id']}").json()["userGroups"]}
    assert tj.put(path, json={"newRole": "admin", "email": user["email"]}).status_code == 200
    assert tj.put(path, json={"newRole": "admin", "email": user["email"]}).status_code == 200


def test_it_a35_rejects_bad_role_changes(tj):
    path = f"/update-user-role/workspace/{tj.ws_empty}"
    assert tj.put(path, json={"newRole": "builder"}).status_code == 400
    assert tj.put(path, json={"newRole": "builder", "email": "ghost@example.com"}).status_code == 404
    assert tj.put(path, json={"newRole": "builder", "email": "jose.alvarez@example.com"}).status_code == 400
    bad = tj.put(path, json={"newRole": "developer", "email": "jose.alvarez@example.com"}).json()["message"]
    assert "newRole must be one of the following values: admin, builder, end-user" in bad


def test_it_a36_refuses_to_demote_app_owner(tj):
    response = tj.put(
        f"/update-user-role/workspace/{tj.ws}",
        json={"newRole": "end-user", "email": "zoe.obrien@example.com"},
    )
    assert response.status_code == 400
    message = response.json()["message"]
    assert "cannot be an end-user" in message["error"] and "Sales Dashboard" in message["data"]


def test_it_a37_lists_active_workspaces_with_custom_groups(tj):
    workspaces = tj.get("/workspaces").json()
    assert {w["name"] for w in workspaces} == {"Acme Production", "Acme Staging", "Research Lab"}
    for ws in workspaces:
        assert ws["status"] == "active" and all(g["type"] == "custom" for g in ws["groups"])


DETAILS = [{"key": "department", "value": "engineering"}, {"key": "tier", "value": "gold"}]


def test_it_a38_puts_metadata(tj):
    uid = tj.user_id("jose.alvarez@example.com")
    body = tj.put(f"/workspace/{tj.ws}/user/{uid}", json={"userDetails": DETAILS}).json()
    assert body["id"] == uid and body["email"] and body["status"] and body["userDetails"] == DETAILS


def test_it_a39_reads_metadata_by_email_and_slug(tj):
    uid = tj.user_id("jose.alvarez@example.com")
    tj.put(f"/workspace/{tj.ws}/user/{uid}", json={"userDetails": DETAILS})
    body = tj.get("/workspace/acme-production/user/jose.alvarez@example.com").json()
    assert body["id"] == uid and body["userDetails"] == DETAILS
    fresh = tj.create(email="fresh@example.com")
    assert tj.get(f"/workspace/{tj.ws}/user/{fresh['id']}").json()["userDetails"] == []


def test_it_a40_replaces_metadata(tj):
    uid = tj.user_id("jose.alvarez@example.com")
    tj.put(f"/workspace/{tj.ws}/user/{uid}", json={"userDetails": DETAILS})
    body = tj.put(f"/workspace/{tj.ws}/user/{uid}", json={"userDetails": [DETAILS[1]]}).json()
    assert body["userDetails"] == [DETAILS[1]]
    assert tj.put(f"/workspace/{tj.ws}/user/{uid}", json={"userDetails": []}).json()["userDetails"] == []


def test_it_a41_validates_metadata(tj):
    uid = tj.user_id("jose.alvarez@example.com")
    assert tj.put(f"/workspace/{tj.ws}/user/{uid}", json={}).status_code == 400
    assert tj.put(f"/workspace/{tj.ws}/user/{uid}", json={"userDetails": [{"key": "x"}]}).status_code == 400


def test_it_a42_scopes_metadata_to_members(tj):
    uid = tj.user_id("jose.alvarez@example.com")
    for method in ("GET", "PUT"):
        kw = {"json": {"userDetails": []}} if method == "PUT" else {}
        for path in (
            f"/workspace/{UNKNOWN}/user/{uid}",
            f"/workspace/{tj.ws}/user/{UNKNOWN}",
            f"/workspace/{tj.ws_empty}/user/{uid}",
        ):
            assert tj.http.request(method, "/api/ext" + path, **kw).status_code == 404
    before = tj.get(f"/workspace/{tj.ws}/user/{uid}").json()
    tj.put(f"/workspace/{tj.ws_b}/user/{uid}", json={"userDetails": [{"key": "k", "value": "v"}]})
    assert tj.get(f"/workspace/{tj.ws}/user/{uid}").json() == before


def _apps(tj, ws):
    response = tj.get(f"/workspace/{ws}/apps")
    assert response.status_code == 200
    return response.json()


def test_it_a43_lists_workspace_apps(tj):
    assert _apps(tj, tj.ws_empty) == []
    apps = _apps(tj, tj.ws)
    assert apps and all(a["organizationId"] == tj.ws for a in apps)
    assert set(apps[0]) == {"id", "name", "slug", "organizationId", "versions"}
    assert set(apps[0]["versions"][0]) == {"id", "name"}


@pytest.mark.parametrize("ws", ["not-a-uuid", UNKNOWN])
def test_it_a44_rejects_bad_workspace_on_app_list(tj, ws):
    assert tj.get(f"/workspace/{ws}/apps").status_code == 400


def _sales(tj, ws=None):
    return next(a for a in _apps(tj, ws or tj.ws) if a["name"] == "Sales Dashboard")


def test_it_a45_exports_newest_or_named_version(tj):
    app = _sales(tj)
    response = tj.post(f"/export/workspace/{tj.ws}/apps/{app['id']}")
    assert response.status_code == 201 and len(response.content) > 20_000
    bundle = response.json()
    assert bundle["tooljet_version"] == "3.20.40-ee" and len(bundle["app"]) == 1
    versions = bundle["app"][0]["definition"]["appV2"]["appVersions"]
    assert [v["name"] for v in versions] == [app["versions"][-1]["name"]]
    named = tj.post(f"/export/workspace/{tj.ws}/apps/{app['id']}", params={"appVersion": "v1"}).json()
    assert [v["name"] for v in named["app"][0]["definition"]["appV2"]["appVersions"]] == ["v1"]
    everything = tj.post(
        f"/export/workspace/{tj.ws}/apps/{app['id']}", params={"exportAllVersions": "true"}
    ).json()
    assert len(everything["app"][0]["definition"]["appV2"]["appVersions"]) == len(app["versions"])
    assert (
        tj.post(f"/export/workspace/{tj.ws}/apps/{app['id']}", params={"appVersion": "v99"}).status_code
        == 400
    )


def test_it_a46_rejects_bad_export_ids(tj):
    other = _sales(tj, tj.ws_b)
    assert tj.post(f"/export/workspace/{tj.ws}/apps/not-a-uuid").status_code == 400
    assert tj.post(f"/export/workspace/not-a-uuid/apps/{other['id']}").status_code == 400
    assert tj.post(f"/export/workspace/{tj.ws}/apps/{other['id']}").status_code == 400


def test_it_a47_includes_tjdb_unless_disabled(tj):
    app = _sales(tj)
    path = f"/export/workspace/{tj.ws}/apps/{app['id']}"
    assert "tooljet_database" in tj.post(path).json()
    assert "tooljet_database" in tj.post(path, params={"exportTJDB": "true"}).json()
    assert "tooljet_database" not in tj.post(path, params={"exportTJDB": "false"}).json()


def _export(tj):
    app = _sales(tj)
    return tj.post(f"/export/workspace/{tj.ws}/apps/{app['id']}").json()


def test_it_a48_imports_export_round_trip(tj):
    bundle = _export(tj)
    response = tj.post(f"/import/workspace/{tj.ws}/apps", json={**bundle, "appName": "Sales Copy"})
    assert response.status_code == 201 and tj.ws in response.json()["message"]
    assert {"Sales Dashboard", "Sales Copy"} <= {a["name"] for a in _apps(tj, tj.ws)}
    other = tj.post(
        f"/import/workspace/{tj.ws_empty}/apps", json={**bundle, "appName": "X", "tooljet_database": []}
    )
    assert other.status_code == 201


def test_it_a49_rejects_taken_app_name(tj):
    bundle = _export(tj)
    assert tj.post(f"/import/workspace/{tj.ws}/apps", json={**bundle, "appName": "Twice"}).status_code == 201
    second = tj.post(f"/import/workspace/{tj.ws}/apps", json={**bundle, "appName": "Twice"})
    assert second.status_code == 400 and "already taken" in second.json()["message"]


def test_it_a50_rejects_bad_imports(tj):
    bundle = {**_export(tj), "appName": "New"}
    assert tj.post("/import/workspace/not-a-uuid/apps", json=bundle).status_code == 400
    assert tj.post(f"/import/workspace/{UNKNOWN}/apps", json=bundle).status_code == 400
    assert (
        tj.post(f"/import/workspace/{tj.ws}/apps", json={**bundle, "tooljet_version": None}).status_code
        == 400
    )
    assert (
        tj.post(f"/import/workspace/{tj.ws}/apps", json={**bundle, "tooljet_version": "999.0.0"}).status_code
        == 400
    )


def test_it_a51_answers_500_without_app_and_app_name(tj):
    response = tj.post(f"/import/workspace/{tj.ws}/apps", json={"tooljet_version": "3.20.40-ee"})
    assert response.status_code == 500 and response.json()["statusCode"] == 500


def _groups(tj, ws=None, **params):
    response = tj.get(f"/workspace/{ws or tj.ws}/groups", params=params)
    assert response.status_code == 200
    return response.json()


def test_it_a52_creates_group_with_empty_body(tj):
    response = tj.post(f"/workspace/{tj.ws}/groups", json={"name": "Devs"})
    assert response.status_code == 201 and response.content == b""
    assert "Devs" in {g["name"] for g in _groups(tj, per_page=50)["data"]}


def test_it_a53_validates_group_create(tj):
    assert tj.post(f"/workspace/{tj.ws}/groups", json={"name": "x" * 51}).status_code == 400
    assert tj.post(f"/workspace/{tj.ws}/groups", json={"name": "Bad@Name!"}).status_code == 400
    assert tj.post(f"/workspace/{UNKNOWN}/groups", json={"name": "Ok"}).status_code == 400
    twice = [{"type": "app", "applyToAll": True, "resources": [], "permissions": {"canEdit": False}}] * 2
    assert (
        tj.post(f"/workspace/{tj.ws}/groups", json={"name": "Ok", "granularPermissions": twice}).status_code
        == 422
    )


def test_it_a54_gets_group(tj):
    gid = tj.group_id(tj.ws, "Support")
    body = tj.get(f"/workspace/{tj.ws}/groups/{gid}").json()
    assert "apps_create" in body["permissions"] and isinstance(body["granularPermissions"], list)
    role_gid = tj.state.role_groups[tj.ws]["builder"]
    assert tj.get(f"/workspace/{tj.ws}/groups/{role_gid}").status_code == 400
    assert tj.get(f"/workspace/{tj.ws}/groups/{UNKNOWN}").status_code == 404
    assert tj.get(f"/workspace/{UNKNOWN}/groups/{gid}").status_code == 404


def test_it_a55_patches_name_and_merges_flags(tj):
    gid = tj.group_id(tj.ws, "App Builders")
    response = tj.patch(f"/workspace/{tj.ws}/groups/{gid}", json={"name": "Makers"})
    assert response.status_code == 204 and response.content == b""
    tj.patch(f"/workspace/{tj.ws}/groups/{gid}", json={"permissions": {"workflowCreate": True}})
    perms = tj.get(f"/workspace/{tj.ws}/groups/{gid}").json()["permissions"]
    assert perms["apps_create"] and perms["workflows_create"] and not perms["apps_promote"]


def _granular(tj, gid):
    return tj.get(f"/workspace/{tj.ws}/groups/{gid}").json()["granularPermissions"]


def test_it_a56_merges_granular_permissions(tj):
    gid = tj.group_id(tj.ws, "Support")
    apps = {a["name"]: a["id"] for a in _apps(tj, tj.ws)}
    path = f"/workspace/{tj.ws}/groups/{gid}"

    def entry(resources, can_edit=False, envs=("production", "development")):
        return {
            "type": "app",
            "applyToAll": False,
            "resources": resources,
            "permissions": {"canEdit": can_edit, "environments": list(envs)},
        }

    tj.patch(path, json={"granularPermissions": [entry([apps["Sales Dashboard"]])]})
    tj.patch(
        path, json={"granularPermissions": [entry(["Customer 360"], envs=("development", "production"))]}
    )
    [merged] = _granular(tj, gid)
    assert set(merged["resources"]) == {apps["Sales Dashboard"], apps["Customer 360"]}
    tj.patch(path, json={"granularPermissions": [entry([apps["Sales Dashboard"]])]})
    assert len(_granular(tj, gid)[0]["resources"]) == 2
    tj.patch(path, json={"granularPermissions": [entry([apps["Customer 360"]], can_edit=True)]})
    entries = _granular(tj, gid)
    assert len(entries) == 2
    assert {e["permissions"]["canEdit"]: e["resources"] for e in entries} == {
        False: [apps["Sales Dashboard"]],
        True: [apps["Customer 360"]],
    }


def test_it_a57_rejects_bad_granular_patches(tj):
    gid = tj.group_id(tj.ws, "Support")
    path = f"/workspace/{tj.ws}/groups/{gid}"
    empty = {"type": "app", "applyToAll": False, "resources": [], "permissions": {"canEdit": False}}
    assert tj.patch(path, json={"granularPermissions": [empty]}).status_code == 400
    assert tj.patch(path, json={"granularPermissions": [{**empty, "resources": ["Nope"]}]}).status_code == 400
    role_gid = tj.state.role_groups[tj.ws]["admin"]
    assert tj.patch(f"/workspace/{tj.ws}/groups/{role_gid}", json={"name": "x"}).status_code == 400


def test_it_a58_pages_and_searches_groups(tj):
    tj.post(f"/workspace/{tj.ws_empty}/groups", json={"name": "Web DEVS"})
    total = len(tj.state.custom_groups(tj.ws_empty))
    page1 = _groups(tj, tj.ws_empty, page=1, per_page=2)
    assert len(page1["data"]) == 2 and page1["pagination"] == {"page": 1, "per_page": 2, "total_count": total}
    assert len(_groups(tj, tj.ws_empty, page=2, per_page=2)["data"]) == total - 2
    assert [g["name"] for g in _groups(tj, tj.ws_empty, search="devs")["data"]] == ["Web DEVS"]
    none = _groups(tj, tj.ws_empty, search="zzz")
    assert none["data"] == [] and none["pagination"]["total_count"] == 0


def test_it_a59_lists_snake_case_permissions(tj):
    group = _groups(tj)["data"][0]
    assert set(group["permissions"]) == {
        "apps_create",
        "apps_delete",
        "apps_promote",
        "apps_release",
        "workflows_create",
        "workflows_delete",
        "datasources_create",
        "datasources_delete",
        "workspace_constants",
        "folder_create",
        "folder_delete",
    }
    assert group["granularPermissions"] == []


def test_it_a60_deletes_groups(tj):
    gid = tj.group_id(tj.ws, "Support")
    response = tj.delete(f"/workspace/{tj.ws}/groups/{gid}")
    assert response.status_code == 204 and response.content == b""
    jose = tj.get("/user/jose.alvarez@example.com").json()
    assert "Support" not in {g["name"] for g in jose["userGroups"]}
    assert tj.delete(f"/workspace/{tj.ws}/groups/{gid}").status_code == 404
    role_gid = tj.state.role_groups[tj.ws]["admin"]
    assert tj.delete(f"/workspace/{tj.ws}/groups/{role_gid}").status_code == 400
    assert tj.delete(f"/workspace/{tj.ws}/groups/not-a-uuid").status_code == 422


def _client(sim):
    return httpx.Client(base_url=sim.url + "/api/ext", headers={"Authorization": f"Basic {TJ_TOKEN}"})


def test_it_a61_hides_new_routes_on_lts_316(simulator):
    sim = simulator("tooljet", profile="lts-3.16", users=5)
    c = _client(sim)
    ws = c.get("/workspaces").json()[0]["id"]
    for method, path in (("GET", f"/workspace/{ws}/groups"), ("GET", f"/workspace/{ws}/user/x@example.com")):
        response = c.request(method, path)
        assert response.status_code == 404
        assert response.json()["message"] == f"Cannot {method} /api/ext{path}"
    assert c.get("/users", params={"status": "bogus"}).status_code == 200
    created = c.post(
        "/users", json={"name": "A B", "email": "a@example.com", "workspaces": [{"id": ws}]}
    ).json()
    assert "inviteUrl" not in created["workspaces"][0]


def test_it_a62_legacy_profile(simulator):
    sim = simulator("tooljet", profile="legacy-2x", users=5)
    c = _client(sim)
    ws = c.get("/workspaces").json()[0]["id"]
    assert (
        c.put(f"/update-user-role/workspace/{ws}", json={"newRole": "admin", "userId": "x"}).status_code
        == 404
    )
    assert c.get(f"/workspace/{ws}/apps").status_code == 404
    assert c.get(f"/workspace/{ws}/user/x@example.com").status_code == 404
    created = c.post(
        "/users", json={"name": "A B", "email": "a@example.com", "workspaces": [{"id": ws}]}
    ).json()
    assert created["status"] == "archived"


def test_it_a63_v2_api_behind_flag(simulator):
    off = simulator("tooljet", users=5)
    headers = {"Authorization": f"Basic {TJ_TOKEN}"}
    assert httpx.get(off.url + "/api/v2/ext/users", headers=headers).status_code == 404
    on = simulator("tooljet", users=5, v2_api=True)
    c = httpx.Client(base_url=on.url + "/api/v2/ext", headers=headers)
    page = c.get("/users", params={"per_page": 2}).json()
    assert len(page["data"]) == 2 and page["pagination"]["total_count"] == 5
    assert c.get("/users", params={"per_page": 101}).status_code == 400
    assert c.post("/users/jose.alvarez@example.com/archive").status_code == 201
    assert c.post("/users/jose.alvarez@example.com/archive").status_code == 409
    assert c.post("/users/jose.alvarez@example.com/unarchive").status_code == 201
    assert c.get("/users/nobody").status_code == 404
