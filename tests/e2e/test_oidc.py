"""Single sign-on in real Chromium against a real OpenID Connect provider process on 127.0.0.1.

This module runs its own console (gunicorn, DEBUG off) configured for single sign-on with passwords switched
off except for a break-glass account; the shared console of the other e2e modules stays password-only.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import BASE_DIR, Console, _listening_socket, _new_page, _save_failure, _server_env
from tests.oidc_provider import RunningProvider, start_oidc_provider

IDP_USERS = {
    "olga": {"password": "olga-idp-password", "sub": "e2e-olga", "groups": ["adminui-admins"]},
    "nina": {"password": "nina-idp-password", "sub": "e2e-nina", "groups": ["marketing"]},
    "mallory": {
        "password": "mallory-idp-password",
        "sub": "e2e-mallory",
        "groups": ["staff"],
        "tamper": "signature",
    },
}
BREAK_GLASS = {"username": "breakglass", "password": "break-glass-password-1", "role": "admin"}


@pytest.fixture(scope="module")
def sso(tmp_path_factory) -> Iterator[tuple[Console, RunningProvider]]:
    var_dir = tmp_path_factory.mktemp("e2e-sso")
    sock = _listening_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    idp = start_oidc_provider(
        users=IDP_USERS,
        redirect_uris=[f"{base_url}/login/oidc/callback/"],
        post_logout_redirect_uris=[f"{base_url}/login/"],
    )
    env = dict(
        _server_env(var_dir),
        ADMINUI_OIDC_ISSUER=idp.issuer,
        ADMINUI_OIDC_CLIENT_ID=idp.client_id,
        ADMINUI_OIDC_CLIENT_SECRET=idp.client_secret,
        ADMINUI_OIDC_NAME="Test IdP",
        ADMINUI_OIDC_ROLE_MAP="adminui-admins=admin,helpdesk=helpdesk,staff=viewer",
        ADMINUI_LOCAL_LOGIN="0",
        ADMINUI_BREAK_GLASS_USERS=BREAK_GLASS["username"],
    )
    console = Console(base_url=base_url, env=env, var_dir=var_dir)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=BASE_DIR,
            env=env,
            check=True,
            timeout=120,
        )
        console.seed({"operators": [BREAK_GLASS], "connections": []})
        with open(var_dir / "gunicorn.log", "wb") as log:
            console.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-c", "adminui/gunicorn.conf.py", "adminui.wsgi"],
                    cwd=BASE_DIR,
                    env=dict(
                        env, GUNICORN_BIND=f"fd://{sock.fileno()}", GUNICORN_WORKERS="1", GUNICORN_THREADS="4"
                    ),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=(sock.fileno(),),
                )
            )
        sock.close()
        yield console, idp
    finally:
        sock.close()
        for proc in console.processes:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        idp.stop()


@pytest.fixture
def sso_page(request, browser, sso) -> Iterator[Page]:
    console, _idp = sso
    page = _new_page(browser, console, logged_in=False)
    yield page
    _save_failure(request, page, console)
    page.context.close()


def _sign_in_at_idp(page: Page, username: str) -> None:
    expect(page).to_have_title("Test IdP sign-in")
    page.get_by_label("IdP username").fill(username)
    page.get_by_label("IdP password").fill(IDP_USERS[username]["password"])
    page.get_by_role("button", name="Continue").click()


def test_it_signs_in_with_the_idp_and_logs_out_of_both(sso_page: Page, sso):
    _console, idp = sso
    page = sso_page
    page.goto("/connections/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/connections/$"))
    expect(page.get_by_label("Password")).to_be_hidden()  # passwords are off; the break-glass form is folded
    page.get_by_role("link", name="Sign in with Test IdP").click()
    assert page.url.startswith(idp.issuer)
    assert "code_challenge_method=S256" in page.url
    _sign_in_at_idp(page, "olga")
    expect(page).to_have_url(re.compile(r"/connections/$"))
    expect(page.get_by_title("Your role")).to_have_text("olga · admin")
    page.get_by_role("link", name="Operators").click()
    expect(
        page.get_by_role("row", name=re.compile(r"olga admin all connections Single sign-on"))
    ).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.get_by_role("link", name="Sign in with Test IdP").click()
    expect(page).to_have_title("Test IdP sign-in")  # the IdP session ended too: it asks again


def test_a_person_without_a_mapped_group_is_refused_plainly(sso_page: Page):
    page = sso_page
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    _sign_in_at_idp(page, "nina")
    expect(page.get_by_role("alert")).to_contain_text("not in a group that gives access to adminui")
    page.goto("/connections/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))


def test_a_tampered_id_token_is_refused(sso_page: Page):
    page = sso_page
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    _sign_in_at_idp(page, "mallory")
    expect(page.get_by_role("alert")).to_contain_text("failed its signature check")
    page.goto("/connections/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))


def test_only_the_break_glass_account_may_use_a_password(sso_page: Page):
    page = sso_page
    page.goto("/login/")
    page.get_by_text("Break-glass account").click()
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill("anything at all")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Password sign-in is switched off")
    page.get_by_label("Username").fill(BREAK_GLASS["username"])
    page.get_by_label("Password").fill(BREAK_GLASS["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_title("Your role")).to_have_text("breakglass · admin")


def test_an_sso_admin_invites_a_local_operator_and_changes_their_role(sso_page: Page, browser, sso):
    console, _idp = sso
    page = sso_page
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    _sign_in_at_idp(page, "olga")
    page.get_by_role("link", name="Operators").click()
    page.get_by_role("link", name="Invite an operator").click()
    page.get_by_label("Username").fill("priya")
    page.get_by_label("Role").select_option("helpdesk")
    page.get_by_label("Reason").fill("joins support")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("heading", name="priya is invited")).to_be_visible()
    link = page.locator("#password-link").inner_text()
    assert link.startswith(f"{console.base_url}/password/")

    other = _new_page(browser, console, logged_in=False)
    try:
        other.goto(link)
        expect(other.get_by_role("heading", name="Choose your adminui password")).to_be_visible()
    finally:
        other.context.close()

    page.get_by_role("link", name="Back to priya").click()
    page.get_by_label("Role", exact=True).select_option("admin")
    page.locator("form[action$='/role/']").get_by_label("Reason").fill("on-call lead")
    page.get_by_role("button", name="Change role").click()
    expect(page.get_by_text("priya's role is now admin.")).to_be_visible()
    page.goto("/audit/")
    expect(page.get_by_text("on-call lead")).to_be_visible()
