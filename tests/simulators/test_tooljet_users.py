"""ToolJet contract §11 assertions 1-28 (auth, errors, users)."""

from __future__ import annotations

import base64

import httpx
import pytest

from .conftest import TJ_TOKEN

ROUTES = [
    ("GET", "/api/ext/users"),
    ("POST", "/api/ext/users"),
    ("GET", "/api/ext/workspaces"),
    ("GET", "/api/ext/user/x@example.com"),
    ("PUT", "/api/ext/update-user-role/workspace/x"),
    ("GET", "/api/ext/workspace/x/groups"),
    ("POST", "/api/ext/import/workspace/x/apps"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_it_a01_answers_403_unauthorized_without_header(tj, method, path):
    response = httpx.request(method, tj.sim.url + path)
    assert response.status_code == 403
    body = response.json()
    assert body["statusCode"] == 403 and body["message"] == "Unauthorized"
    assert body["path"] == path and body["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    "header",
    [
        "Basic wrong-token",
        f"Bearer {TJ_TOKEN}",
        "Basic " + base64.b64encode(f"{TJ_TOKEN}:".encode()).decode(),
        f"basic {TJ_TOKEN}",
        f"Basic  {TJ_TOKEN}",
    ],
)
def test_it_a02_rejects_wrong_schemes_and_tokens(tj, header):
    response = httpx.get(tj.sim.url + "/api/ext/users", headers={"Authorization": header})
    assert response.status_code == 403
    assert response.json()["message"] == "Unauthorized"


def test_it_a03_accepts_raw_basic_token(tj):
    assert tj.get("/workspaces").status_code == 200


@pytest.mark.parametrize(
    ("switch", "status", "message"),
    [
        ("disabled", 403, "External API is disabled"),
        ("unlicensed", 403, "You do not have access to this resource"),
        ("starter_plan", 451, None),
    ],
)
def test_it_a04_applies_switches(simulator, switch, status, message):
    sim = simulator("tooljet", users=5, **{switch: True})
    response = httpx.get(sim.url + "/api/ext/users", headers={"Authorization": f"Basic {TJ_TOKEN}"})
    assert response.status_code == status
    if message:
        assert response.json()["message"] == message


def test_it_a05_has_no_error_key_and_array_messages_for_validation(tj):
    response = tj.post("/users", json={"name": "", "email": "nope", "workspaces": "x"})
    assert response.status_code == 400
    body = response.json()
    assert "error" not in body
    assert isinstance(body["message"], list) and all(isinstance(m, str) for m in body["message"])
    assert "email must be an email" in body["message"]


def test_it_a06_ignores_unknown_body_fields(tj):
    uid = tj.user_id("jose.alvarez@example.com")
    before = tj.get(f"/user/{uid}").json()
    response = tj.patch(f"/user/{uid}", json={"nonsense": "x"})
    assert response.status_code == 200
    assert response.json() == before


def test_it_a07_creates_user_with_invite_url(tj):
    user = tj.create()
    assert user["id"] and user["status"] == "invited"
    [entry] = user["workspaces"]
    assert entry["inviteUrl"] and f"oid={tj.ws}" in entry["inviteUrl"]
    assert "/invitations/" in entry["inviteUrl"]


def test_it_a08_gives_null_invite_url_for_active_membership(tj):
    user = tj.create(workspaces=[{"id": tj.ws, "status": "active"}])
    assert user["workspaces"][0]["inviteUrl"] is None


def test_it_a09_gives_org_invite_url_for_active_user(tj):
    user = tj.create(status="active")
    entry = user["workspaces"][0]
    assert "organization-invitations" in entry["inviteUrl"] and "/invitations/" not in entry["inviteUrl"]
    assert entry["status"] == "invited"


def test_it_a10_keeps_invite_url_for_archived(tj):
    user = tj.create(status="archived", workspaces=[{"id": tj.ws, "status": "archived"}])
    assert user["workspaces"][0]["inviteUrl"]


def test_it_a11_creates_with_two_roles(tj):
    user = tj.create(workspaces=[{"id": tj.ws, "role": "builder"}, {"id": tj.ws_b, "role": "end-user"}])
    names = {g["name"] for g in user["userGroups"]}
    assert {"builder", "end-user"} <= names


def test_it_a12_creates_with_custom_groups_by_name(tj):
    user = tj.create(
        workspaces=[
            {"id": tj.ws, "role": "builder", "groups": [{"name": "Support"}, {"name": "Finance Analysts"}]}
        ]
    )
    assert {"Support", "Finance Analysts"} <= {g["name"] for g in user["userGroups"]}


def test_it_a13_rejects_duplicate_email(tj):
    tj.create()
    response = tj.post(
        "/users", json={"name": "X Y", "email": "new.person@example.com", "workspaces": [{"id": tj.ws}]}
    )
    assert response.status_code == 400 and "already exists" in response.json()["message"]


def test_it_a14_rejects_unknown_workspace(tj):
    body = {
        "name": "X Y",
        "email": "x@example.com",
        "workspaces": [{"id": "00000000-0000-4000-8000-000000000000"}],
    }
    response = tj.post("/users", json=body)
    assert response.status_code == 400 and "do not exist" in response.json()["message"]


def test_it_a15_rejects_role_name_in_groups(tj):
    body = {
        "name": "X Y",
        "email": "x@example.com",
        "workspaces": [{"id": tj.ws, "groups": [{"name": "builder"}]}],
    }
    response = tj.post("/users", json=body)
    assert response.status_code == 400 and "role field" in response.json()["message"]


def test_it_a16_rejects_unknown_custom_group(tj):
    body = {
        "name": "X Y",
        "email": "x@example.com",
        "workspaces": [{"id": tj.ws, "groups": [{"name": "Nope"}]}],
    }
    response = tj.post("/users", json=body)
    assert response.status_code == 400
    assert response.json()["message"] == "Group permission id or name not found"


def test_it_a17_rejects_conflicting_permissions_with_object_message(tj):
    body = {
        "name": "X Y",
        "email": "x@example.com",
        "workspaces": [{"id": tj.ws, "role": "end-user", "groups": [{"name": "App Builders"}]}],
    }
    response = tj.post("/users", json=body)
    assert response.status_code == 400
    assert response.json()["message"]["title"] == "Conflicting permissions"


def test_it_a18_lists_users_as_bare_array_with_invite_url(tj):
    created = tj.create()
    users = tj.get("/users").json()
    assert isinstance(users, list)
    mine = next(u for u in users if u["id"] == created["id"])
    assert mine["workspaces"][0]["inviteUrl"] == created["workspaces"][0]["inviteUrl"]


def _emails(response):
    assert response.status_code == 200, response.text
    return {u["email"]: u["status"] for u in response.json()}


def test_it_a19_filters_by_status(tj):
    tj.create(email="inv@example.com")
    archived = _emails(tj.get("/users", params={"status": "archived"}))
    assert archived and set(archived.values()) == {"archived"}
    union_csv = _emails(tj.get("/users", params={"status": "active,invited"}))
    union_rep = _emails(tj.get("/users", params=[("status", "active"), ("status", "invited")]))
    assert union_csv == union_rep and set(union_csv.values()) == {"active", "invited"}
    spaced = _emails(tj.get("/users", params={"status": " active , ,archived "}))
    assert set(spaced.values()) == {"active", "archived"}
    assert len(_emails(tj.get("/users", params={"status": ""}))) == len(tj.state.users)


@pytest.mark.parametrize("value", ["bogus", "Active", "active,bogus"])
def test_it_a20_rejects_bad_status_values(tj, value):
    assert tj.get("/users", params={"status": value}).status_code == 400


def test_it_a21_filters_on_account_status(tj):
    user = tj.create(status="archived", workspaces=[{"id": tj.ws, "status": "active"}])
    archived = _emails(tj.get("/users", params={"status": "archived"}))
    assert user["email"] in archived


def test_it_a22_combines_status_and_group_names(tj):
    tj.create(email="arch.admin@example.com", status="archived", workspaces=[{"id": tj.ws, "role": "admin"}])
    result = tj.get("/users", params={"status": "active", "group_names": "admin"}).json()
    assert result and "priya.raman@example.com" in {u["email"] for u in result}
    for user in result:
        assert user["status"] == "active"
        assert "admin" in {g["name"] for g in user["userGroups"]}


def test_it_a23_gets_user_by_id_or_email(tj):
    uid = tj.user_id("zoe.obrien@example.com")
    by_id = tj.get(f"/user/{uid}").json()
    assert tj.get("/user/zoe.obrien@example.com").json() == by_id
    assert by_id["name"] == "Zoë O'Brien"
    assert tj.get("/user/00000000-0000-4000-8000-000000000000").status_code == 404


def test_it_a24_clears_invite_url_after_acceptance(tj):
    user = tj.create()
    assert httpx.post(tj.sim.url + "/__sim__/invites/accept", json={"user_id": user["id"]}).status_code == 200
    assert tj.get(f"/user/{user['id']}").json()["workspaces"][0]["inviteUrl"] is None


def test_it_a25_splits_name_on_patch(tj):
    user = tj.create()
    response = tj.patch(f"/user/{user['id']}", json={"name": "Jane Doe"})
    assert response.status_code == 200 and response.json()["name"] == "Jane Doe"
    stored = tj.state.users[user["id"]]
    assert (stored["firstName"], stored["lastName"]) == ("Jane", "Doe")
    assert tj.patch("/user/00000000-0000-4000-8000-000000000000", json={"name": "A B"}).status_code == 404


def test_it_a26_archives_account_and_memberships(tj):
    uid = tj.user_id("jose.alvarez@example.com")
    body = tj.patch(f"/user/{uid}", json={"status": "archived"}).json()
    assert body["status"] == "archived"
    assert {w["status"] for w in body["workspaces"]} == {"archived"}


def test_it_a27_reactivates_default_membership(tj):
    user = tj.create()
    body = tj.patch(f"/user/{user['id']}", json={"status": "active", "defaultOrganizationId": tj.ws}).json()
    assert body["workspaces"][0]["status"] == "active"


def test_it_a28_treats_empty_patch_as_noop(tj):
    uid = tj.user_id("priya.raman@example.com")
    before = tj.get(f"/user/{uid}").json()
    response = tj.patch(f"/user/{uid}", json={})
    assert response.status_code == 200 and response.json() == before
