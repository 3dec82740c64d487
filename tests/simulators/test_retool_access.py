"""Retool contract §9a (folders, access permissions) and §6a (user invites): the simulator's behaviour assertions,
numbered after §13's 35."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from .conftest import RT_TOKEN


def _folder(rt, name, folder_type="app"):
    return next(f for f in rt.state.folders.values() if f["name"] == name and f["folder_type"] == folder_type)


def _apps_in(rt, folder_id):
    return {a["id"] for a in rt.state.apps.values() if a["folder_id"] == folder_id}


def _grant(rt, level, object_, subject):
    return rt.post("/permissions/grant", json={"access_level": level, "object": object_, "subject": subject})


@pytest.fixture
def finance(rt):
    """A custom group with no universal app access, so every level it has comes from a grant."""
    gid = rt.group_id("Support")
    rt.state.groups[gid]["universal_app_access"] = "none"
    return {"id": gid, "type": "group"}


def test_it_r36_lists_folders_as_a_tree_in_one_page(rt):
    body = rt.get("/folders").json()
    assert body["next_token"] is None and body["has_more"] is False
    assert body["total_count"] == len(body["data"])
    by_id = {f["id"]: f for f in body["data"]}
    for f in body["data"]:
        assert f["id"] == f["legacy_id"] and f["id"].startswith(f"{f['folder_type']}_")
        assert f["parent_folder_id"] is None or f["parent_folder_id"] in by_id
    roots = [f for f in body["data"] if f["parent_folder_id"] is None]
    assert roots and all(f["is_system_folder"] for f in roots)


def test_it_r37_creates_renames_and_deletes_a_folder(rt):
    root = _folder(rt, "root")
    made = rt.post("/folders", json={"name": "Ops", "folder_type": "app", "parent_folder_id": root["id"]})
    assert made.status_code == 200
    folder = made.json()["data"]
    assert folder["parent_folder_id"] == root["id"] and folder["is_system_folder"] is False
    again = rt.post("/folders", json={"name": "Ops", "folder_type": "app", "parent_folder_id": root["id"]})
    assert again.status_code == 409 and again.json()["success"] is False
    assert rt.post("/folders", json={"name": "X", "folder_type": "page"}).status_code == 422
    ops = {"operations": [{"op": "replace", "path": "/name", "value": "Operations"}]}
    renamed = rt.patch(f"/folders/{folder['id']}", json=ops).json()["data"]
    assert renamed["name"] == "Operations" and renamed["updated_at"] > folder["updated_at"]
    assert rt.get(f"/folders/{folder['id']}").json()["data"] == renamed
    assert rt.delete(f"/folders/{folder['id']}").status_code == 204
    gone = rt.get(f"/folders/{folder['id']}")
    assert gone.status_code == 404 and gone.json()["success"] is False
    assert rt.delete(f"/folders/{folder['id']}").status_code == 404


def test_it_r38_grant_then_list_objects_returns_the_grant(rt, finance):
    folder = _folder(rt, "Finance tools")
    target = {"id": folder["id"], "type": "folder"}
    granted = _grant(rt, "use", target, finance)
    assert granted.status_code == 200
    assert granted.json()["data"] == [{"type": "folder", "id": folder["id"], "access_level": "use"}]
    listed = rt.post("/permissions/listObjects", json={"object_type": "folder", "subject": finance}).json()
    assert listed["data"] == [{"type": "folder", "id": folder["id"], "access_level": "use"}]
    assert set(listed) == {"success", "data", "total_count", "next_token", "has_more"}


def test_it_r39_folder_grant_reaches_apps_directly_inside_not_subfolders(rt, finance):
    folder = _folder(rt, "Finance tools")
    sub = _folder(rt, "Reports")
    assert sub["parent_folder_id"] == folder["id"]
    inside, below = _apps_in(rt, folder["id"]), _apps_in(rt, sub["id"])
    assert inside and below
    _grant(rt, "edit", {"id": folder["id"], "type": "folder"}, finance)
    for app_id in inside:
        groups = rt.get(f"/permissions/accessList/app/{app_id}").json()["data"]["group"]
        entry = next(g for g in groups if g["subject"] == {"id": str(finance["id"]), "type": "group"})
        assert entry["accessLevel"] == "edit"
        assert entry["sources"]["inherited"] == {"id": folder["id"], "type": "folder"}
    for app_id in below:
        groups = rt.get(f"/permissions/accessList/app/{app_id}").json()["data"]["group"]
        assert all(g["subject"]["id"] != str(finance["id"]) for g in groups)
    sub_list = rt.get(f"/permissions/accessList/folder/{sub['id']}").json()["data"]["group"]
    assert all(g["subject"]["id"] != str(finance["id"]) for g in sub_list)


def test_it_r40_revoke_removes_the_grant_and_what_it_reached(rt, finance):
    folder = _folder(rt, "Finance tools")
    target = {"id": folder["id"], "type": "folder"}
    _grant(rt, "use", target, finance)
    revoked = rt.post("/permissions/revoke", json={"object": target, "subject": finance})
    assert revoked.status_code == 200 and revoked.json()["data"] == []
    listed = rt.post("/permissions/listObjects", json={"object_type": "folder", "subject": finance})
    assert listed.json()["data"] == []
    app_id = next(iter(_apps_in(rt, folder["id"])))
    groups = rt.get(f"/permissions/accessList/app/{app_id}").json()["data"]["group"]
    assert all(g["subject"]["id"] != str(finance["id"]) for g in groups)


def test_it_r41_grant_answers_list_every_object_of_that_type(rt, finance):
    a, b = _folder(rt, "Finance tools"), _folder(rt, "Reports")
    _grant(rt, "edit", {"id": a["id"], "type": "folder"}, finance)
    second = _grant(rt, "use", {"id": b["id"], "type": "folder"}, finance).json()["data"]
    assert sorted((d["id"], d["access_level"]) for d in second) == sorted(
        [(a["id"], "edit"), (b["id"], "use")]
    )
    app_id = next(iter(rt.state.apps))
    apps = _grant(rt, "own", {"id": app_id, "type": "app"}, finance).json()["data"]
    assert apps == [{"type": "app", "id": app_id, "access_level": "own"}]  # folders are another type
    after = rt.post(
        "/permissions/revoke", json={"object": {"id": b["id"], "type": "folder"}, "subject": finance}
    )
    assert after.json()["data"] == [{"type": "folder", "id": a["id"], "access_level": "edit"}]


def test_it_r42_a_second_grant_replaces_the_level(rt, finance):
    folder = _folder(rt, "Finance tools")
    target = {"id": folder["id"], "type": "folder"}
    _grant(rt, "use", target, finance)
    data = _grant(rt, "own", target, finance).json()["data"]
    assert data == [{"type": "folder", "id": folder["id"], "access_level": "own"}]


def test_it_r43_refuses_unknown_groups_and_extra_keys(rt, finance):
    folder = {"id": _folder(rt, "Finance tools")["id"], "type": "folder"}
    assert _grant(rt, "use", folder, {"id": 999, "type": "group"}).status_code == 404
    extra = {"access_level": "use", "object": folder, "subject": finance, "note": "x"}
    assert rt.post("/permissions/grant", json=extra).status_code == 400
    assert _grant(rt, "use", {**folder, "appId": "x"}, finance).status_code == 400
    assert _grant(rt, "use", folder, {"id": str(finance["id"]), "type": "group"}).status_code == 400
    assert rt.state.grants.get(("group", finance["id"]), {}) == {}


def test_it_r44_access_list_names_universal_group_and_direct_sources(rt, finance):
    app_id = next(iter(rt.state.apps))
    user = next(iter(rt.state.users))
    _grant(rt, "own", {"id": app_id, "type": "app"}, {"id": user, "type": "user"})
    data = rt.get(f"/permissions/accessList/app/{app_id}").json()["data"]
    assert set(data) == {"group", "user", "userInvite"}
    admin = next(g for g in data["group"] if g["subject"]["id"] == str(rt.group_id("admin")))
    assert admin["accessLevel"] == "own" and admin["sources"] == {"universal": True}
    person = next(u for u in data["user"] if u["subject"] == {"id": user, "type": "user"})
    assert person["accessLevel"] == "own" and person["sources"]["direct"] is True
    assert {"id": str(rt.group_id("admin")), "type": "group"} in person["sources"]["groups"]


def test_it_r45_business_plan_refuses_folders_and_permissions(simulator):
    business = simulator("retool", profile="business", users=3)
    c = httpx.Client(base_url=business.url + "/api/v2", headers={"Authorization": f"Bearer {RT_TOKEN}"})
    subject = {"id": 1, "type": "group"}
    calls = [
        ("GET", "/folders", None),
        ("GET", "/folders/app_1", None),
        ("POST", "/folders", {"name": "X", "folder_type": "app"}),
        ("DELETE", "/folders/app_2", None),
        ("POST", "/permissions/listObjects", {"object_type": "folder", "subject": subject}),
        (
            "POST",
            "/permissions/grant",
            {"access_level": "use", "object": {"id": "app_2", "type": "folder"}, "subject": subject},
        ),
        ("GET", "/permissions/accessList/folder/app_2", None),
    ]
    for method, path, body in calls:
        response = c.request(method, path, json=body)
        assert response.status_code == 403, (method, path)
        assert response.json()["message"].startswith("API token is missing one of")
    assert len(business.app.state.folders) == 6


def test_it_r46_business_plan_serves_invites_and_attributes_but_not_users(simulator):
    business = simulator("retool", profile="business", users=3)
    c = httpx.Client(base_url=business.url + "/api/v2", headers={"Authorization": f"Bearer {RT_TOKEN}"})
    assert c.get("/users").status_code == 403
    assert c.get("/user_attributes").status_code == 200
    listed = c.get("/user_invites")
    assert listed.status_code == 200 and listed.json()["data"]
    made = c.post("/user_invites", json={"email": "new.hire@example.com"})
    assert made.status_code == 200
    invite_id = made.json()["data"]["id"]
    attrs = c.post(
        f"/user_invites/{invite_id}/user_attributes", json={"name": "department", "value": "sales"}
    )
    assert attrs.status_code == 200 and attrs.json()["data"]["metadata"] == {"department": "sales"}
    assert c.delete(f"/user_invites/{invite_id}").status_code == 204


def test_it_r47_creates_an_invite_that_expires_in_seven_days(rt):
    support = rt.group_id("Support")
    made = rt.post(
        "/user_invites",
        json={
            "email": "new.hire@example.com",
            "defaultGroupIds": [support],
            "metadata": {"department": "ops"},
        },
    )
    assert made.status_code == 200
    invite = made.json()["data"]
    assert isinstance(invite["id"], int) and invite["invited_email"] == "new.hire@example.com"
    assert invite["claimed_by"] is None and invite["claimed_at"] is None
    assert invite["groups"] == [{"legacy_id": support, "id": support, "name": "Support"}]
    assert invite["metadata"] == {"department": "ops"}
    days = (_parse(invite["expires_at"]) - _parse(invite["created_at"])).total_seconds() / 86400
    assert days == pytest.approx(7, abs=0.01)
    assert rt.get(f"/user_invites/{invite['id']}").json()["data"] == invite
    pending = rt.get(f"/groups/{support}").json()["data"]["user_invites"]
    assert invite["id"] in {i["id"] for i in pending}
    assert rt.delete(f"/user_invites/{invite['id']}").status_code == 204
    assert rt.get(f"/user_invites/{invite['id']}").status_code == 404
    assert invite["id"] not in {i["id"] for i in rt.get(f"/groups/{support}").json()["data"]["user_invites"]}


@pytest.mark.parametrize(
    "body",
    [
        {"email": "x@example.com", "invited_email": "x@example.com"},
        {"email": "x@example.com", "defaultGroupIds": ["5"]},
        {"email": "not-an-email"},
        {"email": "x@example.com", "defaultGroupIds": [999]},
    ],
)
def test_it_r48_refuses_bad_invite_bodies(rt, body):
    before = len(rt.state.invites)
    response = rt.post("/user_invites", json=body)
    assert response.status_code == 400 and response.json()["success"] is False
    assert len(rt.state.invites) == before


def test_it_r49_sets_and_deletes_invite_attributes(rt):
    invite_id = next(iter(rt.state.invites))
    set_ = rt.post(f"/user_invites/{invite_id}/user_attributes", json={"name": "tier", "value": "gold"})
    assert set_.status_code == 200 and set_.json()["data"]["metadata"]["tier"] == "gold"
    assert (
        rt.post(f"/user_invites/{invite_id}/user_attributes", json={"name": "nope", "value": "x"}).status_code
        == 400
    )
    assert (
        rt.post(f"/user_invites/{invite_id}/user_attributes", json={"name": "tier", "value": 3}).status_code
        == 400
    )
    deleted = rt.delete(f"/user_invites/{invite_id}/user_attributes/tier")
    assert deleted.status_code == 200 and "tier" not in deleted.json()["data"]["metadata"]


def _parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
