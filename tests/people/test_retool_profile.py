"""The Retool user detail: what the user object says about the person, and the profile form's Retool rules."""

from __future__ import annotations

from apps.audit.models import AuditEvent


def _retool(simulator, probed_connection):
    sim = simulator("retool", profile="enterprise", users=6)
    return sim, probed_connection(sim)


def _user(sim) -> dict:
    admins = {m["id"] for g in sim.state.groups.values() if g["name"] == "admin" for m in g["members"]}
    return next(u for u in sim.state.users.values() if u["id"] not in admins)


def test_it_shows_the_retool_user_fields(simulator, probed_connection, viewer_client):
    sim, conn = _retool(simulator, probed_connection)
    user = _user(sim)
    user.update(
        created_at="2026-01-02T03:04:05.678Z",
        last_active="2026-11-30T22:15:00.000Z",
        two_factor_auth_enabled=True,
    )
    html = viewer_client.get(f"/connections/{conn.slug}/users/{user['id']}/").content.decode()
    assert f'<dt>Legacy id</dt><dd><code class="small">{user["legacy_id"]}</code></dd>' in html
    assert "<dt>Created</dt><dd>2026-01-02 03:04 UTC</dd>" in html
    assert "<dt>Last active</dt><dd>2026-11-30 22:15 UTC</dd>" in html
    assert "<dt>Two-factor sign-in</dt><dd>on</dd>" in html


def test_it_says_never_active_when_last_active_is_null(simulator, probed_connection, viewer_client):
    sim, conn = _retool(simulator, probed_connection)
    user = _user(sim)
    user.update(last_active=None, two_factor_auth_enabled=False)
    html = viewer_client.get(f"/connections/{conn.slug}/users/{user['id']}/").content.decode()
    assert '<dt>Last active</dt><dd class="muted">never active</dd>' in html
    assert "<dt>Two-factor sign-in</dt><dd>off</dd>" in html


def test_it_changes_the_user_type(simulator, probed_connection, helpdesk_client, htmx_headers):
    sim, conn = _retool(simulator, probed_connection)
    user = _user(sim)
    assert user["user_type"] == "default"
    page = helpdesk_client.get(f"/connections/{conn.slug}/users/{user['id']}/").content.decode()
    assert 'name="user_type"' in page
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/users/{user['id']}/profile/",
        {
            "first_name": user["first_name"],
            "last_name": user["last_name"],
            "user_type": "mobile",
            "reason": "field staff",
        },
        headers=htmx_headers,
    )
    assert response.status_code == 200 and "Profile saved." in response.content.decode()
    assert sim.state.users[user["id"]]["user_type"] == "mobile"
    row = AuditEvent.objects.get(action="user.update")
    assert row.before["user_type"] == "default" and row.after["user_type"] == "mobile"


def test_it_refuses_an_empty_last_name_before_sending(
    simulator, probed_connection, helpdesk_client, htmx_headers
):
    sim, conn = _retool(simulator, probed_connection)
    user = _user(sim)
    before = len(sim.writes())
    response = helpdesk_client.post(
        f"/connections/{conn.slug}/users/{user['id']}/profile/",
        {"first_name": "Ann", "last_name": "", "user_type": "default", "reason": "typo"},
        headers=htmx_headers,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "needs a last name" in html
    assert len(sim.writes()) == before
    assert sim.state.users[user["id"]]["last_name"] == user["last_name"]


def test_it_says_one_thing_when_the_attributes_api_is_missing(simulator, probed_connection, viewer_client):
    sim = simulator("retool", profile="enterprise", users=6)
    sim.faults.add(kind="status", status=404, path="/api/v2/user_attributes", times=1)
    conn = probed_connection(sim)
    user = _user(sim)
    html = viewer_client.get(f"/connections/{conn.slug}/users/{user['id']}/").content.decode()
    panel = html.split('id="attributes-panel"')[1].split("</section>")[0]
    assert "no user attributes API" in panel
    assert "declares no user attributes" not in panel
