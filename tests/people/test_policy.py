"""The one policy decides every change to a person, the same way on both products: an account that holds admin
upstream is changed by admin operators only; e-mail changes are admin-only; helpdesk creates users, never admins.
Refusals are 403 with the policy's reason, a denied audit row, and nothing sent upstream."""

from __future__ import annotations

import pytest

from apps.accounts.policy import is_protected_account
from apps.audit.models import AuditEvent
from apps.connections.clients import get_provider
from apps.directory.models import DirectoryUser

R = {"reason": "ticket says so", "ticket": "HELP-1"}
PROTECTED = "This account holds admin upstream; only admin operators can change it."


def _url(connection, uid, what):
    return f"/connections/{connection.slug}/users/{uid}/{what}/"


def _pick(connection, *, protected: bool):
    """A user read live upstream that holds admin anywhere (or holds it nowhere)."""
    with get_provider(connection) as provider:
        for row in DirectoryUser.objects.filter(connection=connection, invite__isnull=True).order_by("email"):
            user = provider.get_user(row.remote_id)
            if is_protected_account(user) == protected and user.status in ("active", "enabled", ""):
                return user
    raise AssertionError("no such user in the simulator's seed")


def _refused(client, sim, url, data, headers, reason):
    writes = list(sim.writes())
    response = client.post(url, {**data, **R}, headers=headers)
    assert response.status_code == 403
    assert reason in response.content.decode()
    assert sim.writes() == writes, "a refused change sent something upstream"
    return response


def test_helpdesk_cannot_take_over_a_tooljet_admin(helpdesk_client, synced, htmx_headers):
    sim, connection = synced("tooljet", "latest")
    admin = _pick(connection, protected=True)
    ws = next(m for m in admin.workspaces if m.role == "admin").workspace_id
    _refused(
        helpdesk_client,
        sim,
        _url(connection, admin.id, "profile"),
        {
            "first_name": admin.first_name or "A",
            "last_name": admin.last_name,
            "email": "attacker@example.net",
        },
        htmx_headers,
        "Only admin operators can change an e-mail address.",
    )
    _refused(
        helpdesk_client,
        sim,
        _url(connection, admin.id, "role"),
        {"role": "end-user", "workspace_id": ws},
        htmx_headers,
        PROTECTED,
    )
    _refused(
        helpdesk_client,
        sim,
        _url(connection, admin.id, "status"),
        {"status": "archived", "workspace_id": ws},
        htmx_headers,
        PROTECTED,
    )
    _refused(
        helpdesk_client,
        sim,
        _url(connection, admin.id, "profile"),
        {"first_name": "Renamed", "last_name": admin.last_name, "email": admin.email},
        htmx_headers,
        PROTECTED,
    )
    assert sim.state.users[admin.id]["email"] == admin.email
    denied = AuditEvent.objects.filter(outcome="denied", target_id=admin.id)
    assert set(denied.values_list("action", flat=True)) == {"user.update", "user.role", "user.status"}
    # one row a minute per operator, change and person: the rename refused after the e-mail change adds none
    assert denied.filter(error=PROTECTED).count() == 2
    assert denied.get(action="user.update").error == "Only admin operators can change an e-mail address."


def test_helpdesk_cannot_disable_or_demote_a_retool_admin(
    helpdesk_client, admin_client, synced, htmx_headers
):
    sim, connection = synced("retool", "enterprise")
    admin = _pick(connection, protected=True)
    _refused(
        helpdesk_client,
        sim,
        _url(connection, admin.id, "status"),
        {"status": "disabled"},
        htmx_headers,
        PROTECTED,
    )
    _refused(
        helpdesk_client, sim, _url(connection, admin.id, "role"), {"role": "member"}, htmx_headers, PROTECTED
    )
    assert sim.state.users[admin.id]["active"] is True
    response = admin_client.post(
        _url(connection, admin.id, "status"), {"status": "disabled", **R}, headers=htmx_headers
    )
    assert response.status_code == 200 and sim.state.users[admin.id]["active"] is False


def test_helpdesk_changes_names_but_not_e_mail_of_ordinary_people(helpdesk_client, synced, htmx_headers):
    sim, connection = synced("tooljet", "latest")
    person = _pick(connection, protected=False)
    _refused(
        helpdesk_client,
        sim,
        _url(connection, person.id, "profile"),
        {"first_name": person.first_name, "last_name": person.last_name, "email": "elsewhere@example.net"},
        htmx_headers,
        "Only admin operators can change an e-mail address.",
    )
    # the page sends no e-mail for helpdesk (the field is disabled): the name change goes through
    response = helpdesk_client.post(
        _url(connection, person.id, "profile"),
        {"first_name": "Renamed", "last_name": person.last_name, **R},
        headers=htmx_headers,
    )
    assert response.status_code == 200 and "Profile saved." in response.content.decode()
    assert sim.state.users[person.id]["firstName"] == "Renamed"
    assert sim.state.users[person.id]["email"] == person.email


@pytest.mark.parametrize(("kind", "profile"), [("tooljet", "latest"), ("retool", "enterprise")])
def test_the_page_shows_refused_actions_disabled_with_the_reason(
    helpdesk_client, viewer_client, synced, kind, profile
):
    sim, connection = synced(kind, profile)
    admin = _pick(connection, protected=True)
    person = _pick(connection, protected=False)
    page = helpdesk_client.get(f"/connections/{connection.slug}/users/{admin.id}/").content.decode()
    assert PROTECTED in page and "<fieldset disabled>" in page
    page = helpdesk_client.get(f"/connections/{connection.slug}/users/{person.id}/").content.decode()
    assert "Only admin operators can grant admin rights." in page
    if kind == "tooljet":
        assert "Only admin operators can change an e-mail address." in page
    page = viewer_client.get(f"/connections/{connection.slug}/users/{person.id}/").content.decode()
    assert "read-only" in page
    assert "Only admin operators can grant admin" not in page


def test_helpdesk_creates_users_with_the_least_privileged_role_never_admin(
    helpdesk_client, synced, htmx_headers
):
    sim, connection = synced("tooljet", "latest")
    url = f"/connections/{connection.slug}/users/new/"
    page = helpdesk_client.get(url).content.decode()
    assert '<option value="end-user" selected' in page
    assert '<option value="admin"  disabled>' in page or 'value="admin" disabled' in page.replace("  ", " ")
    ws = next(w["id"] for w in sim.state.workspaces.values() if w["name"] == "Acme Production")
    data = {"email": "new.hire@example.com", "first_name": "New", "last_name": "Hire", "workspace_id": ws}
    _refused(
        helpdesk_client,
        sim,
        url,
        {**data, "role": "admin"},
        htmx_headers,
        "Only admin operators can grant admin",
    )
    assert "new.hire@example.com" not in sim.state.emails
    response = helpdesk_client.post(url, {**data, "role": "end-user", **R}, headers=htmx_headers)
    assert response.status_code == 200 and "new.hire@example.com" in sim.state.emails
