"""Sensitive actions need a recent sign-in: granting admin, deleting a group, connection add/edit/delete. A stale
session is sent to re-authenticate and nothing is sent upstream; other changes go through."""

from __future__ import annotations

from apps.accounts.reauth import SESSION_AUTH_AT
from apps.connections.models import Connection

R = {"reason": "ticket says so", "ticket": "HELP-1"}


def _stale(client) -> None:
    session = client.session
    session[SESSION_AUTH_AT] -= 16 * 60
    session.save()


def _non_admin(sim):
    admin_group = next(g for g in sim.state.groups.values() if g["name"] == "admin")
    admins = {m["id"] for m in admin_group["members"]}
    return next(u for u in sim.state.users.values() if u["id"] not in admins), admin_group


def test_granting_admin_needs_a_recent_sign_in(admin_client, simulator, probed_connection):
    sim = simulator("retool", profile="enterprise")
    connection = probed_connection(sim)
    user, admin_group = _non_admin(sim)
    _stale(admin_client)
    writes = list(sim.writes())
    url = f"/connections/{connection.slug}/users/{user['id']}/role/"
    response = admin_client.post(url, {"role": "admin", **R}, HTTP_REFERER=f"http://testserver{url[:-5]}")
    assert response.status_code == 302 and response["Location"].startswith("/reauth/")
    members = f"/connections/{connection.slug}/groups/{admin_group['id']}/members/"
    response = admin_client.post(members, {"user_id": user["id"], **R})
    assert response.status_code == 302 and response["Location"].startswith("/reauth/")
    assert sim.writes() == writes
    # a change that grants nothing needs no new sign-in
    response = admin_client.post(
        f"/connections/{connection.slug}/users/{user['id']}/status/", {"status": "disabled", **R}
    )
    assert response.status_code == 302 and not response["Location"].startswith("/reauth/")
    assert sim.state.users[user["id"]]["active"] is False


def test_deleting_a_group_needs_a_recent_sign_in(admin_client, simulator, probed_connection):
    sim = simulator("retool", profile="enterprise")
    connection = probed_connection(sim)
    group = next(g for g in sim.state.groups.values() if g["name"] == "Finance")
    _stale(admin_client)
    response = admin_client.post(
        f"/connections/{connection.slug}/groups/{group['id']}/delete/",
        {"delete-reason": "gone", "delete-ticket": "T"},
    )
    assert response.status_code == 302 and response["Location"].startswith("/reauth/")
    assert group["id"] in sim.state.groups


def test_connection_changes_need_a_recent_sign_in(admin_client, make_connection):
    connection = make_connection(None, kind="tooljet")
    _stale(admin_client)
    for url in ("/connections/add/", f"/connections/{connection.slug}/edit/"):
        response = admin_client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/reauth/"), url
    response = admin_client.post(f"/connections/{connection.slug}/delete/")
    assert response.status_code == 302 and response["Location"].startswith("/reauth/")
    assert Connection.objects.filter(pk=connection.pk).exists()
