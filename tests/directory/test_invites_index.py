"""Pending invites where people are looked for: the sync indexes Retool invites and ToolJet's invited accounts as
"invited" rows, and the global search and the person page say so."""

from __future__ import annotations

import re

from apps.directory.models import DirectoryUser
from apps.directory.services import directory_sync


def test_it_indexes_pending_and_expired_invites_but_not_claimed_ones(synced):
    sim, connection = synced("retool", "enterprise")
    rows = {r.email: r for r in DirectoryUser.objects.filter(connection=connection, status="invited")}
    assert set(rows) == {"pending.invitee@example.com", "late.invitee@example.com"}
    pending = rows["pending.invitee@example.com"]
    assert pending.remote_id.startswith("invite:") and not pending.active
    assert pending.invite["state"] == "pending" and pending.invite["expires_at"]
    assert pending.groups[0]["name"] == "Support" and "|Support|" in pending.group_names
    assert rows["late.invitee@example.com"].invite["state"] == "expired"


def test_it_rewrites_no_row_when_nothing_changed_and_drops_a_revoked_invite(synced):
    sim, connection = synced("retool", "enterprise")
    again = directory_sync(connection=connection)
    assert again.status == "ok" and again.written == 0
    invite_id = next(
        i for i, v in sim.app.state.invites.items() if v["invited_email"] == "late.invitee@example.com"
    )
    del sim.app.state.invites[invite_id]
    sim.app.state.add_invite(email="fresh.invitee@example.com")
    after = directory_sync(connection=connection)
    assert after.written == 2  # one row gone, one new
    emails = set(
        DirectoryUser.objects.filter(connection=connection, status="invited").values_list("email", flat=True)
    )
    assert emails == {"pending.invitee@example.com", "fresh.invitee@example.com"}


def test_the_search_shows_a_pending_invite_with_its_expiry(synced, viewer_client):
    sim, connection = synced("retool", "enterprise")
    html = viewer_client.get("/?q=pending.invitee").content.decode()
    assert re.search(r"invited, pending \(expires \d{4}-\d\d-\d\d\)", html)
    assert f"/connections/{connection.slug}/invites/" in html
    html = viewer_client.get("/?q=late.invitee").content.decode()
    assert "invited, expired" in html


def test_the_person_page_shows_the_invite_and_who_sent_it(synced, viewer_client):
    sim, connection = synced("retool", "enterprise")
    html = viewer_client.get("/people/pending.invitee@example.com/").content.decode()
    assert "invited, pending (expires" in html
    admin = next(iter(sim.app.state.users.values()))["email"]
    assert f"by {admin}" in html


def test_a_tooljet_invited_account_reads_as_a_pending_invite(synced, viewer_client):
    sim, connection = synced("tooljet", "latest")
    row = DirectoryUser.objects.get(connection=connection, email="aoife.nibhriain@example.com")
    assert row.status == "invited" and row.invite is None
    html = viewer_client.get("/?q=aoife").content.decode()
    assert "invited, pending" in html
    assert f"/connections/{connection.slug}/users/{row.remote_id}/" in html


def test_a_business_connection_indexes_its_invites_for_search(synced, viewer_client):
    sim, connection = synced("retool", "business")
    html = viewer_client.get("/?q=pending.invitee").content.decode()
    assert "invited, pending (expires" in html
    html = viewer_client.get(f"/connections/{connection.slug}/users/").content.decode()
    assert "pending.invitee@example.com" in html and "Business plan has no users API" in html
