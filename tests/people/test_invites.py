"""The Invites page and its changes, over real HTTP against the Retool simulator (Enterprise and Business)."""

from __future__ import annotations

import json

import pytest

from apps.audit.models import AuditEvent
from apps.directory.models import DirectoryUser
from apps.directory.services import directory_sync
from apps.people import invites
from apps.people.invites import InviteError


@pytest.fixture
def retool(simulator, probed_connection):
    """``retool(profile)`` → (simulator, probed connection) whose invite request bodies are recorded."""

    def make(profile: str = "enterprise"):
        sim = simulator("retool", profile=profile, users=8)
        sim.bodies = []
        original = sim.app.object_body

        def recording(request):
            body = original(request)
            if "/user_invites" in request.path:
                sim.bodies.append((request.method, request.path, json.loads(request.get_data() or b"{}")))
            return body

        sim.app.object_body = recording
        return sim, probed_connection(sim, slug=f"rt-{profile}")

    return make


def _sim_invites(sim) -> dict[int, dict]:
    return sim.app.state.invites


def _group_id(sim, name: str) -> int:
    return next(g["id"] for g in sim.app.state.groups.values() if g["name"] == name)


PROFILES_ = ["enterprise", "business"]


@pytest.mark.parametrize("profile", PROFILES_)
def test_it_lists_pending_expired_and_claimed_invites(retool, admin_client, profile):
    sim, connection = retool(profile)
    response = admin_client.get(f"/connections/{connection.slug}/invites/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "pending.invitee@example.com" in html
    assert 'data-invite-state="expired"' in html
    assert 'data-invite-state="claimed"' in html
    page = invites.invites_page(connection=connection)
    assert [r.invite.email for r in page.pending] == ["pending.invitee@example.com"]
    assert [r.invite.email for r in page.expired] == ["late.invitee@example.com"]
    assert len(page.claimed) == 1
    if profile == "enterprise":
        assert page.pending[0].group_names == ("Support",)
        assert "admin" in page.groups
    else:
        assert page.groups == []  # no groups API on Business
        assert "Business" in html or "plan" in html.lower()


def test_it_creates_an_invite_with_groups_metadata_and_an_attribute(retool, admin_client):
    sim, connection = retool("enterprise")
    response = admin_client.post(
        f"/connections/{connection.slug}/invites/new/",
        {
            "email": "New.Person@example.com",
            "groups": ["Support", "Finance"],
            "meta_key": ["team", ""],
            "meta_value": ["north", ""],
            "attr_department": "sales",
            "reason": "joins support",
            "ticket": "HELP-9",
        },
    )
    assert response.status_code == 302
    created = [i for i in _sim_invites(sim).values() if i["invited_email"] == "New.Person@example.com"]
    assert len(created) == 1
    invite = created[0]
    assert invite["metadata"] == {"team": "north", "department": "sales"}
    assert [g["name"] for g in invite["groups"]] == ["Support", "Finance"]
    # the bodies are §6a's, no other keys
    posts = [(m, p, b) for m, p, b in sim.bodies if m == "POST"]
    assert posts[0] == (
        "POST",
        "/api/v2/user_invites",
        {
            "email": "New.Person@example.com",
            "defaultGroupIds": [_group_id(sim, "Support"), _group_id(sim, "Finance")],
            "metadata": {"team": "north"},
        },
    )
    assert posts[1] == (
        "POST",
        f"/api/v2/user_invites/{invite['id']}/user_attributes",
        {"name": "department", "value": "sales"},
    )
    event = AuditEvent.objects.get(action="invite.create")
    assert event.target_id == str(invite["id"])
    assert event.reason == "joins support" and event.ticket == "HELP-9"
    assert event.after["groups"] == ["Support", "Finance"]
    assert "invite_link" not in json.dumps(event.after) and "/invite/" not in json.dumps(event.after)
    row = DirectoryUser.objects.get(connection=connection, remote_id=f"invite:{invite['id']}")
    assert row.status == "invited" and row.invite["state"] == "pending"
    assert row.email == "new.person@example.com"


def test_it_sends_only_the_email_when_nothing_else_is_given_on_business(retool, admin_client):
    sim, connection = retool("business")
    response = admin_client.post(
        f"/connections/{connection.slug}/invites/new/", {"email": "solo@example.com", "reason": "new hire"}
    )
    assert response.status_code == 302
    assert sim.bodies == [("POST", "/api/v2/user_invites", {"email": "solo@example.com"})]
    assert AuditEvent.objects.filter(action="invite.create", outcome="success").count() == 1


def test_it_refuses_groups_on_business_with_the_plan_as_reason(retool, operator_admin):
    sim, connection = retool("business")
    with pytest.raises(InviteError, match="groups"):
        invites.invite_create(
            actor=operator_admin, connection=connection, email="x@example.com", group_names=["Support"]
        )
    assert sim.bodies == []
    assert AuditEvent.objects.get(action="invite.create").outcome == "failure"


def test_it_sets_an_attribute_on_business(retool, admin_client):
    sim, connection = retool("business")
    response = admin_client.post(
        f"/connections/{connection.slug}/invites/new/",
        {"email": "attr@example.com", "attr_department": "finance", "reason": "r"},
    )
    assert response.status_code == 302
    invite = next(i for i in _sim_invites(sim).values() if i["invited_email"] == "attr@example.com")
    assert invite["metadata"] == {"department": "finance"}
    assert sim.bodies[-1] == (
        "POST",
        f"/api/v2/user_invites/{invite['id']}/user_attributes",
        {"name": "department", "value": "finance"},
    )


@pytest.mark.parametrize("profile", PROFILES_)
def test_it_revokes_a_pending_invite(retool, admin_client, htmx_headers, profile):
    sim, connection = retool(profile)
    directory_sync(connection=connection)
    pending = next(
        i for i in _sim_invites(sim).values() if i["invited_email"] == "pending.invitee@example.com"
    )
    assert DirectoryUser.objects.filter(remote_id=f"invite:{pending['id']}").exists()
    response = admin_client.post(
        f"/connections/{connection.slug}/invites/{pending['id']}/revoke/",
        {"reason": "left before starting", "ticket": "HR-1"},
        headers=htmx_headers,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Revoked the invite of pending.invitee@example.com." in html
    assert pending["id"] not in _sim_invites(sim)
    assert ("DELETE", f"/api/v2/user_invites/{pending['id']}") in sim.app.requests
    event = AuditEvent.objects.get(action="invite.revoke")
    assert event.before["email"] == "pending.invitee@example.com" and event.after is None
    assert event.reason == "left before starting"
    assert not DirectoryUser.objects.filter(remote_id=f"invite:{pending['id']}").exists()


def test_it_refuses_to_revoke_a_claimed_invite(retool, admin_client, htmx_headers):
    sim, connection = retool("enterprise")
    claimed = next(i for i in _sim_invites(sim).values() if i["claimed_at"])
    response = admin_client.post(
        f"/connections/{connection.slug}/invites/{claimed['id']}/revoke/",
        {"reason": "r"},
        headers=htmx_headers,
    )
    assert response.status_code == 200
    assert "accepted this invite already" in response.content.decode()
    assert claimed["id"] in _sim_invites(sim)
    assert AuditEvent.objects.get(action="invite.revoke").outcome == "failure"


@pytest.mark.parametrize("profile", PROFILES_)
def test_it_invites_again_after_an_invite_expired(retool, operator_admin, profile):
    sim, connection = retool(profile)
    old = next(i for i in _sim_invites(sim).values() if i["invited_email"] == "late.invitee@example.com")
    old["metadata"] = {"department": "ops"}
    new = invites.invite_renew(
        actor=operator_admin, connection=connection, invite_id=str(old["id"]), reason="r"
    )
    assert new.status == "pending" and new.email == "late.invitee@example.com"
    assert old["id"] not in _sim_invites(sim)
    assert sim.bodies[-1] == (
        "POST",
        "/api/v2/user_invites",
        {"email": "late.invitee@example.com", "metadata": {"department": "ops"}},
    )
    event = AuditEvent.objects.get(action="invite.renew")
    assert event.before["id"] == str(old["id"]) and event.after["id"] == new.id
    assert event.extra["replaces_invite"] == str(old["id"])
    assert DirectoryUser.objects.get(remote_id=f"invite:{new.id}").invite["state"] == "pending"


def test_it_refuses_to_renew_a_pending_invite(retool, operator_admin):
    sim, connection = retool("enterprise")
    pending = next(
        i for i in _sim_invites(sim).values() if i["invited_email"] == "pending.invitee@example.com"
    )
    with pytest.raises(InviteError, match="not expired"):
        invites.invite_renew(actor=operator_admin, connection=connection, invite_id=str(pending["id"]))
    assert pending["id"] in _sim_invites(sim)


def test_it_lets_only_admins_invite_into_an_admin_group(retool, helpdesk_client, admin_client):
    sim, connection = retool("enterprise")
    data = {"email": "boss@example.com", "groups": ["admin"], "reason": "r"}
    response = helpdesk_client.post(f"/connections/{connection.slug}/invites/new/", data)
    assert response.status_code == 200
    assert "Only admin operators can invite someone into an admin group." in response.content.decode()
    assert not any(i["invited_email"] == "boss@example.com" for i in _sim_invites(sim).values())
    assert AuditEvent.objects.get(action="invite.create").outcome == "denied"
    response = admin_client.post(f"/connections/{connection.slug}/invites/new/", data)
    assert response.status_code == 302
    assert any(i["invited_email"] == "boss@example.com" for i in _sim_invites(sim).values())


def test_it_lets_helpdesk_invite_into_other_groups(retool, helpdesk_client):
    sim, connection = retool("enterprise")
    response = helpdesk_client.post(
        f"/connections/{connection.slug}/invites/new/",
        {"email": "help@example.com", "groups": ["Support"], "reason": "r"},
    )
    assert response.status_code == 302
    assert any(i["invited_email"] == "help@example.com" for i in _sim_invites(sim).values())


def test_it_keeps_viewers_out(retool, viewer_client):
    sim, connection = retool("enterprise")
    assert viewer_client.get(f"/connections/{connection.slug}/invites/").status_code == 200
    response = viewer_client.post(
        f"/connections/{connection.slug}/invites/new/", {"email": "v@example.com", "reason": "r"}
    )
    assert response.status_code == 403
    assert sim.bodies == []


def test_it_says_why_tooljet_has_no_invites_page(simulator, probed_connection, admin_client):
    sim = simulator("tooljet", users=5)
    connection = probed_connection(sim)
    response = admin_client.get(f"/connections/{connection.slug}/invites/")
    assert response.status_code == 409
    assert "workspace memberships with status invited" in response.content.decode()


def test_it_shows_an_upstream_refusal_in_the_form(retool, admin_client):
    sim, connection = retool("enterprise")
    existing = next(iter(sim.app.state.users.values()))["email"]
    response = admin_client.post(
        f"/connections/{connection.slug}/invites/new/", {"email": existing, "reason": "r"}
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert AuditEvent.objects.get(action="invite.create").outcome == "failure"


def test_a_business_connection_is_useful_and_says_what_its_plan_lacks(retool, admin_client):
    sim, connection = retool("business")
    directory_sync(connection=connection)
    base = f"/connections/{connection.slug}/"
    for path in ("", "users/", "users/new/", "groups/", "apps/", "invites/"):
        assert admin_client.get(base + path).status_code == 200, path
    overview = admin_client.get(base).content.decode()
    assert f'href="{base}invites/"' in overview
    assert (
        '<span class="disabled" aria-disabled="true" title="Not on this Retool plan: the Business plan has no '
        "groups API" in overview
    )
    users = admin_client.get(base + "users/").content.decode()
    assert "pending.invitee@example.com" in users and "Business plan has no users API" in users
    create = admin_client.get(base + "users/new/").content.decode()
    assert "Business plan has no users API" in create
    page = admin_client.get(base + "invites/").content.decode()
    assert "Business plan has no groups API" in page  # the group picker says why it is empty
    assert 'name="attr_department"' in page  # attributes are offered


def test_an_enterprise_connection_has_the_invites_tab_and_groups(retool, admin_client):
    sim, connection = retool("enterprise")
    overview = admin_client.get(f"/connections/{connection.slug}/").content.decode()
    assert f'href="/connections/{connection.slug}/invites/"' in overview
    assert f'href="/connections/{connection.slug}/groups/"' in overview


def test_it_invites_again_from_the_page(retool, admin_client, htmx_headers):
    sim, connection = retool("enterprise")
    old = next(i for i in _sim_invites(sim).values() if i["invited_email"] == "late.invitee@example.com")
    response = admin_client.post(
        f"/connections/{connection.slug}/invites/{old['id']}/renew/",
        {"reason": "still joining", "ticket": "HR-2"},
        headers=htmx_headers,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Invited late.invitee@example.com again." in html
    renewed = [i for i in _sim_invites(sim).values() if i["invited_email"] == "late.invitee@example.com"]
    assert len(renewed) == 1 and renewed[0]["id"] != old["id"]
    assert f'id="invite-{renewed[0]["id"]}" data-invite-state="pending"' in html


def test_a_malformed_or_unknown_invite_id_gets_a_plain_message(retool, admin_client, htmx_headers):
    sim, connection = retool("enterprise")
    for invite_id in ("abc", "999"):
        response = admin_client.post(
            f"/connections/{connection.slug}/invites/{invite_id}/revoke/",
            {"reason": "r"},
            headers=htmx_headers,
        )
        assert response.status_code == 200
        assert 'class="alert alert-error"' in response.content.decode()
    assert len(_sim_invites(sim)) == 3


def test_a_missing_reason_is_asked_for(retool, admin_client, htmx_headers, settings):
    settings.ADMINUI_REQUIRE_REASON = True
    sim, connection = retool("enterprise")
    pending = next(
        i for i in _sim_invites(sim).values() if i["invited_email"] == "pending.invitee@example.com"
    )
    response = admin_client.post(
        f"/connections/{connection.slug}/invites/{pending['id']}/revoke/",
        {"reason": ""},
        headers=htmx_headers,
    )
    assert "Say why you are making this change" in response.content.decode()
    assert pending["id"] in _sim_invites(sim)
    response = admin_client.post(
        f"/connections/{connection.slug}/invites/new/", {"email": "not-an-email", "reason": "r"}
    )
    assert response.status_code == 200 and "Enter a valid email address." in response.content.decode()
