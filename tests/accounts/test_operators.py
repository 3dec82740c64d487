from __future__ import annotations

import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from tests.conftest import PASSWORD


def _last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-sequence").first()


def test_it_lists_operators_with_role_scope_and_sign_in(admin_client, operator_viewer):
    operator_viewer.scope_environments = ["staging"]
    operator_viewer.save()
    body = admin_client.get("/operators/").content.decode()
    assert re.search(
        r"vera</a>.*?<td>viewer</td>\s*<td>staging</td>\s*<td>Password</td>\s*<td[^>]*>never", body, re.S
    )
    assert "alice" in body


@pytest.mark.parametrize("persona", ["helpdesk_client", "viewer_client", "stranger_client"])
def test_it_requires_admin(request, persona, operator_viewer):
    client = request.getfixturevalue(persona)
    assert client.get("/operators/").status_code == 403
    assert client.get(f"/operators/{operator_viewer.pk}/").status_code == 403
    assert (
        client.post(f"/operators/{operator_viewer.pk}/role/", {"role": "admin", "reason": "x"}).status_code
        == 403
    )
    operator_viewer.refresh_from_db()
    assert operator_viewer.role == "viewer"


def test_the_top_bar_links_operators_for_admins_only(admin_client, viewer_client):
    assert 'href="/operators/"' in admin_client.get("/connections/").content.decode()
    assert 'href="/operators/"' not in viewer_client.get("/connections/").content.decode()


def test_invite_shows_a_one_time_link_that_sets_the_password(admin_client, operator_admin):
    response = admin_client.post(
        "/operators/invite/", {"username": "newbie", "role": "helpdesk", "reason": "joins support"}
    )
    body = response.content.decode()
    link = re.search(r'<code id="password-link">http://testserver(/password/[^<]+)</code>', body).group(1)
    user = User.objects.get(username="newbie")
    assert user.role == "helpdesk" and not user.has_usable_password()
    row = _last("operator.create")
    assert (row.actor_id, row.target_repr, row.reason, row.after) == (
        operator_admin.pk,
        "newbie",
        "joins support",
        {"role": "helpdesk", "sign_in": "local"},
    )
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in str(
        [row.before, row.after, row.extra, row.reason]
    )  # the link never reaches the trail
    anon = Client()
    form = anon.get(link, follow=True)
    assert "Choose your adminui password" in form.content.decode()
    done = anon.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a long new pass 42", "new_password2": "a long new pass 42"},
    )
    assert done.status_code == 302
    assert anon.post("/login/", {"username": "newbie", "password": "a long new pass 42"}).status_code == 302
    again = Client().get(link, follow=True)
    assert "expired or was already used" in again.content.decode()


def test_invite_refuses_a_taken_username_and_a_missing_reason(admin_client, operator_viewer):
    body = admin_client.post(
        "/operators/invite/", {"username": "VERA", "role": "viewer", "reason": ""}
    ).content.decode()
    assert "exists already" in body
    assert "Say why you are making this change" in body
    assert not AuditEvent.objects.filter(action="operator.create").exists()


def test_it_changes_the_role_with_an_audited_reason(admin_client, operator_viewer):
    response = admin_client.post(
        f"/operators/{operator_viewer.pk}/role/", {"role": "helpdesk", "reason": "on call", "ticket": "OPS-1"}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=operator_viewer.pk).role == "helpdesk"
    row = _last("operator.role")
    assert (row.before, row.after, row.reason, row.ticket) == (
        {"role": "viewer"},
        {"role": "helpdesk"},
        "on call",
        "OPS-1",
    )


def test_an_admin_cannot_demote_themselves(admin_client, operator_admin):
    body = admin_client.post(
        f"/operators/{operator_admin.pk}/role/", {"role": "viewer", "reason": "x"}
    ).content.decode()
    assert "cannot take away your own admin role" in body
    assert User.objects.get(pk=operator_admin.pk).role == "admin"


def test_it_changes_the_scope(admin_client, operator_helpdesk, make_connection):
    from apps.accounts.scope import operator_scope

    conn = make_connection(environment="production")
    response = admin_client.post(
        f"/operators/{operator_helpdesk.pk}/scope/",
        {
            "limit_environments": "on",
            "environments": ["staging"],
            "connections": [conn.pk],
            "reason": "contractor",
        },
    )
    assert response.status_code == 302
    scope = operator_scope(User.objects.get(pk=operator_helpdesk.pk))
    assert scope.environments == frozenset({"staging"}) and scope.connection_ids == frozenset({conn.pk})
    row = _last("operator.scope")
    assert row.before == {"environments": None, "connections": None}
    assert row.after == {"environments": ["staging"], "connections": [conn.pk]}
    page = admin_client.get(f"/operators/{operator_helpdesk.pk}/").content.decode()
    assert f'value="{conn.pk}" checked' in page


def test_it_disables_an_operator_and_ends_their_session(admin_client, operator_viewer, viewer_client):
    assert viewer_client.get("/connections/").status_code == 200
    admin_client.post(f"/operators/{operator_viewer.pk}/disable/", {"reason": "left the company"})
    assert not User.objects.get(pk=operator_viewer.pk).is_active
    assert viewer_client.get("/connections/").status_code == 302
    assert _last("operator.disable").reason == "left the company"


def test_an_admin_cannot_disable_themselves(admin_client, operator_admin):
    body = admin_client.post(f"/operators/{operator_admin.pk}/disable/", {"reason": "x"}).content.decode()
    assert "cannot disable yourself" in body
    assert User.objects.get(pk=operator_admin.pk).is_active


def test_password_reset_replaces_the_password_with_a_link(admin_client, operator_viewer):
    body = admin_client.post(
        f"/operators/{operator_viewer.pk}/password-reset/", {"reason": "forgot it"}
    ).content.decode()
    assert "/password/" in body
    assert not User.objects.get(pk=operator_viewer.pk).has_usable_password()
    assert Client().post("/login/", {"username": "vera", "password": PASSWORD}).status_code == 200
    row = _last("operator.password_reset")
    assert row.reason == "forgot it" and "/password/" not in str(row.after) + str(row.extra)


def test_an_unknown_operator_is_404(admin_client):
    assert admin_client.get("/operators/999999/").status_code == 404


def test_the_command_creates_sets_role_and_disables_as_the_system(db, capsys):
    call_command(
        "operator", "create", "bot", "--role", "viewer", "--reason", "ci", "--base-url", "https://a.example"
    )
    assert "One-time password link: https://a.example/password/" in capsys.readouterr().out
    call_command("operator", "set-role", "bot", "admin", "--reason", "promote")
    assert User.objects.get(username="bot").role == "admin"
    call_command("operator", "disable", "bot", "--reason", "retired")
    assert not User.objects.get(username="bot").is_active
    rows = AuditEvent.objects.filter(target_repr="bot").order_by("sequence")
    assert [(r.action, r.actor_id, r.reason) for r in rows] == [
        ("operator.create", None, "ci"),
        ("operator.role", None, "promote"),
        ("operator.disable", None, "retired"),
    ]
    with pytest.raises(CommandError, match="No operator named"):
        call_command("operator", "disable", "ghost", "--reason", "x")
