"""What the Retool group page shows from the group object, and built-in groups that cannot be deleted."""

from __future__ import annotations

from apps.connections.clients import get_provider
from apps.directory.services import index_upsert_user
from tests.groups.helpers import audit_rows, reason, retool, rt_group


def test_it_names_members_from_the_directory_index(simulator, probed_connection, viewer_client):
    sim, conn = retool(simulator, probed_connection)
    support = rt_group(sim, "Support")
    member = sim.state.users[support["members"][0]["id"]]
    index_upsert_user(connection=conn, user=get_provider(conn).get_user(member["id"]))
    html = viewer_client.get(f"/connections/{conn.slug}/groups/{support['id']}/").content.decode()
    name = f"{member['first_name']} {member['last_name']}"
    assert f"<td>{member['email']}</td>\n          <td>{name}</td>" in html


def test_it_shows_invites_landing_page_and_times(simulator, probed_connection, viewer_client):
    sim, conn = retool(simulator, probed_connection)
    support = rt_group(sim, "Support")
    app = next(iter(sim.state.apps.values()))
    support.update(
        landing_page_app_id=app["id"],
        created_at="2026-03-04T05:06:07.000Z",
        updated_at="2026-11-12T13:14:15.000Z",
    )
    assert support["user_invites"]  # the seeded pending invite
    html = viewer_client.get(f"/connections/{conn.slug}/groups/{support['id']}/").content.decode()
    assert f'Pending invites <small class="muted">{len(support["user_invites"])}</small>' in html
    assert f'<a href="/connections/{conn.slug}/apps/{app["id"]}/">{app["name"]}</a>' in html
    assert "<dt>Created</dt><dd>2026-03-04 05:06 UTC</dd>" in html
    assert "<dt>Updated</dt><dd>2026-11-12 13:14 UTC</dd>" in html


def test_it_offers_no_delete_on_builtin_groups_even_to_admins(simulator, probed_connection, admin_client):
    sim, conn = retool(simulator, probed_connection)
    for name in ("admin", "editor", "viewer", "All Users"):
        group = rt_group(sim, name)
        html = admin_client.get(f"/connections/{conn.slug}/groups/{group['id']}/").content.decode()
        assert "Delete group" not in html and "Built-in groups cannot be deleted." in html
    support = rt_group(sim, "Support")
    html = admin_client.get(f"/connections/{conn.slug}/groups/{support['id']}/").content.decode()
    assert "Delete group" in html


def test_it_refuses_to_delete_a_builtin_group(simulator, probed_connection, admin_client, htmx_headers):
    sim, conn = retool(simulator, probed_connection)
    editor = rt_group(sim, "editor")
    response = admin_client.post(
        f"/connections/{conn.slug}/groups/{editor['id']}/delete/",
        {f"delete-{k}": v for k, v in reason().items()},
        headers=htmx_headers,
    )
    assert response.status_code == 403
    assert editor["id"] in sim.state.groups
    (row,) = audit_rows("group.delete")
    assert row.outcome == "denied"
