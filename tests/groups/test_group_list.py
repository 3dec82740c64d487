from __future__ import annotations

import pytest

from tests.groups.helpers import retool, tooljet, ws_id


def test_it_lists_tooljet_custom_groups_of_the_first_workspace(simulator, probed_connection, viewer_client):
    sim, conn = tooljet(simulator, probed_connection)
    response = viewer_client.get(f"/connections/{conn.slug}/groups/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Support", "Finance Analysts", "App Builders"):
        assert name in html
    assert "Acme Production" in html  # the workspace picker defaults to the first
    assert "Default role groups" in html and "Read-only here" in html


def test_it_searches_and_pages_on_the_server(simulator, probed_connection, viewer_client, htmx_headers):
    sim, conn = tooljet(simulator, probed_connection)
    ws = ws_id(sim)
    for i in range(30):
        sim.state.add_custom_group(ws, f"Team {i:02d}")
    url = f"/connections/{conn.slug}/groups/?ws={ws}&q=team&page=2"
    response = viewer_client.get(url, headers=htmx_headers)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "30 groups" in html and "Page 2 of 2" in html
    assert "Support" not in html


def test_it_switches_workspace(simulator, probed_connection, viewer_client):
    sim, conn = tooljet(simulator, probed_connection)
    staging = ws_id(sim, "Acme Staging")
    sim.state.add_custom_group(staging, "Staging Only")
    html = viewer_client.get(f"/connections/{conn.slug}/groups/?ws={staging}").content.decode()
    assert "Staging Only" in html
    assert viewer_client.get(f"/connections/{conn.slug}/groups/?ws=nope").status_code == 404


def test_it_shows_groups_unavailable_on_older_tooljet(simulator, probed_connection, admin_client):
    sim, conn = tooljet(simulator, probed_connection, profile="lts-3.16")
    response = admin_client.get(f"/connections/{conn.slug}/groups/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Groups are not available on this connection" in html
    assert "no groups API" in html
    assert "New group" not in html


def test_it_shows_groups_unavailable_on_retool_business(simulator, probed_connection, admin_client):
    sim, conn = retool(simulator, probed_connection, profile="business")
    html = admin_client.get(f"/connections/{conn.slug}/groups/").content.decode()
    assert "Groups are not available on this connection" in html
    assert "groups" in html


def test_it_lists_retool_groups_with_member_counts(simulator, probed_connection, viewer_client):
    sim, conn = retool(simulator, probed_connection)
    html = viewer_client.get(f"/connections/{conn.slug}/groups/").content.decode()
    for name in ("admin", "editor", "viewer", "All Users"):
        assert f">{name}</a>" in html
    all_users = next(g for g in sim.state.groups.values() if g["name"] == "All Users")
    assert f"<td>{len(all_users['members'])}</td>" in html


@pytest.mark.parametrize("persona", ["stranger_client"])
def test_it_requires_a_role(simulator, probed_connection, persona, request):
    sim, conn = tooljet(simulator, probed_connection)
    assert request.getfixturevalue(persona).get(f"/connections/{conn.slug}/groups/").status_code == 403


def test_it_404s_for_unknown_connections(admin_client):
    assert admin_client.get("/connections/nope/groups/").status_code == 404


@pytest.mark.parametrize("kind", ["tooljet", "retool"])
def test_a_malformed_group_id_is_a_404_on_the_instances_page(
    simulator, probed_connection, viewer_client, kind
):
    sim, conn = (tooljet if kind == "tooljet" else retool)(simulator, probed_connection)
    suffix = f"?ws={ws_id(sim)}" if kind == "tooljet" else ""
    response = viewer_client.get(f"/connections/{conn.slug}/groups/nope/{suffix}")
    assert response.status_code == 404
    assert "invalid input syntax" not in response.content.decode()
    assert (
        f'<nav class="subnav" aria-label="{conn.name}">' in response.content.decode()
    )  # the instance's page


def test_it_shows_an_alert_when_the_upstream_fails(simulator, probed_connection, viewer_client):
    sim, conn = tooljet(simulator, probed_connection)
    sim.faults.add(kind="status", status=503, path="/api/ext/workspaces", times=None)
    response = viewer_client.get(f"/connections/{conn.slug}/groups/")
    assert response.status_code == 502


def test_it_labels_tooljet_workspace_permissions(simulator, probed_connection, viewer_client):
    sim, conn = tooljet(simulator, probed_connection)
    html = viewer_client.get(f"/connections/{conn.slug}/groups/").content.decode()
    assert '<span class="chip">Create apps</span>' in html  # App Builders has appCreate


def test_it_shows_default_role_groups_as_locked_badges(simulator, probed_connection, viewer_client):
    sim, conn = tooljet(simulator, probed_connection)
    html = viewer_client.get(f"/connections/{conn.slug}/groups/").content.decode()
    defaults = html.split("Default role groups", 1)[1]
    assert "chip inactive" not in html  # not struck through like something removed
    assert defaults.count('class="badge badge-locked"') >= 2
    assert "default · read-only" in defaults


def test_the_search_form_is_not_styled_as_the_search_box(simulator, probed_connection, viewer_client):
    sim, conn = tooljet(simulator, probed_connection)
    html = viewer_client.get(f"/connections/{conn.slug}/groups/").content.decode()
    assert 'class="group-search" role="search"' in html
    assert '<input id="group-q" class="search-box"' in html
    assert (
        '<form method="get" action="/connections/' in html and 'class="search-box" role="search"' not in html
    )


def test_an_instance_that_did_not_answer_its_test_says_so_instead_of_lacking_groups(
    make_connection, admin_client
):
    from apps.connections.services import connection_test

    conn = make_connection(kind="retool")  # nothing listens at its address
    connection_test(actor=None, connection=conn)
    html = admin_client.get(f"/connections/{conn.slug}/groups/").content.decode()
    assert "did not answer, so its groups cannot be shown" in html
    assert "Groups are not available on this connection" not in html


def test_the_tooljet_group_list_counts_members_from_the_index(simulator, probed_connection, admin_client):
    from apps.directory.models import DirectoryUser
    from apps.directory.services import directory_sync
    from tests.groups.helpers import tooljet, ws_id

    sim, conn = tooljet(simulator, probed_connection)
    directory_sync(connection=conn)
    ws = ws_id(sim)
    support = sum(
        1
        for r in DirectoryUser.objects.filter(connection=conn)
        if any(m["workspace_id"] == ws and "Support" in m["groups"] for m in r.memberships)
    )
    assert support
    html = admin_client.get(f"/connections/{conn.slug}/groups/?ws={ws}").content.decode()
    assert "Members" in html
    row = html[html.index(">Support</a>") :]
    assert f"<td>{support}</td>" in row[: row.index("</tr>")]
