"""Single sign-on against the real test provider process (no browser): the Django test client follows every
redirect to the provider over HTTP and back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from tests.accounts.conftest import back_to_console, idp_submit, sso_sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_offers_single_sign_on_on_the_login_page(client, oidc_settings):
    body = client.get("/login/").content.decode()
    assert "Sign in with Test IdP" in body
    assert 'href="/login/oidc/"' in body


def test_it_hides_the_button_when_not_configured(client, db):
    body = client.get("/login/").content.decode()
    assert "Sign in with" not in body
    assert client.get("/login/oidc/").status_code == 404


def test_it_sends_pkce_state_and_nonce(client, oidc_settings, idp):
    response = client.get("/login/oidc/")
    url = urlsplit(response["Location"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}" == idp.issuer
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == ["http://testserver/login/oidc/callback/"]
    assert "prompt" not in query


def test_it_creates_the_operator_on_first_sign_in_with_the_mapped_role(client, oidc_settings, idp_browser):
    response = sso_sign_in(client, idp_browser, "ada", next_url="/connections/")
    assert response.status_code == 302
    assert response["Location"] == "/connections/"
    user = User.objects.get(oidc_subject=f"{oidc_settings.ADMINUI_OIDC_ISSUER} u-ada")
    assert user.username == "ada"
    assert user.sign_in == User.SignIn.OIDC
    assert not user.has_usable_password()
    assert user.role == "admin"
    assert client.get("/connections/").status_code == 200
    actions = list(
        AuditEvent.objects.filter(target_id=str(user.pk))
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == ["operator.create", "auth.login"]


def test_it_keeps_the_same_operator_on_the_next_sign_in(client, oidc_settings, idp_browser):
    sso_sign_in(client, idp_browser, "hal")
    client.post("/logout/")
    sso_sign_in(client, idp_browser, "hal")
    assert User.objects.filter(username__startswith="hal").count() == 1
    assert User.objects.get(username="hal").role == "helpdesk"


def test_it_refuses_a_person_without_a_mapped_group_with_a_plain_message(client, oidc_settings, idp_browser):
    response = sso_sign_in(client, idp_browser, "nobody")
    assert response.status_code == 403
    assert "not in a group that gives access to adminui" in response.content.decode()
    assert not User.objects.filter(username="nobody").exists()
    assert client.get("/connections/").status_code == 302
    row = AuditEvent.objects.get(action="auth.login_failed")
    assert (row.target_repr, row.outcome, row.error) == ("nobody", "denied", "no mapped group")


def test_it_re_evaluates_the_role_at_every_sign_in(client, oidc_settings, idp, idp_browser):
    sso_sign_in(client, idp_browser, "stan")
    user = User.objects.get(username="stan")
    assert user.role == "viewer"
    client.post("/logout/")
    idp.set_user("stan", {**idp.users["stan"], "groups": ["marketing"]})
    try:
        response = sso_sign_in(client, idp_browser, "stan")
    finally:
        idp.set_user("stan", {**idp.users["stan"], "groups": ["staff", "adminui-staging"]})
    assert response.status_code == 403
    assert "not in a group" in response.content.decode()
    user = User.objects.get(username="stan")
    assert user.role == ""
    assert AuditEvent.objects.filter(action="operator.role", target_id=str(user.pk)).get().after == {
        "role": ""
    }


def test_it_reads_the_groups_from_userinfo_when_the_id_token_has_none(client, oidc_settings, idp_browser):
    assert sso_sign_in(client, idp_browser, "uma").status_code == 302
    assert User.objects.get(username="uma").role == "helpdesk"


def test_it_maps_an_environment_scope_from_the_groups(client, oidc_settings, idp_browser):
    from apps.accounts.scope import operator_scope

    sso_sign_in(client, idp_browser, "stan")
    assert operator_scope(User.objects.get(username="stan")).environments == frozenset({"staging"})


def test_it_refuses_a_tampered_id_token(client, oidc_settings, idp_browser):
    response = sso_sign_in(client, idp_browser, "eve")
    assert response.status_code == 403
    assert "failed its signature check" in response.content.decode()
    assert not User.objects.filter(username="eve").exists()
    row = AuditEvent.objects.get(action="auth.login_failed")
    assert (row.actor_username, row.outcome, row.error) == (
        "",
        "denied",
        "signature check failed on the ID token (BadSignatureError)",
    )
    assert client.get("/connections/").status_code == 302


def test_it_refuses_an_id_token_with_another_nonce(client, oidc_settings, idp_browser):
    response = sso_sign_in(client, idp_browser, "nonce")
    assert response.status_code == 403
    assert "was not valid for adminui" in response.content.decode()
    assert not User.objects.filter(username="nonce").exists()
    assert (
        AuditEvent.objects.get(action="auth.login_failed").error
        == "claim check failed on the ID token (InvalidClaimError nonce)"
    )


def test_it_refuses_a_callback_with_an_unknown_state(client, oidc_settings, idp_browser):
    start = client.get("/login/oidc/")
    page = idp_browser.get(start["Location"])
    answer = idp_submit(idp_browser, page, "ada", "ada-idp-pw")
    location = answer.headers["location"].replace("state=", "state=x")
    response = client.get(location.removeprefix("http://testserver"))
    assert response.status_code == 403
    assert "expired or was already used" in response.content.decode()
    assert not User.objects.filter(username="ada").exists()


def test_it_refuses_a_replayed_callback(client, oidc_settings, idp_browser):
    start = client.get("/login/oidc/")
    answer = idp_submit(idp_browser, idp_browser.get(start["Location"]), "ada", "ada-idp-pw")
    assert back_to_console(client, answer).status_code == 302
    client.post("/logout/")
    replay = back_to_console(client, answer)
    assert replay.status_code == 403
    assert client.get("/connections/").status_code == 302


def test_it_refuses_a_callback_started_in_another_browser(client, oidc_settings, idp_browser):
    from django.test import Client

    start = Client().get("/login/oidc/")  # someone else's sign-in, e.g. a link sent to the victim
    answer = idp_submit(idp_browser, idp_browser.get(start["Location"]), "ada", "ada-idp-pw")
    assert back_to_console(client, answer).status_code == 403


def test_it_refuses_a_disabled_operator(client, oidc_settings, idp_browser):
    sso_sign_in(client, idp_browser, "hal")
    User.objects.filter(username="hal").update(is_active=False)
    client.post("/logout/")
    response = sso_sign_in(client, idp_browser, "hal")
    assert response.status_code == 403
    assert "disabled" in response.content.decode()


def test_it_ends_the_idp_session_on_logout(client, oidc_settings, idp, idp_browser):
    sso_sign_in(client, idp_browser, "ada")
    response = client.post("/logout/")
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{idp.issuer}/logout"
    assert query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    assert query["id_token_hint"]
    back = idp_browser.get(response["Location"])
    assert back.headers["location"] == "http://testserver/login/"
    assert client.get("/connections/").status_code == 302
    # the IdP forgot the browser: the next sign-in asks for the password again
    start = client.get("/login/oidc/")
    assert "Test IdP sign-in" in idp_browser.get(start["Location"]).text


def test_switching_local_login_off_refuses_passwords_except_break_glass(
    client, oidc_settings, operator_viewer, operator_admin
):
    oidc_settings.ADMINUI_LOCAL_LOGIN = False
    oidc_settings.ADMINUI_BREAK_GLASS_USERS = ["alice"]
    response = client.post("/login/", {"username": "vera", "password": PASSWORD})
    assert response.status_code == 200
    assert "Password sign-in is switched off" in response.content.decode()
    assert "Break-glass account" in client.get("/login/").content.decode()
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_without_break_glass_the_password_form_is_gone(client, oidc_settings):
    oidc_settings.ADMINUI_LOCAL_LOGIN = False
    body = client.get("/login/").content.decode()
    assert "Sign in with Test IdP" in body
    assert 'name="password"' not in body


def test_reauth_asks_the_idp_for_a_fresh_login_and_returns(client, oidc_settings, idp_browser):
    sso_sign_in(client, idp_browser, "ada")
    session = client.session
    session["adminui_auth_at"] -= 3600
    session.save()
    response = client.get("/operators/invite/")
    assert response.status_code == 302
    assert response["Location"] == "/reauth/?next=%2Foperators%2Finvite%2F"
    to_idp = client.get(response["Location"])
    query = parse_qs(urlsplit(to_idp["Location"]).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    page = idp_browser.get(to_idp["Location"])
    assert "Test IdP sign-in" in page.text  # the IdP asks again although it knows the browser
    back = back_to_console(client, idp_submit(idp_browser, page, "ada", "ada-idp-pw"))
    assert back["Location"] == "/operators/invite/"
    assert client.get("/operators/invite/").status_code == 200


def test_reauth_refuses_someone_else(client, oidc_settings, idp_browser):
    sso_sign_in(client, idp_browser, "ada")
    session = client.session
    session["adminui_auth_at"] -= 3600
    session.save()
    to_idp = client.get(client.get("/operators/invite/")["Location"])
    page = idp_browser.get(to_idp["Location"])
    response = back_to_console(client, idp_submit(idp_browser, page, "hal", "hal-idp-pw"))
    assert response.status_code == 403
    assert "someone else" in response.content.decode()
    assert client.get("/operators/invite/").status_code == 302
