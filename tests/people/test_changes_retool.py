from __future__ import annotations

from apps.audit.models import AuditEvent
from apps.directory.models import DirectoryUser

R = {"reason": "access review", "ticket": ""}


def _user(sim, email):
    return sim.state.users[sim.state.emails[email]]


def _url(connection, uid, what):
    return f"/connections/{connection.slug}/users/{uid}/{what}/"


def test_it_grants_and_removes_admin_through_the_admin_group(
    admin_client, helpdesk_client, synced, htmx_headers
):
    sim, connection = synced("retool", "enterprise")
    jose = _user(sim, "jose.alvarez@example.com")
    denied = helpdesk_client.post(
        _url(connection, jose["id"], "role"), {"role": "admin", **R}, headers=htmx_headers
    )
    assert denied.status_code == 403
    response = admin_client.post(
        _url(connection, jose["id"], "role"), {"role": "admin", **R}, headers=htmx_headers
    )
    html = response.content.decode()
    assert 'id="role-panel"' in html and "Role changed to admin" in html
    admin_group = next(g for g in sim.state.groups.values() if g["name"] == "admin")
    assert any(m["id"] == jose["id"] for m in admin_group["members"])
    row = DirectoryUser.objects.get(connection=connection, remote_id=jose["id"])
    assert row.is_admin and "|admin|" in row.roles
    # jose now holds admin: helpdesk may not demote him (the same rule as on ToolJet), an admin operator may
    writes = len(sim.writes())
    refused = helpdesk_client.post(
        _url(connection, jose["id"], "role"), {"role": "member", **R}, headers=htmx_headers
    )
    assert refused.status_code == 403
    assert "only admin operators can change it" in refused.content.decode()
    assert len(sim.writes()) == writes and any(m["id"] == jose["id"] for m in admin_group["members"])
    admin_client.post(_url(connection, jose["id"], "role"), {"role": "member", **R}, headers=htmx_headers)
    assert not any(m["id"] == jose["id"] for m in admin_group["members"])
    assert not DirectoryUser.objects.get(connection=connection, remote_id=jose["id"]).is_admin
    outcomes = list(
        AuditEvent.objects.filter(action="user.role").order_by("sequence").values_list("outcome", flat=True)
    )
    # the second refusal on the same person within a minute is not written again (one denied row a minute)
    assert outcomes == ["denied", "success", "success"]


def test_it_disables_and_enables(admin_client, synced, htmx_headers):
    sim, connection = synced("retool", "enterprise")
    jose = _user(sim, "jose.alvarez@example.com")
    admin_client.post(
        _url(connection, jose["id"], "status"), {"status": "disabled", **R}, headers=htmx_headers
    )
    assert sim.state.users[jose["id"]]["active"] is False
    assert DirectoryUser.objects.get(connection=connection, remote_id=jose["id"]).status == "disabled"
    admin_client.post(_url(connection, jose["id"], "status"), {"status": "active", **R}, headers=htmx_headers)
    assert sim.state.users[jose["id"]]["active"] is True


def test_profile_keeps_email(admin_client, synced, htmx_headers):
    sim, connection = synced("retool", "enterprise")
    jose = _user(sim, "jose.alvarez@example.com")
    page = admin_client.get(f"/connections/{connection.slug}/users/{jose['id']}/").content.decode()
    assert "cannot be changed after creation" in page
    admin_client.post(
        _url(connection, jose["id"], "profile"),
        {"first_name": "Joe", "last_name": "Alv", "email": "other@example.com", **R},
        headers=htmx_headers,
    )
    assert sim.state.users[jose["id"]]["first_name"] == "Joe"
    assert sim.state.users[jose["id"]]["email"] == "jose.alvarez@example.com"
    assert DirectoryUser.objects.get(connection=connection, remote_id=jose["id"]).name == "Joe Alv"


def test_attributes_set_delete_and_typed_validation(admin_client, synced, htmx_headers):
    sim, connection = synced("retool", "enterprise")
    jose = _user(sim, "jose.alvarez@example.com")
    attrs = {a["name"]: a for a in sim.state.attributes.values()}
    name = next(iter(attrs))
    response = admin_client.post(
        _url(connection, jose["id"], "attributes"), {"name": name, "value": "42", **R}, headers=htmx_headers
    )
    assert 'id="attributes-panel"' in response.content.decode()
    assert sim.state.users[jose["id"]]["metadata"][name] == "42"
    admin_client.post(
        _url(connection, jose["id"], "attributes"), {"name": name, "delete": "on", **R}, headers=htmx_headers
    )
    assert name not in sim.state.users[jose["id"]]["metadata"]
    undeclared = admin_client.post(
        _url(connection, jose["id"], "attributes"),
        {"name": "nope_not_declared", "value": "x", **R},
        headers=htmx_headers,
    )
    assert "not declared" in undeclared.content.decode()
    numbers = [a for a in attrs.values() if a["data_type"] == "number"]
    if numbers:
        bad = admin_client.post(
            _url(connection, jose["id"], "attributes"),
            {"name": numbers[0]["name"], "value": "abc", **R},
            headers=htmx_headers,
        )
        assert "is a number" in bad.content.decode()
    assert list(AuditEvent.objects.filter(action="user.attribute").values_list("outcome", flat=True)) == [
        "success",
        "success",
    ]


def test_create_with_user_type(admin_client, synced, htmx_headers):
    sim, connection = synced("retool", "enterprise")
    response = admin_client.post(
        f"/connections/{connection.slug}/users/new/",
        {"email": "ana@example.com", "first_name": "Ana", "last_name": "B", "user_type": "mobile", **R},
        headers=htmx_headers,
    )
    assert "Created" in response.content.decode()
    created = _user(sim, "ana@example.com")
    assert created["user_type"] == "mobile"
    assert DirectoryUser.objects.filter(connection=connection, email="ana@example.com").exists()


def test_business_actions_are_disabled_with_reason(admin_client, fleet_connection, htmx_headers):
    _sim, connection = fleet_connection("retool", "business")
    page = admin_client.get(f"/connections/{connection.slug}/users/new/").content.decode()
    assert "the Business plan has no users API" in page and "disabled" in page
    response = admin_client.post(
        _url(connection, "user_abc", "role"), {"role": "admin", **R}, headers=htmx_headers
    )
    assert response.headers.get("HX-Retarget") == "#alerts"
    assert "scopes" in response.content.decode() or "Enterprise" in response.content.decode()
