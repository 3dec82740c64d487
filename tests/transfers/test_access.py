"""Who can use an app: the app page (both products) and the fleet access review with its CSV."""

from __future__ import annotations

import csv
import io

from apps.connections.clients import get_provider
from apps.directory.services import index_upsert_user


def _retool(simulator, probed_connection, name: str, **kw):
    sim = simulator("retool", profile="enterprise", users=6, **kw)
    return sim, probed_connection(sim, name=name)


def _rt_app(sim, name: str) -> dict:
    return next(a for a in sim.state.apps.values() if a["name"] == name)


def _rt_group(sim, name: str) -> dict:
    return next(g for g in sim.state.groups.values() if g["name"] == name)


def _rt_folder(sim, name: str) -> dict:
    return next(f for f in sim.state.folders.values() if f["name"] == name and f["folder_type"] == "app")


def _row(html: str, subject: str) -> str:
    return html.split(f'data-subject="{subject}"')[1].split("</tr>")[0]


def test_it_lists_groups_and_people_who_can_use_a_retool_app(simulator, probed_connection, viewer_client):
    sim, conn = _retool(simulator, probed_connection, "Retool prod")
    finance = _rt_folder(sim, "Finance tools")
    app = next(a for a in sim.state.apps.values() if a["folder_id"] == finance["id"])
    support = _rt_group(sim, "Support")
    support["universal_app_access"] = "none"
    sim.state.grants[("group", support["id"])] = {("folder", finance["id"]): "use"}
    html = viewer_client.get(f"/connections/{conn.slug}/apps/{app['id']}/").content.decode()
    assert 'id="who-can-use"' in html
    row = _row(html, f"group:{support['id']}")
    assert ">Support</a>" in row and "<td>use</td>" in row and "inherited from folder Finance tools" in row
    assert f"/connections/{conn.slug}/groups/{support['id']}/" in row
    admin = _rt_group(sim, "admin")
    assert "universal" in _row(html, f"group:{admin['id']}")
    member = sim.state.users[admin["members"][0]["id"]]
    person = _row(html, f"user:{member['id']}")
    assert member["email"] in person and "via group" in person and "admin" in person


def test_it_lists_tooljet_groups_and_their_members_from_the_index(
    simulator, probed_connection, viewer_client
):
    sim = simulator("tooljet", profile="latest", users=8, seed=2)
    conn = probed_connection(sim)
    provider = get_provider(conn)
    ws = next(w for w in provider.list_workspaces() if list(provider.iter_apps(w.id)))
    app = next(iter(provider.iter_apps(ws.id)))
    group = provider.create_group(
        "Auditors",
        workspace_id=ws.id,
        granular_permissions=[
            {"type": "app", "applyToAll": False, "resources": [app.id], "permissions": {"canEdit": True}}
        ],
    )
    person = next(u for u in provider.iter_users() if u.membership(ws.id))
    current = [g.id for g in person.membership(ws.id).groups]
    provider.patch_membership(person.id, ws.id, groups=[*current, group.id])
    index_upsert_user(connection=conn, user=provider.get_user(person.id))
    html = viewer_client.get(f"/connections/{conn.slug}/apps/{app.id}/?workspace={ws.id}").content.decode()
    assert "edit" in _row(html, f"group:{group.id}")
    row = _row(html, f"user:{person.id}")
    assert person.email in row and "via group Auditors" in row and "<td>edit</td>" in row
    assert f"/groups/{group.id}/?ws={ws.id}" in row


def test_it_says_when_the_instance_cannot_tell(simulator, probed_connection, viewer_client):
    sim = simulator("retool", profile="business")
    conn = probed_connection(sim)
    app = next(iter(sim.state.apps.values()))
    html = viewer_client.get(f"/connections/{conn.slug}/apps/{app['id']}/").content.decode()
    assert 'id="who-can-use"' not in html


def test_the_fleet_access_review_csv_has_a_row_per_person_instance_and_app(
    simulator, probed_connection, viewer_client
):
    prod, prod_conn = _retool(simulator, probed_connection, "Retool prod", seed=1)
    eu, eu_conn = _retool(simulator, probed_connection, "Retool EU", seed=3)
    owner = next(iter(eu.state.users.values()))
    eu_app = _rt_app(eu, "Sales dashboard")
    eu.state.grants[("user", owner["id"])] = {("app", eu_app["id"]): "own"}
    # only the people in a group that can use apps, and the direct grant
    expected = set()
    for sim, conn in ((prod, prod_conn), (eu, eu_conn)):
        for group in sim.state.groups.values():
            if group["universal_app_access"] != "none":
                expected |= {(sim.state.users[m["id"]]["email"], conn.name) for m in group["members"]}
    expected.add((owner["email"], eu_conn.name))
    response = viewer_client.get("/apps/access.csv?name=sales%20DASHBOARD")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="access-sales-dashboard.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["person", "instance", "workspace", "app", "level", "source", "revoke at"]
    body = rows[1:]
    assert {(r[0], r[1]) for r in body} == expected
    assert len(body) == len(expected)
    assert {r[3] for r in body} == {"Sales dashboard"}
    mine = next(r for r in body if r[0] == owner["email"] and r[1] == eu_conn.name)
    assert mine[4] == "own" and mine[5] == "direct"
    assert mine[6] == f"http://testserver/connections/{eu_conn.slug}/users/{owner['id']}/apps/"
    page = viewer_client.get("/apps/access/?name=Sales+dashboard").content.decode()
    assert f"{len(expected)} accesses to 2 apps" in page and "Download CSV" in page


def test_the_fleet_access_review_needs_a_name(viewer_client):
    assert viewer_client.get("/apps/access.csv").status_code == 400
    assert "Review access" in viewer_client.get("/apps/access/").content.decode()
