from __future__ import annotations

import csv
import io

from tests.groups.helpers import retool, rt_group, tj_group, tooljet, ws_id


def _two_tooljets(simulator, probed_connection):
    (a, left), (b, right) = tooljet(simulator, probed_connection), tooljet(simulator, probed_connection)
    ws_a, ws_b = ws_id(a), ws_id(b)
    with b.app.lock:
        tj_group(b, "Support", ws_b)["permissions"]["appCreate"] = True
        b.state.add_custom_group(ws_b, "Prod Only")
    return a, left, ws_a, b, right, ws_b


def test_it_compares_two_tooljet_workspaces(simulator, probed_connection, viewer_client):
    a, left, ws_a, b, right, ws_b = _two_tooljets(simulator, probed_connection)
    query = f"left={left.slug}&left_ws={ws_a}&right={right.slug}&right_ws={ws_b}"
    response = viewer_client.get(f"/groups/drift/?{query}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Prod Only" in html and "— (no such group)" in html
    assert "drift-differs" in html
    assert f'href="/groups/drift.csv?{query.replace("&", "&amp;")}"' in html
    # the same workspace on both sides has no difference
    same = viewer_client.get(f"/groups/drift/?left={left.slug}&right={left.slug}").content.decode()
    assert "0 differences" in same


def test_it_downloads_the_drift_as_csv(simulator, probed_connection, viewer_client):
    a, left, ws_a, b, right, ws_b = _two_tooljets(simulator, probed_connection)
    response = viewer_client.get(
        f"/groups/drift.csv?left={left.slug}&left_ws={ws_a}&right={right.slug}&right_ws={ws_b}"
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="group-drift.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:2] == ["group", "setting"]
    assert ["Support", "Create apps", "no", "yes", "yes"] in rows
    assert ["Support", "Delete apps", "no", "no", ""] in rows
    assert any(r[0] == "Prod Only" and r[1] == "exists" and r[4] == "yes" for r in rows)


def test_it_compares_granular_permissions_by_app_name(
    simulator, probed_connection, admin_client, viewer_client
):
    a, left, ws_a, b, right, ws_b = _two_tooljets(simulator, probed_connection)
    for sim, conn, ws in ((a, left, ws_a), (b, right, ws_b)):
        admin_client.post(
            f"/connections/{conn.slug}/groups/{tj_group(sim, 'Finance Analysts', ws)['id']}/edit/",
            {
                "ws": ws,
                "name": "Finance Analysts",
                "g0_type": "app",
                "g0_resources": "Sales Dashboard",
                "reason": "same on both",
                "version": "",
            },
        )
    rows = list(
        csv.reader(
            io.StringIO(
                viewer_client.get(f"/groups/drift.csv?left={left.slug}&right={right.slug}").content.decode()
            )
        )
    )
    granular = [r for r in rows if r[0] == "Finance Analysts" and r[1] == "granular: app"]
    assert granular == [
        ["Finance Analysts", "granular: app", "Sales Dashboard: view", "Sales Dashboard: view", ""]
    ]


def test_it_compares_two_retool_instances(simulator, probed_connection, viewer_client):
    (_a, left), (b, right) = retool(simulator, probed_connection), retool(simulator, probed_connection)
    with b.app.lock:
        rt_group(b, "viewer")["universal_app_access"] = "edit"
    html = viewer_client.get(f"/groups/drift/?left={left.slug}&right={right.slug}").content.decode()
    assert "1 difference" in html
    assert "<td>Apps</td><td>use</td><td>edit</td>" in html


def test_it_says_when_a_side_has_no_groups(simulator, probed_connection, viewer_client):
    (_a, left), (_b, right) = (
        tooljet(simulator, probed_connection),
        tooljet(simulator, probed_connection, profile="lts-3.16"),
    )
    html = viewer_client.get(f"/groups/drift/?left={left.slug}&right={right.slug}").content.decode()
    assert "no groups API" in html
    assert "difference" not in html


def test_the_form_renders_empty_and_requires_login(viewer_client, client):
    assert viewer_client.get("/groups/drift/").status_code == 200
    assert client.get("/groups/drift/").status_code == 302


def test_it_shows_differences_only_by_default_and_every_row_on_request(
    simulator, probed_connection, viewer_client
):
    (_a, left), (_b, right) = retool(simulator, probed_connection), retool(simulator, probed_connection)
    html = viewer_client.get(f"/groups/drift/?left={left.slug}&right={right.slug}").content.decode()
    assert "0 differences" in html and "No differences" in html and "<td>Apps</td>" not in html
    everything = viewer_client.get(
        f"/groups/drift/?left={left.slug}&right={right.slug}&only_diff=0"
    ).content.decode()
    assert "<td>Apps</td><td>use</td><td>use</td>" in everything
    both = viewer_client.get(
        f"/groups/drift/?left={left.slug}&right={right.slug}&only_diff=0&only_diff=1"
    ).content.decode()
    assert "<td>Apps</td>" not in both  # the checkbox ticked after its hidden "0"


def test_it_offers_only_connections_with_a_groups_api(simulator, probed_connection, viewer_client):
    _sim, with_groups = tooljet(simulator, probed_connection)
    _old, without = tooljet(simulator, probed_connection, profile="lts-3.16")
    html = viewer_client.get("/groups/drift/").content.decode()
    assert f'value="{with_groups.slug}"' in html and f'value="{without.slug}"' not in html


def test_it_lists_membership_drift_by_email_from_the_index(simulator, probed_connection, viewer_client):
    from apps.directory.services import directory_sync

    (_a, left), (b, right) = retool(simulator, probed_connection), retool(simulator, probed_connection)
    support_b = rt_group(b, "Support")
    gone = b.state.users[support_b["members"][0]["id"]]["email"]
    with b.app.lock:
        support_b["members"] = support_b["members"][1:]
    directory_sync(connection=left)
    directory_sync(connection=right)
    html = viewer_client.get(f"/groups/drift/?left={left.slug}&right={right.slug}").content.decode()
    assert "members only here (e-mail, from the index)" in html and gone in html
