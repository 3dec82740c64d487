from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from apps.accounts.reauth import SESSION_AUTH_AT, require_recent_auth
from tests.conftest import PASSWORD


def _age(client, seconds: int) -> None:
    session = client.session
    session[SESSION_AUTH_AT] -= seconds
    session.save()


def test_it_records_the_sign_in_time(client, operator_viewer):
    client.post("/login/", {"username": "vera", "password": PASSWORD})
    assert isinstance(client.session[SESSION_AUTH_AT], int)


def test_it_lets_a_fresh_sign_in_through(admin_client):
    assert admin_client.get("/operators/invite/").status_code == 200


def test_it_sends_a_stale_get_to_reauth_and_back(admin_client):
    _age(admin_client, 16 * 60)
    response = admin_client.get("/operators/invite/?x=1")
    assert response.status_code == 302
    assert response["Location"] == "/reauth/?next=%2Foperators%2Finvite%2F%3Fx%3D1"
    page = admin_client.get(response["Location"])
    assert "Confirm it is you" in page.content.decode()
    back = admin_client.post("/reauth/", {"password": PASSWORD, "next": "/operators/invite/?x=1"})
    assert back["Location"] == "/operators/invite/?x=1"
    assert admin_client.get("/operators/invite/").status_code == 200


def test_a_stale_post_returns_to_the_page_of_the_form_and_changes_nothing(admin_client, operator_viewer):
    _age(admin_client, 16 * 60)
    url = f"/operators/{operator_viewer.pk}/disable/"
    response = admin_client.post(
        url, {"reason": "left"}, HTTP_REFERER=f"http://testserver/operators/{operator_viewer.pk}/"
    )
    assert response["Location"] == f"/reauth/?next=%2Foperators%2F{operator_viewer.pk}%2F"
    operator_viewer.refresh_from_db()
    assert operator_viewer.is_active


def test_a_foreign_referer_is_not_a_place_to_return_to(admin_client, operator_viewer):
    _age(admin_client, 16 * 60)
    response = admin_client.post(
        f"/operators/{operator_viewer.pk}/disable/", {"reason": "x"}, HTTP_REFERER="https://evil.example/"
    )
    assert response["Location"] == "/reauth/?next=%2F"


def test_it_refuses_a_wrong_password(admin_client):
    _age(admin_client, 16 * 60)
    page = admin_client.post("/reauth/", {"password": "wrong", "next": "/operators/invite/"})
    assert page.status_code == 200
    assert "That password is not right." in page.content.decode()
    assert admin_client.get("/operators/invite/").status_code == 302


def test_htmx_gets_a_client_redirect(admin_client, htmx_headers):
    _age(admin_client, 16 * 60)
    response = admin_client.get("/operators/invite/", headers=htmx_headers)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/reauth/?next=%2F"


@pytest.mark.parametrize(
    ("minutes", "age", "fresh"), [(5, 4 * 60, True), (5, 6 * 60, False), (None, 14 * 60, True)]
)
def test_the_helper_honours_minutes(settings, minutes, age, fresh):
    import time

    settings.ADMINUI_REAUTH_MINUTES = 15
    request = RequestFactory().get("/x/")
    request.session = {SESSION_AUTH_AT: int(time.time()) - age}
    response = require_recent_auth(request, minutes)
    assert (response is None) is fresh
    if not fresh:
        assert isinstance(response, HttpResponse) and response.status_code == 302


def test_a_session_without_a_sign_in_time_is_stale():
    request = RequestFactory().get("/x/")
    request.session = {}
    assert require_recent_auth(request).status_code == 302
