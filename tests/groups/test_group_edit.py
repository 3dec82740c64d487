from __future__ import annotations

import dataclasses
import re

import pytest

from apps.directory.models import DirectoryUser
from apps.directory.services import directory_sync
from apps.groups.selectors import granular_rows, group_get, groups_scope
from tests.groups.helpers import (
    audit_rows,
    hidden,
    reason,
    retool,
    rt_group,
    tj_group,
    tooljet,
    ws_id,
)


def test_it_creates_a_tooljet_group_with_permissions_and_granular_entries(
    simulator, probed_connection, admin_client
):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    response = admin_client.post(
        f"/connections/{conn.slug}/groups/new/",
        reason(
            ws=ws,
            name="Ops Team",
            perm_appCreate="on",
            perm_folderCreate="on",
            g0_type="app",
            g0_resources="Sales Dashboard, customer 360",
            g0_access="edit",
            g0_envs=["production", "staging"],
            g1_type="data_source",
            g1_all="on",
            g1_access="configure",
        ),
    )
    assert response.status_code == 302
    group = tj_group(sim, "Ops Team")
    assert response["Location"].endswith(f"/groups/{group['id']}/?ws={ws}")
    assert group["permissions"]["appCreate"] and group["permissions"]["folderCreate"]
    assert not group["permissions"]["appDelete"]
    apps = {a["name"]: a["id"] for a in sim.state.apps_of(ws)}
    app_entry = next(e for e in group["granular"] if e["type"] == "app")
    assert set(app_entry["resources"]) == {apps["Sales Dashboard"], apps["Customer 360"]}
    assert app_entry["permissions"]["canEdit"] and app_entry["permissions"]["environments"] == [
        "production",
        "staging",
    ]
    ds = next(e for e in group["granular"] if e["type"] == "data_source")
    assert ds["applyToAll"] and ds["permissions"] == {"canUse": False, "canConfigure": True}
    (row,) = audit_rows("group.create")
    assert row.outcome == "success" and row.target_id == group["id"] and row.after["name"] == "Ops Team"
    scope = groups_scope(conn, ws)
    assert granular_rows(scope, group_get(scope, group["id"])) == [
        {
            "type": "Apps",
            "target": "Sales Dashboard, Customer 360",
            "access": "edit",
            "hidden": False,
            "environments": "production, staging",
        },
        {"type": "Data sources", "target": "All", "access": "configure", "hidden": False, "environments": ""},
    ]
    detail = admin_client.get(response["Location"]).content.decode()
    assert "Sales Dashboard" in detail and "production, staging" in detail


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "x" * 51}, "name", "At most 50 characters"),
        ({"name": "Bad@Name!"}, "name", "only ASCII letters"),
        ({"name": "Ok", "g0_type": "app"}, "g0_resources", "Name at least one resource"),
        (
            {"name": "Ok", "g0_type": "app", "g0_all": "on", "g1_type": "app", "g1_all": "on"},
            "g1_all",
            "Only one",
        ),
        (
            {"name": "Ok", "g0_type": "app", "g0_resources": "No Such App"},
            "g0_resources",
            "No app named No Such App",
        ),
        (
            {"name": "Ok", "g0_type": "data_source", "g0_all": "on", "g0_access": "edit"},
            "g0_access",
            "used or configured",
        ),
    ],
)
def test_it_rejects_bad_input_before_sending(
    simulator, probed_connection, admin_client, data, field, message
):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    before = len(sim.state.groups)
    response = admin_client.post(f"/connections/{conn.slug}/groups/new/", reason(ws=ws, **data))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert len(sim.state.groups) == before
    assert audit_rows("group.create") == []


def test_it_shows_upstream_rejections_next_to_the_field(simulator, probed_connection, admin_client):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    response = admin_client.post(
        f"/connections/{conn.slug}/groups/new/",
        reason(ws=ws, name="Ops", g0_type="workflow", g0_resources="No Such Workflow"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "The instance rejected this: Resource No Such Workflow not found" in html
    assert 'value="Ops"' in html  # what the operator typed is kept
    assert audit_rows("group.create")[0].outcome == "failure"


def test_it_renames_and_edits_a_tooljet_group(simulator, probed_connection, admin_client):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    url = f"/connections/{conn.slug}/groups/{group['id']}/edit/?ws={ws}"
    page = admin_client.get(url).content.decode()
    version = hidden(page, "version")
    response = admin_client.post(
        url, reason(ws=ws, name="Support Desk", version=version, perm_appDelete="on")
    )
    assert response.status_code == 302
    assert group["name"] == "Support Desk" and group["permissions"]["appDelete"]
    (row,) = audit_rows("group.update")
    assert row.before["name"] == "Support" and row.after["name"] == "Support Desk"


def _in_support(row, ws, name="Support"):
    if row.memberships:
        return any(m["workspace_id"] == ws and name in m["groups"] for m in row.memberships)
    return any(g["name"] == name for g in row.groups)


@pytest.mark.parametrize("kind", ["tooljet", "retool"])
def test_a_rename_reaches_the_members_index_rows_at_once(simulator, probed_connection, admin_client, kind):
    sim, conn = (tooljet if kind == "tooljet" else retool)(simulator, probed_connection)
    directory_sync(connection=conn)
    ws = ws_id(sim) if kind == "tooljet" else None
    group = tj_group(sim, "Support") if kind == "tooljet" else rt_group(sim, "Support")
    rows = DirectoryUser.objects.filter(connection=conn)
    members = {r.remote_id for r in rows if _in_support(r, ws)}
    assert members
    url = f"/connections/{conn.slug}/groups/{group['id']}/edit/" + (f"?ws={ws}" if ws else "")
    version = hidden(admin_client.get(url).content.decode(), "version")
    form = {"name": "Support Desk", "version": version}
    if ws:
        form["ws"] = ws
    else:
        form.update(
            {
                k: group[k]
                for k in (
                    "universal_app_access",
                    "universal_resource_access",
                    "universal_workflow_access",
                    "universal_query_library_access",
                )
            }
        )
    assert admin_client.post(url, reason(**form)).status_code == 302
    rows = DirectoryUser.objects.filter(connection=conn)
    assert {r.remote_id for r in rows if _in_support(r, ws, "Support Desk")} == members
    assert not any(
        _in_support(r, ws) for r in rows
    )  # (in this workspace; another workspace's "Support" is left)
    assert all("|Support Desk|" in r.group_names for r in rows if r.remote_id in members)
    html = admin_client.get("/", {"group": "Support Desk"}).content.decode()
    assert "Nobody matches" not in html


@pytest.mark.parametrize("kind", ["tooljet", "retool"])
def test_a_deleted_group_leaves_its_members_index_rows_and_person_page_at_once(
    simulator, probed_connection, admin_client, kind
):
    sim, conn = (tooljet if kind == "tooljet" else retool)(simulator, probed_connection)
    directory_sync(connection=conn)
    ws = ws_id(sim) if kind == "tooljet" else None
    group = tj_group(sim, "Support") if kind == "tooljet" else rt_group(sim, "Support")
    rows = DirectoryUser.objects.filter(connection=conn)
    member = next(r for r in rows if _in_support(r, ws))
    form = {"delete-reason": "unused"} | ({"ws": ws} if ws else {})
    response = admin_client.post(f"/connections/{conn.slug}/groups/{group['id']}/delete/", form)
    assert response.status_code == 302
    rows = DirectoryUser.objects.filter(connection=conn)
    assert not any(_in_support(r, ws) for r in rows)
    person = admin_client.get(f"/people/{member.email}/").content.decode()
    if kind == "retool":
        assert "|Support|" not in DirectoryUser.objects.get(pk=member.pk).group_names
        assert '<span class="chip">Support</span>' not in person


def test_it_detects_a_tooljet_edit_conflict(simulator, probed_connection, admin_client):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    url = f"/connections/{conn.slug}/groups/{group['id']}/edit/?ws={ws}"
    version = hidden(admin_client.get(url).content.decode(), "version")
    with sim.app.lock:
        group["permissions"]["workflowCreate"] = True
    response = admin_client.post(url, reason(ws=ws, name="Support", version=version, perm_appDelete="on"))
    html = response.content.decode()
    assert response.status_code == 200 and "changed upstream since you opened the form" in html
    assert "Current settings upstream vs your form" in html
    # the panel lines up what changed upstream against what the form asked for
    assert re.search(
        r'class="diff-changed"><th scope="row">Create workflows</th><td>yes</td><td>no</td>', html
    )
    assert re.search(r'class="diff-changed"><th scope="row">Delete apps</th><td>no</td><td>yes</td>', html)
    assert re.search(r'<tr ><th scope="row">Name</th><td>Support</td><td>Support</td>', html)
    assert not group["permissions"]["appDelete"]
    assert audit_rows("group.update")[0].outcome == "failure"
    # saving again from the refreshed form goes through
    response = admin_client.post(
        url, reason(ws=ws, name="Support", version=hidden(html, "version"), perm_appDelete="on")
    )
    assert response.status_code == 302 and group["permissions"]["appDelete"]


def test_it_writes_the_older_folder_key(simulator, probed_connection, admin_client):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    sim.state.profile = dataclasses.replace(sim.state.profile, folder_single=True)  # an older build's one key
    url = f"/connections/{conn.slug}/groups/{group['id']}/edit/?ws={ws}"
    version = hidden(admin_client.get(url).content.decode(), "version")
    response = admin_client.post(
        url, reason(ws=ws, name="Support", version=version, perm_folderCreate="on", perm_folderDelete="on")
    )
    assert response.status_code == 302
    assert group["permissions"]["folderCreate"] and group["permissions"]["folderDelete"]
    html = admin_client.get(f"/connections/{conn.slug}/groups/{group['id']}/?ws={ws}").content.decode()
    assert '<li class="ok"><span aria-hidden="true">✓</span> Create folders' in html


def test_it_deletes_a_group(simulator, probed_connection, admin_client):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Finance Analysts")
    response = admin_client.post(
        f"/connections/{conn.slug}/groups/{group['id']}/delete/",
        {"ws": ws, "delete-reason": "unused", "delete-ticket": "HELP-2"},
    )
    assert response.status_code == 302
    assert group["id"] not in sim.state.groups
    (row,) = audit_rows("group.delete")
    assert row.before["name"] == "Finance Analysts" and row.reason == "unused"


def test_it_edits_a_retool_group_preserving_members_and_invites(simulator, probed_connection, admin_client):
    sim, conn = retool(simulator, probed_connection)
    group = rt_group(sim, "Support")
    members = [dict(m) for m in group["members"]]
    group["user_invites"] = [{"id": 7, "email": "new@example.com"}]
    url = f"/connections/{conn.slug}/groups/{group['id']}/edit/"
    page = admin_client.get(url).content.decode()
    data = reason(
        name="Support",
        version=hidden(page, "version"),
        universal_app_access="edit",
        universal_resource_access="use",
        universal_workflow_access="none",
        universal_query_library_access="use",
        audit_log_access="on",
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302
    group = rt_group(sim, "Support")
    assert group["universal_app_access"] == "edit" and group["audit_log_access"] is True
    assert group["members"] == members and group["user_invites"] == [{"id": 7, "email": "new@example.com"}]
    assert audit_rows("group.update")[0].outcome == "success"


def test_it_detects_a_retool_edit_conflict(simulator, probed_connection, admin_client):
    sim, conn = retool(simulator, probed_connection)
    group = rt_group(sim, "Support")
    url = f"/connections/{conn.slug}/groups/{group['id']}/edit/"
    version = hidden(admin_client.get(url).content.decode(), "version")
    with sim.app.lock:
        group["theme_access"] = True
        group["updated_at"] = "2099-01-01T00:00:00.000Z"
    response = admin_client.post(
        url,
        reason(
            name="Support",
            version=version,
            universal_app_access="own",
            universal_resource_access="none",
            universal_workflow_access="none",
            universal_query_library_access="none",
        ),
    )
    assert response.status_code == 200
    assert "changed upstream" in response.content.decode()
    assert group["universal_app_access"] != "own"


def test_it_creates_and_deletes_a_retool_group(simulator, probed_connection, admin_client):
    sim, conn = retool(simulator, probed_connection)
    response = admin_client.post(
        f"/connections/{conn.slug}/groups/new/",
        reason(
            name="Contractors",
            universal_app_access="use",
            universal_resource_access="none",
            universal_workflow_access="none",
            universal_query_library_access="none",
        ),
    )
    assert response.status_code == 302
    group = rt_group(sim, "Contractors")
    assert group["universal_app_access"] == "use"
    response = admin_client.post(
        f"/connections/{conn.slug}/groups/{group['id']}/delete/", {"delete-reason": "done"}
    )
    assert response.status_code == 302
    assert all(g["name"] != "Contractors" for g in sim.state.groups.values())
    # the same delete again, from a tab that still shows the group: back to the list with a plain word
    response = admin_client.post(
        f"/connections/{conn.slug}/groups/{group['id']}/delete/", {"delete-reason": "done"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/connections/{conn.slug}/groups/"
    assert "it was deleted elsewhere. Nothing was changed." in response.content.decode()


def test_builtin_groups_carry_warnings(simulator, probed_connection, admin_client):
    sim, conn = retool(simulator, probed_connection)
    for name, words in (
        ("editor", "default editors"),
        ("viewer", "default viewers"),
        ("All Users", "every user"),
    ):
        html = admin_client.get(
            f"/connections/{conn.slug}/groups/{rt_group(sim, name)['id']}/"
        ).content.decode()
        assert words in html


@pytest.mark.parametrize("persona", ["helpdesk_client", "viewer_client"])
def test_only_admins_create_edit_and_delete(simulator, probed_connection, persona, request):
    client = request.getfixturevalue(persona)
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    base = f"/connections/{conn.slug}/groups"
    assert client.get(f"{base}/new/?ws={ws}").status_code == 403
    assert client.post(f"{base}/new/", reason(ws=ws, name="Nope")).status_code == 403
    assert client.get(f"{base}/{group['id']}/edit/?ws={ws}").status_code == 403
    assert client.post(f"{base}/{group['id']}/edit/", reason(ws=ws, name="Nope")).status_code == 403
    assert client.post(f"{base}/{group['id']}/delete/", {"ws": ws, "delete-reason": "x"}).status_code == 403
    assert group["name"] == "Support" and group["id"] in sim.state.groups
    html = client.get(f"{base}/?ws={ws}").content.decode()
    assert "New group" not in html


def test_helpdesk_cannot_edit_but_sees_member_controls(simulator, probed_connection, helpdesk_client):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    html = helpdesk_client.get(f"/connections/{conn.slug}/groups/{group['id']}/?ws={ws}").content.decode()
    assert "Delete group" not in html and "/edit/" not in html
    assert "Add to Support" in html and "Remove" in html


def test_the_tooljet_edit_form_shows_the_existing_granular_permissions(
    simulator, probed_connection, admin_client
):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Finance Analysts", ws)
    url = f"/connections/{conn.slug}/groups/{group['id']}/edit/?ws={ws}"
    version = hidden(admin_client.get(url).content.decode(), "version")
    form = {"ws": ws, "name": "Finance Analysts", "version": version, "g0_type": "app"}
    form |= {"g0_resources": "Sales Dashboard", "g0_access": "edit"}
    assert admin_client.post(url, reason(**form)).status_code == 302
    html = admin_client.get(url).content.decode()
    assert "Granular permissions now" in html
    table = html[html.index("Granular permissions now") : html.index("to add or change")]
    assert "Sales Dashboard" in table and "edit" in table and "cannot remove an entry" in table


def test_a_tooljet_group_name_follows_the_instance_rule(simulator, probed_connection, admin_client):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    page = admin_client.get(f"/connections/{conn.slug}/groups/new/?ws={ws}").content.decode()
    assert re.search(r'name="name"[^>]*maxlength="50"', page)
    response = admin_client.post(
        f"/connections/{conn.slug}/groups/new/", reason(ws=ws, name="Équipe Finance")
    )
    html = response.content.decode()
    assert response.status_code == 200 and "ASCII letters" in html and "“É”" in html
