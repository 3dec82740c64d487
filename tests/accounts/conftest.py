"""A real OpenID Connect provider process on 127.0.0.1 (tests/oidc_provider.py) and helpers that walk the
authorisation code flow: the Django test client plays the console, an httpx client with its own cookies plays
the person's browser at the IdP."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.oidc_provider import RunningProvider, start_oidc_provider

IDP_USERS = {
    "ada": {"password": "ada-idp-pw", "sub": "u-ada", "groups": ["adminui-admins", "staff"]},
    "hal": {"password": "hal-idp-pw", "sub": "u-hal", "groups": ["helpdesk"]},
    "nobody": {"password": "nobody-idp-pw", "sub": "u-nobody", "groups": ["marketing"]},
    "eve": {"password": "eve-idp-pw", "sub": "u-eve", "groups": ["staff"], "tamper": "signature"},
    "nonce": {"password": "nonce-idp-pw", "sub": "u-nonce", "groups": ["staff"], "tamper": "nonce"},
    "uma": {
        "password": "uma-idp-pw",
        "sub": "u-uma",
        "groups": ["helpdesk"],
        "groups_in_userinfo_only": True,
    },
    "stan": {"password": "stan-idp-pw", "sub": "u-stan", "groups": ["staff", "adminui-staging"]},
}
CALLBACK = "http://testserver/login/oidc/callback/"
LOGIN = "http://testserver/login/"


@pytest.fixture(scope="session")
def idp() -> Iterator[RunningProvider]:
    provider = start_oidc_provider(
        users=IDP_USERS, redirect_uris=[CALLBACK], post_logout_redirect_uris=[LOGIN]
    )
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def oidc_settings(settings, idp):
    settings.ADMINUI_OIDC_ISSUER = idp.issuer
    settings.ADMINUI_OIDC_CLIENT_ID = idp.client_id
    settings.ADMINUI_OIDC_CLIENT_SECRET = idp.client_secret
    settings.ADMINUI_OIDC_NAME = "Test IdP"
    settings.ADMINUI_OIDC_ROLE_MAP = {"adminui-admins": "admin", "helpdesk": "helpdesk", "staff": "viewer"}
    settings.ADMINUI_OIDC_ENVIRONMENT_MAP = {"adminui-staging": "staging"}
    return settings


@pytest.fixture
def idp_browser(idp) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as browser:
        yield browser


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


def idp_login_form(browser: httpx.Client, url: str) -> httpx.Response:
    return browser.get(url)


def idp_submit(
    browser: httpx.Client, form_page: httpx.Response, username: str, password: str
) -> httpx.Response:
    fields = {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(form_page.text)}
    fields.update(username=username, password=password)
    return browser.post(str(form_page.url.join("/authorize")), data=fields)


def back_to_console(client, idp_response: httpx.Response):
    assert idp_response.status_code == 302, idp_response.text[:500]
    location = idp_response.headers["location"]
    assert location.startswith(CALLBACK), location
    return client.get(location.removeprefix("http://testserver"))


def sso_sign_in(client, browser: httpx.Client, username: str, *, next_url: str = "/"):
    """Start at the console, sign in at the IdP's form, and come back: the console's callback response."""
    start = client.get("/login/oidc/", {"next": next_url})
    assert start.status_code == 302, start.content[:500]
    page = idp_login_form(browser, start["Location"])
    if page.status_code == 302:  # the IdP still knows this browser
        return back_to_console(client, page)
    assert "Test IdP sign-in" in page.text
    return back_to_console(client, idp_submit(browser, page, username, IDP_USERS[username]["password"]))
