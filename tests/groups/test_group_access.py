from __future__ import annotations

from tests.groups.helpers import audit_rows, reason, retool, rt_group, tj_group, tooljet, ws_id


def _folder(sim, name: str) -> dict:
    return next(f for f in sim.state.folders.values() if f["name"] == name and f["folder_type"] == "app")


def _grants(sim, group) -> dict:
    return sim.state.grants.get(("group", group["id"]), {})


def test_it_shows_the_folder_tree_with_the_groups_levels(simulator, probed_connection, viewer_client):
    sim, conn = retool(simulator, probed_connection)
    support = rt_group(sim, "Support")
    finance = _folder(sim, "Finance tools")
    sim.state.grants.setdefault(("group", support["id"]), {})[("folder", finance["id"])] = "edit"
    html = viewer_client.get(f"/connections/{conn.slug}/groups/{support['id']}/").content.decode()
    assert 'id="access-panel"' in html
    row = html.split(f'data-object="folder:{finance["id"]}"')[1].split("</tr>")[0]
    assert "Finance tools" in row and "<td>edit</td>" in row and "direct" in row
    app = next(a for a in sim.state.apps.values() if a["folder_id"] == finance["id"])
    app_row = html.split(f'data-object="app:{app["id"]}"')[1].split("</tr>")[0]
    assert "inherited from folder" in app_row and "<td>edit</td>" in app_row
    assert "access-grant" not in html  # viewers read


def test_it_shows_universal_access_as_such(simulator, probed_connection, viewer_client):
    sim, conn = retool(simulator, probed_connection)
    admin = rt_group(sim, "admin")
    html = viewer_client.get(f"/connections/{conn.slug}/groups/{admin['id']}/").content.decode()
    assert "Universal access: <strong>own</strong>" in html
    assert "universal</td>" in html


def test_it_grants_and_revokes_a_folder_with_an_audit_row(
    simulator, probed_connection, helpdesk_client, htmx_headers
):
    sim, conn = retool(simulator, probed_connection)
    support = rt_group(sim, "Support")
    reports = _folder(sim, "Reports")
    url = f"/connections/{conn.slug}/groups/{support['id']}/access/"
    response = helpdesk_client.post(
        url + "grant/",
        {
            "access-object": f"folder:{reports['id']}",
            "access-level": "use",
            "access-reason": "new team",
            "access-ticket": "T-1",
        },
        headers=htmx_headers,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="access-panel"' in html
    assert "now has use on" in html
    assert _grants(sim, support)[("folder", reports["id"])] == "use"
    (row,) = audit_rows("group.access_grant")
    assert row.outcome == "success" and row.before["level"] is None and row.after["level"] == "use"
    assert row.reason == "new team" and row.ticket == "T-1" and row.target_repr == "Support"
    response = helpdesk_client.post(
        url + "revoke/", reason(object=f"folder:{reports['id']}"), headers=htmx_headers
    )
    assert "revoked" in response.content.decode()
    assert ("folder", reports["id"]) not in _grants(sim, support)
    (row,) = audit_rows("group.access_revoke")
    assert row.before["level"] == "use" and row.after["level"] is None


def test_it_refuses_own_to_helpdesk_and_records_the_denial(
    simulator, probed_connection, helpdesk_client, htmx_headers
):
    sim, conn = retool(simulator, probed_connection)
    support = rt_group(sim, "Support")
    reports = _folder(sim, "Reports")
    page = helpdesk_client.get(f"/connections/{conn.slug}/groups/{support['id']}/").content.decode()
    assert '<option value="own">' not in page and "Only admins of this console may grant" in page
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/groups/{support['id']}/access/grant/",
        {"access-object": f"folder:{reports['id']}", "access-level": "own", "access-reason": "x"},
        headers=htmx_headers,
    )
    assert response.status_code == 403
    assert ("folder", reports["id"]) not in _grants(sim, support)
    (row,) = audit_rows("group.access_grant")
    assert row.outcome == "denied"


def test_it_lets_an_admin_grant_own(simulator, probed_connection, admin_client, htmx_headers):
    sim, conn = retool(simulator, probed_connection)
    support = rt_group(sim, "Support")
    app = next(iter(sim.state.apps.values()))
    response = admin_client.post(
        f"/connections/{conn.slug}/groups/{support['id']}/access/grant/",
        {"access-object": f"app:{app['id']}", "access-level": "own", "access-reason": "owner"},
        headers=htmx_headers,
    )
    assert response.status_code == 200
    assert _grants(sim, support)[("app", app["id"])] == "own"


def test_it_refuses_an_object_not_on_the_panel(simulator, probed_connection, helpdesk_client, htmx_headers):
    sim, conn = retool(simulator, probed_connection)
    support = rt_group(sim, "Support")
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/groups/{support['id']}/access/grant/",
        {"access-object": "folder:app_999", "access-level": "use", "access-reason": "x"},
        headers=htmx_headers,
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not audit_rows("group.access_grant")


def test_it_refuses_grants_where_the_instance_cannot_grant(
    simulator, probed_connection, helpdesk_client, htmx_headers
):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    group = tj_group(sim, "Support")
    page = helpdesk_client.get(f"/connections/{conn.slug}/groups/{group['id']}/?ws={ws}").content.decode()
    assert 'id="access-panel"' in page and "access-grant-form" not in page
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/groups/{group['id']}/access/grant/",
        {"ws": ws, "access-object": "app:x", "access-level": "use", "access-reason": "x"},
        headers=htmx_headers,
    )
    assert response.status_code == 409


def test_it_leaves_the_admin_groups_access_to_admin_operators(
    simulator, probed_connection, helpdesk_client, htmx_headers
):
    sim, conn = retool(simulator, probed_connection)
    admin = rt_group(sim, "admin")
    reports = _folder(sim, "Reports")
    page = helpdesk_client.get(f"/connections/{conn.slug}/groups/{admin['id']}/").content.decode()
    assert 'id="access-panel"' in page and "access-grant-form" not in page
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/groups/{admin['id']}/access/grant/",
        {"access-object": f"folder:{reports['id']}", "access-level": "use", "access-reason": "x"},
        headers=htmx_headers,
    )
    assert response.status_code == 403
    assert not _grants(sim, admin)
    assert audit_rows("group.access_grant")[0].outcome == "denied"
