"""A Retool group's page lists the invites that will put people in it."""

from __future__ import annotations

from apps.people import invites


def test_the_group_page_lists_its_pending_invites(simulator, probed_connection, admin_client, operator_admin):
    sim = simulator("retool", users=6)
    connection = probed_connection(sim)
    support = next(g for g in sim.app.state.groups.values() if g["name"] == "Support")
    invites.invite_create(
        actor=operator_admin, connection=connection, email="new.support@example.com", group_names=["Support"]
    )
    html = admin_client.get(f"/connections/{connection.slug}/groups/{support['id']}/").content.decode()
    assert "Pending invites" in html
    section = html.split("Pending invites", 1)[1]
    assert "pending.invitee@example.com" in section and "new.support@example.com" in section
    assert f"/connections/{connection.slug}/invites/" in section
    finance = next(g for g in sim.app.state.groups.values() if g["name"] == "Finance")
    html = admin_client.get(f"/connections/{connection.slug}/groups/{finance['id']}/").content.decode()
    assert "Pending invites" not in html


def test_an_expired_invite_is_not_listed_on_the_group(simulator, probed_connection, admin_client):
    sim = simulator("retool", users=6)
    connection = probed_connection(sim)
    support = next(g for g in sim.app.state.groups.values() if g["name"] == "Support")
    sim.app.state.add_invite(email="old.support@example.com", group_ids=[support["id"]], created=0)
    html = admin_client.get(f"/connections/{connection.slug}/groups/{support['id']}/").content.decode()
    assert "old.support@example.com" not in html and "pending.invitee@example.com" in html
