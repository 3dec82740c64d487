"""Which apps a person can use on one instance (the user detail's apps panel)."""

from __future__ import annotations

from apps.connections.clients import get_provider


def _retool_user(sim, *, in_groups: bool):
    index = {m["id"] for g in sim.state.groups.values() if g["name"] != "All Users" for m in g["members"]}
    return next(u for u in sim.state.users.values() if (u["id"] in index) == in_groups)


def test_it_loads_the_apps_panel_after_the_page(simulator, probed_connection, viewer_client):
    sim = simulator("retool", profile="enterprise", users=6)
    conn = probed_connection(sim)
    user = _retool_user(sim, in_groups=False)
    html = viewer_client.get(f"/connections/{conn.slug}/users/{user['id']}/").content.decode()
    assert f'hx-get="/connections/{conn.slug}/users/{user["id"]}/apps/"' in html
    assert 'hx-trigger="load"' in html


def test_it_lists_a_retool_persons_apps_with_their_sources(
    simulator, probed_connection, viewer_client, htmx_headers
):
    sim = simulator("retool", profile="enterprise", users=6)
    conn = probed_connection(sim)
    for group in sim.state.groups.values():
        if group["name"] == "All Users":
            group["universal_app_access"] = "none"
    user = _retool_user(sim, in_groups=False)
    apps = {a["name"]: a for a in sim.state.apps.values()}
    reports = next(f for f in sim.state.folders.values() if f["name"] == "Reports")
    sim.state.grants[("user", user["id"])] = {
        ("app", apps["Sales dashboard"]["id"]): "own",
        ("folder", reports["id"]): "use",
    }
    response = viewer_client.get(f"/connections/{conn.slug}/users/{user['id']}/apps/", headers=htmx_headers)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="apps-panel"' in html
    sales = html.split(f'data-app="{apps["Sales dashboard"]["id"]}"')[1].split("</tr>")[0]
    assert "<td>own</td>" in sales and "<td>direct</td>" in sales
    in_reports = next(a for a in sim.state.apps.values() if a["folder_id"] == reports["id"])
    row = html.split(f'data-app="{in_reports["id"]}"')[1].split("</tr>")[0]
    assert "<td>use</td>" in row and "inherited from folder Reports" in row
    assert apps["Customer 360"]["id"] not in html  # nothing grants it


def test_it_names_the_group_a_retool_person_uses_an_app_through(
    simulator, probed_connection, viewer_client, htmx_headers
):
    sim = simulator("retool", profile="enterprise", users=6)
    conn = probed_connection(sim)
    editor = next(g for g in sim.state.groups.values() if g["name"] == "editor")
    user = sim.state.users[editor["members"][0]["id"]]
    html = viewer_client.get(
        f"/connections/{conn.slug}/users/{user['id']}/apps/", headers=htmx_headers
    ).content.decode()
    app = next(iter(sim.state.apps.values()))
    row = html.split(f'data-app="{app["id"]}"')[1].split("</tr>")[0]
    assert "<td>edit</td>" in row and "via group" in row


def test_it_lists_a_tooljet_persons_apps_through_their_groups(simulator, probed_connection, viewer_client):
    sim = simulator("tooljet", profile="latest", users=8, seed=2)
    conn = probed_connection(sim)
    provider = get_provider(conn)
    ws = next(w for w in provider.list_workspaces() if list(provider.iter_apps(w.id)))
    app = next(iter(provider.iter_apps(ws.id)))
    group = provider.create_group(
        "Auditors",
        workspace_id=ws.id,
        granular_permissions=[
            {"type": "app", "applyToAll": False, "resources": [app.id], "permissions": {"canEdit": False}}
        ],
    )
    person = next(u for u in provider.iter_users() if u.membership(ws.id))
    provider.patch_membership(person.id, ws.id, groups=[group.id])
    html = viewer_client.get(f"/connections/{conn.slug}/users/{person.id}/apps/").content.decode()
    assert "<html" in html  # a plain request gets the whole page
    row = html.split(f'data-app="{app.id}"')[1].split("</tr>")[0]
    assert app.name in row and "<td>use</td>" in row and "via group Auditors" in row


def test_it_revokes_a_persons_own_grants_with_an_audit_row(
    simulator, probed_connection, helpdesk_client, htmx_headers
):
    from apps.audit.models import AuditEvent

    sim = simulator("retool", profile="enterprise", users=6)
    conn = probed_connection(sim)
    for group in sim.state.groups.values():
        if group["name"] == "All Users":
            group["universal_app_access"] = "none"
    user = _retool_user(sim, in_groups=False)
    apps = {a["name"]: a for a in sim.state.apps.values()}
    reports = next(f for f in sim.state.folders.values() if f["name"] == "Reports")
    sim.state.grants[("user", user["id"])] = {
        ("app", apps["Sales dashboard"]["id"]): "edit",
        ("folder", reports["id"]): "use",
    }
    url = f"/connections/{conn.slug}/users/{user['id']}/apps/"
    panel = helpdesk_client.get(url, headers=htmx_headers).content.decode()
    assert f'value="folder:{reports["id"]}"' in panel and "Revoke the folder grant" in panel
    response = helpdesk_client.post(
        url + "revoke/", {"object": f"folder:{reports['id']}", "reason": "left finance"}, headers=htmx_headers
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Access to Reports revoked." in html
    assert sim.state.grants[("user", user["id"])] == {("app", apps["Sales dashboard"]["id"]): "edit"}
    row = AuditEvent.objects.get(action="user.access_revoke")
    assert row.outcome == "success" and row.before["level"] == "use" and row.after["level"] is None
    assert row.target_id == user["id"] and row.reason == "left finance"
    refused = helpdesk_client.post(
        url + "revoke/", {"object": "app:not-shown", "reason": "x"}, headers=htmx_headers
    )
    assert "Select a valid choice" in refused.content.decode()


def test_it_leaves_own_grants_to_admin_operators(simulator, probed_connection, helpdesk_client, htmx_headers):
    sim = simulator("retool", profile="enterprise", users=6)
    conn = probed_connection(sim)
    user = _retool_user(sim, in_groups=False)
    app = next(iter(sim.state.apps.values()))
    sim.state.grants[("user", user["id"])] = {("app", app["id"]): "own"}
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/users/{user['id']}/apps/revoke/",
        {"object": f"app:{app['id']}", "reason": "x"},
        headers=htmx_headers,
    )
    assert response.status_code == 403
    assert sim.state.grants[("user", user["id"])] == {("app", app["id"]): "own"}
