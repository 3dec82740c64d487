"""The users list shows each Retool person's user type and last activity, kept in the index by the sync."""

from __future__ import annotations

from apps.directory.services import directory_sync


def test_it_shows_user_type_and_last_active(simulator, probed_connection, viewer_client):
    sim = simulator("retool", profile="enterprise", users=4)
    conn = probed_connection(sim)
    users = list(sim.state.users.values())
    users[0].update(user_type="mobile", last_active="2026-11-30T22:15:00.000Z")
    users[1].update(last_active=None)
    directory_sync(connection=conn)
    html = viewer_client.get(f"/connections/{conn.slug}/users/?q={users[0]['email']}").content.decode()
    assert "· mobile · last active 2026-11-30 22:15 UTC" in html
    html = viewer_client.get(f"/connections/{conn.slug}/users/?q={users[1]['email']}").content.decode()
    assert "· default · never active" in html
