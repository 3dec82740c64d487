from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.directory.models import DirectoryUser
from apps.people.services import fingerprint

from .conftest import tj_user

R = {"reason": "ticket says so", "ticket": "HELP-1"}


def _setup(synced, profile="latest"):
    sim, connection = synced("tooljet", profile)
    ws = {w["name"]: w["id"] for w in sim.state.workspaces.values()}
    return sim, connection, ws


def _url(connection, uid, what):
    return f"/connections/{connection.slug}/users/{uid}/{what}/"


def _row(connection, uid):
    return DirectoryUser.objects.get(connection=connection, remote_id=uid)


@pytest.mark.parametrize("profile", ["latest", "lts-3.16"])
def test_it_changes_a_workspace_role_and_updates_index(admin_client, synced, htmx_headers, profile):
    sim, connection, ws = _setup(synced, profile)
    jose = tj_user(sim, "jose.alvarez@example.com")
    prod = ws["Acme Production"]
    response = admin_client.post(
        _url(connection, jose["id"], "role"),
        {"role": "builder", "workspace_id": prod, **R},
        headers=htmx_headers,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="workspaces-panel"' in html
    assert 'hx-swap-oob="true"' in html and "Role changed to builder" in html
    assert sim.state.memberships[jose["id"]][prod]["role"] == "builder"
    event = AuditEvent.objects.get(action="user.role")
    assert event.outcome == "success" and event.target_id == jose["id"] and event.reason == R["reason"]
    assert event.ticket == "HELP-1"
    assert "jose.alvarez@example.com" in event.target_repr
    assert event.before["workspaces"] != event.after["workspaces"]
    assert "|builder|" in _row(connection, jose["id"]).roles


def test_helpdesk_cannot_grant_admin(helpdesk_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    prod = ws["Acme Production"]
    response = helpdesk_client.post(
        _url(connection, jose["id"], "role"),
        {"role": "admin", "workspace_id": prod, **R},
        headers=htmx_headers,
    )
    assert response.status_code == 403
    assert sim.state.memberships[jose["id"]][prod]["role"] == "end-user"
    assert AuditEvent.objects.get(action="user.role").outcome == "denied"


def test_helpdesk_can_change_other_roles(helpdesk_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    prod = ws["Acme Production"]
    response = helpdesk_client.post(
        _url(connection, jose["id"], "role"),
        {"role": "builder", "workspace_id": prod, **R},
        headers=htmx_headers,
    )
    assert response.status_code == 200
    assert sim.state.memberships[jose["id"]][prod]["role"] == "builder"


@pytest.mark.parametrize("persona", ["viewer_client", "stranger_client"])
def test_readers_cannot_change(request, synced, htmx_headers, persona):
    client = request.getfixturevalue(persona)
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    for what, data in [
        ("role", {"role": "builder", "workspace_id": ws["Acme Production"]}),
        ("status", {"status": "archived"}),
        ("profile", {"first_name": "X", "last_name": "Y", "email": "x@example.com"}),
    ]:
        assert (
            client.post(_url(connection, jose["id"], what), {**data, **R}, headers=htmx_headers).status_code
            == 403
        )
    assert sim.state.users[jose["id"]]["status"] == "active"


def test_it_shows_tooljets_owner_refusal_with_app_names(admin_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    zoe = tj_user(sim, "zoe.obrien@example.com")
    prod = ws["Acme Production"]
    response = admin_client.post(
        _url(connection, zoe["id"], "role"),
        {"role": "end-user", "workspace_id": prod, **R},
        headers=htmx_headers,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "cannot be an end-user" in html and "Sales Dashboard" in html
    assert 'value="ticket says so"' in html  # what the operator typed is kept
    event = AuditEvent.objects.get(action="user.role")
    assert event.outcome == "failure" and event.upstream_status == 400
    assert sim.state.memberships[zoe["id"]][prod]["role"] == "builder"


def test_reason_is_required_and_nothing_is_sent(admin_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    response = admin_client.post(
        _url(connection, jose["id"], "role"),
        {"role": "builder", "workspace_id": ws["Acme Production"], "reason": ""},
        headers=htmx_headers,
    )
    assert "Say why" in response.content.decode()
    assert not AuditEvent.objects.filter(action="user.role").exists()
    assert sim.state.memberships[jose["id"]][ws["Acme Production"]]["role"] == "end-user"


def test_unknown_role_is_a_form_error(admin_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    response = admin_client.post(
        _url(connection, jose["id"], "role"),
        {"role": "developer", "workspace_id": ws["Acme Production"], **R},
        headers=htmx_headers,
    )
    assert (
        "Select a valid choice. developer is not one of the available choices." in response.content.decode()
    )
    assert not AuditEvent.objects.filter(action__startswith="user.").exists()


def test_a_role_change_that_names_no_workspace_is_refused_plainly(admin_client, synced, htmx_headers):
    """A stale or tampered page: ToolJet roles are per workspace, so nothing can be sent (this was a 500)."""
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    before = len(sim.writes())
    response = admin_client.post(
        _url(connection, jose["id"], "role"), {"role": "builder", **R}, headers=htmx_headers
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "does not say which workspace" in html and "Reload the page" in html
    assert len(sim.writes()) == before
    assert not AuditEvent.objects.filter(action__startswith="user.").exists()


def test_it_archives_and_reactivates(admin_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    response = admin_client.post(
        _url(connection, jose["id"], "status"), {"status": "archived", **R}, headers=htmx_headers
    )
    assert 'id="status-panel"' in response.content.decode()
    assert sim.state.users[jose["id"]]["status"] == "archived"
    assert _row(connection, jose["id"]).status == "archived"
    admin_client.post(_url(connection, jose["id"], "status"), {"status": "active", **R}, headers=htmx_headers)
    assert sim.state.users[jose["id"]]["status"] == "active"
    assert _row(connection, jose["id"]).status == "active"
    assert AuditEvent.objects.filter(action="user.status", outcome="success").count() == 2


def test_reactivating_an_archived_account_restores_its_workspace_memberships(
    admin_client, synced, htmx_headers
):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    url = _url(connection, jose["id"], "status")
    admin_client.post(url, {"status": "archived", **R}, headers=htmx_headers)
    assert {m["status"] for m in sim.state.memberships[jose["id"]].values()} == {"archived"}
    assert not _row(connection, jose["id"]).active
    admin_client.post(url, {"status": "active", **R}, headers=htmx_headers)
    assert {m["status"] for m in sim.state.memberships[jose["id"]].values()} == {"active"}
    row = _row(connection, jose["id"])
    assert row.active and {m["status"] for m in row.memberships} == {"active"}


def test_the_index_does_not_call_active_an_account_archived_in_every_workspace(
    admin_client, synced, htmx_headers
):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    for ws_id in list(sim.state.memberships[jose["id"]]):
        admin_client.post(
            _url(connection, jose["id"], "status"),
            {"status": "archived", "workspace_id": ws_id, **R},
            headers=htmx_headers,
        )
    assert sim.state.users[jose["id"]]["status"] == "active"
    assert not _row(connection, jose["id"]).active


def test_it_archives_one_membership(admin_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    staging = ws["Acme Staging"]
    admin_client.post(
        _url(connection, jose["id"], "status"),
        {"status": "archived", "workspace_id": staging, **R},
        headers=htmx_headers,
    )
    assert sim.state.memberships[jose["id"]][staging]["status"] == "archived"
    assert sim.state.users[jose["id"]]["status"] == "active"


def test_profile_update_and_bad_email(admin_client, synced, htmx_headers):
    sim, connection, _ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    url = _url(connection, jose["id"], "profile")
    bad = admin_client.post(
        url, {"first_name": "José", "last_name": "A", "email": "not-an-email", **R}, headers=htmx_headers
    )
    assert "valid email" in bad.content.decode()
    empty = admin_client.post(
        url, {"first_name": "", "last_name": "A", "email": "j@example.com", **R}, headers=htmx_headers
    )
    assert "required" in empty.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="user.").exists()
    ok = admin_client.post(
        url,
        {"first_name": "Josef", "last_name": "Alvarez", "email": "josef@example.com", **R},
        headers=htmx_headers,
    )
    assert "Profile saved" in ok.content.decode()
    assert sim.state.users[jose["id"]]["email"] == "josef@example.com"
    row = _row(connection, jose["id"])
    assert row.email == "josef@example.com" and row.name == "Josef Alvarez"
    assert AuditEvent.objects.get(action="user.update").after["email"] == "josef@example.com"


def _metadata_post(client, connection, uid, ws_id, rows, fp, headers):
    data = {
        "workspace_id": ws_id,
        "fingerprint": fp,
        "key": [k for k, _ in rows],
        "value": [v for _, v in rows],
        **R,
    }
    return client.post(_url(connection, uid, "metadata"), data, headers=headers)


def test_metadata_read_modify_write(admin_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    priya = tj_user(sim, "priya.raman@example.com")
    prod = ws["Acme Production"]
    loaded = {d["key"]: d["value"] for d in sim.state.metadata[(priya["id"], prod)]}
    rows = [*loaded.items(), ("office", "Dublin")]
    response = _metadata_post(
        admin_client, connection, priya["id"], prod, rows, fingerprint(loaded), htmx_headers
    )
    assert "Metadata saved" in response.content.decode()
    assert {"key": "office", "value": "Dublin"} in sim.state.metadata[(priya["id"], prod)]
    event = AuditEvent.objects.get(action="user.metadata")
    assert event.before == loaded and event.after["office"] == "Dublin"


def test_metadata_conflict_shows_both_versions(admin_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    priya = tj_user(sim, "priya.raman@example.com")
    prod = ws["Acme Production"]
    loaded = {d["key"]: d["value"] for d in sim.state.metadata[(priya["id"], prod)]}
    # somebody changes it upstream after the form was rendered
    sim.state.metadata[(priya["id"], prod)] = [{"key": "department", "value": "changed-upstream"}]
    rows = [("department", "mine"), ("tier", "gold")]
    response = _metadata_post(
        admin_client, connection, priya["id"], prod, rows, fingerprint(loaded), htmx_headers
    )
    html = response.content.decode()
    assert "changed in ToolJet" in html and "changed-upstream" in html and 'value="mine"' in html
    assert "Now in ToolJet" in html and "Your version" in html
    assert sim.state.metadata[(priya["id"], prod)] == [{"key": "department", "value": "changed-upstream"}]
    assert AuditEvent.objects.get(action="user.metadata").outcome == "failure"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("a", "1"), ("a", "2")], "appears twice"),
        ([("", "orphan")], "needs a key"),
        ([("k", "x" * 1001)], "longer than"),
    ],
)
def test_metadata_bad_input_sends_nothing(admin_client, synced, htmx_headers, rows, message):
    sim, connection, ws = _setup(synced)
    priya = tj_user(sim, "priya.raman@example.com")
    prod = ws["Acme Production"]
    before = list(sim.state.metadata[(priya["id"], prod)])
    response = _metadata_post(admin_client, connection, priya["id"], prod, rows, "x", htmx_headers)
    assert message in response.content.decode()
    assert sim.state.metadata[(priya["id"], prod)] == before
    assert not AuditEvent.objects.filter(action__startswith="user.").exists()


def test_metadata_disabled_on_lts(admin_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced, "lts-3.16")
    priya = tj_user(sim, "priya.raman@example.com")
    response = _metadata_post(
        admin_client, connection, priya["id"], ws["Acme Production"], [("a", "b")], "x", htmx_headers
    )
    assert response.headers.get("HX-Retarget") == "#alerts"
    assert "metadata API" in response.content.decode()


def test_workspace_add_remove_and_groups(admin_client, synced, htmx_headers):
    from apps.people.services import memberships_fingerprint
    from apps.providers.tooljet.mapping import user_from_wire

    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    research = ws["Research Lab"]
    support = next(g["id"] for g in sim.state.custom_groups(research) if g["name"] == "Support")

    def fp():
        html = admin_client.get(f"/connections/{connection.slug}/users/{jose['id']}/").content.decode()
        return html.split('name="fingerprint" value="')[1].split('"')[0]

    response = admin_client.post(
        _url(connection, jose["id"], "workspaces/add"),
        {"workspace_id": research, "role": "end-user", "groups": [support], "fingerprint": fp(), **R},
        headers=htmx_headers,
    )
    assert "Workspace added" in response.content.decode()
    assert research in sim.state.memberships[jose["id"]]
    assert support in sim.state.memberships[jose["id"]][research]["groups"]
    assert "|Support|" in _row(connection, jose["id"]).group_names
    assert "Research Lab" in {m["workspace_name"] for m in _row(connection, jose["id"]).memberships}

    admin_client.post(
        _url(connection, jose["id"], "workspaces/groups"),
        {"workspace_id": research, "groups": [], **R},
        headers=htmx_headers,
    )
    assert not sim.state.memberships[jose["id"]][research]["groups"]

    stale = fp()
    sim.state.memberships[jose["id"]][ws["Acme Staging"]]["role"] = "builder"  # upstream change after load
    conflict = admin_client.post(
        _url(connection, jose["id"], "workspaces/remove"),
        {"workspace_id": research, "fingerprint": stale, **R},
        headers=htmx_headers,
    )
    assert "changed in ToolJet" in conflict.content.decode()
    assert research in sim.state.memberships[jose["id"]]

    admin_client.post(
        _url(connection, jose["id"], "workspaces/remove"),
        {"workspace_id": research, "fingerprint": fp(), **R},
        headers=htmx_headers,
    )
    assert research not in sim.state.memberships[jose["id"]]
    assert "Research Lab" not in {m["workspace_name"] for m in _row(connection, jose["id"]).memberships}
    assert memberships_fingerprint(user_from_wire({"workspaces": []})) != ""


def test_create_user_shows_invite_url(admin_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    response = admin_client.post(
        f"/connections/{connection.slug}/users/new/",
        {
            "email": "new.person@example.com",
            "first_name": "New",
            "last_name": "Person",
            "workspace_id": ws["Acme Production"],
            "role": "end-user",
            **R,
        },
        headers=htmx_headers,
    )
    html = response.content.decode()
    assert "Created" in html and "Invite URL" in html and "oid=" in html
    assert DirectoryUser.objects.filter(connection=connection, email="new.person@example.com").exists()
    assert AuditEvent.objects.get(action="user.create").outcome == "success"


def test_create_user_bad_input(admin_client, helpdesk_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    count = len(sim.state.users)
    bad = admin_client.post(
        f"/connections/{connection.slug}/users/new/",
        {
            "email": "nope",
            "first_name": "",
            "last_name": "P",
            "workspace_id": ws["Acme Production"],
            "role": "boss",
            **R,
        },
        headers=htmx_headers,
    )
    assert "valid email" in bad.content.decode()
    denied = helpdesk_client.post(
        f"/connections/{connection.slug}/users/new/",
        {
            "email": "x@example.com",
            "first_name": "X",
            "last_name": "Y",
            "workspace_id": ws["Acme Production"],
            "role": "admin",
            **R,
        },
        headers=htmx_headers,
    )
    assert denied.status_code == 403
    assert len(sim.state.users) == count


def test_a_change_whose_answer_is_lost_is_audited_as_unknown_with_what_the_user_looks_like_now(
    admin_client, synced, htmx_headers
):
    """ToolJet applied the role change but the answer never arrived whole: not a "failure" (it happened)."""
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    prod = ws["Acme Production"]
    # every attempt is carried out and its answer lost (the client retries an idempotent PUT on a dropped answer)
    sim.faults.add(kind="lost", path="/api/ext/update-user-role", times=5)
    response = admin_client.post(
        _url(connection, jose["id"], "role"),
        {"role": "builder", "workspace_id": prod, **R},
        headers=htmx_headers,
    )
    assert "may have been applied" in response.content.decode()
    assert sim.state.memberships[jose["id"]][prod]["role"] == "builder"  # it did happen
    event = AuditEvent.objects.get(action="user.role")
    assert event.outcome == "unknown" and "may have been applied" in event.error
    observed = {w["id"]: w["role"] for w in event.after["workspaces"]}
    assert observed[prod] == "builder"
    assert any(m["role"] == "builder" for m in _row(connection, jose["id"]).memberships)


def test_setting_the_role_a_person_already_has_sends_nothing(admin_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    prod = ws["Acme Production"]
    current = sim.state.memberships[jose["id"]][prod]["role"]
    before = len(sim.writes())
    response = admin_client.post(
        _url(connection, jose["id"], "role"),
        {"role": current, "workspace_id": prod, **R},
        headers=htmx_headers,
    )
    assert f"is already {current} in Acme Production; nothing was changed." in response.content.decode()
    assert len(sim.writes()) == before
    event = AuditEvent.objects.get(action="user.role")
    assert event.outcome == "failure" and "nothing was changed" in event.error


def test_a_membership_archive_without_a_reason_says_why_in_that_workspaces_form(
    admin_client, synced, htmx_headers
):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    prod = ws["Acme Production"]
    response = admin_client.post(
        _url(connection, jose["id"], "status"),
        {"status": "archived", "workspace_id": prod},
        headers=htmx_headers,
    )
    html = response.content.decode()
    assert 'id="workspaces-panel"' in html and html.count("Say why you are making this change") == 1
    form = html.split("Say why you are making this change")[0].rsplit("<form", 1)[1]  # the form showing it
    assert "/status/" in form and f'name="workspace_id" value="{prod}"' in form
    assert sim.state.memberships[jose["id"]][prod]["status"] != "archived"


def test_a_refused_role_change_replaces_the_saved_banner_and_the_select_shows_the_real_role(
    admin_client, synced, htmx_headers
):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    staging = ws["Acme Staging"]
    url = _url(connection, jose["id"], "role")
    saved = admin_client.post(url, {"role": "builder", "workspace_id": staging, **R}, headers=htmx_headers)
    assert "Role changed to builder in Acme Staging." in saved.content.decode()
    sim.faults.add(kind="status", status=400, path="/api/ext/update-user-role", times=1)
    response = admin_client.post(
        url, {"role": "end-user", "workspace_id": staging, **R}, headers=htmx_headers
    )
    html = response.content.decode()
    oob = html[html.index('<div id="messages" hx-swap-oob="true"') :]
    assert "alert-error" in oob and "alert-success" not in oob and 'role="alert"' in oob
    assert sim.state.memberships[jose["id"]][staging]["role"] == "builder"
    select = html[html.index('aria-label="Role in Acme Staging"') :]
    select = select[: select.index("</select>")]
    assert 'value="builder" selected' in select and 'value="end-user" selected' not in select


def test_a_workspace_change_is_confirmed_from_to_and_announced_in_its_row(admin_client, synced, htmx_headers):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    staging = ws["Acme Staging"]
    current = sim.state.memberships[jose["id"]][staging]["role"]
    page = admin_client.get(f"/connections/{connection.slug}/users/{jose['id']}/").content.decode()
    assert f"role in Acme Staging from {current} to {{role}}?" in page
    target = "builder" if current != "builder" else "end-user"
    response = admin_client.post(
        _url(connection, jose["id"], "role"),
        {"role": target, "workspace_id": staging, **R},
        headers=htmx_headers,
    )
    html = response.content.decode()
    row = html[html.index(f'id="ws-{staging}"') :]
    row = row[: row.index("</article>")]
    assert f"Role changed to {target} in Acme Staging." in row and 'data-testid="workspace-notice"' in row


def test_the_reason_placeholder_names_nobody(admin_client, synced):
    sim, connection, ws = _setup(synced)
    jose = tj_user(sim, "jose.alvarez@example.com")
    page = admin_client.get(f"/connections/{connection.slug}/users/{jose['id']}/").content.decode()
    assert "Priya" not in page and 'placeholder="Why? e.g.' in page
