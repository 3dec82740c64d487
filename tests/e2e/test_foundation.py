"""Foundation flows in the browser: log in, add and test a connection, an expired session during htmx."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import login


def test_it_logs_in_and_lands_on_the_search_page(anon_page, shot):
    page = anon_page
    page.goto("/connections/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/connections/$"))
    login(page, password="not the password at all")
    expect(page.get_by_role("alert")).to_be_visible()
    login(page)
    expect(page).to_have_url(re.compile(r"/connections/$"))
    expect(page.get_by_role("heading", name="Connections")).to_be_visible()
    page.get_by_role("link", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="Search people")).to_be_visible()


def test_it_focuses_search_with_the_slash_key(page):
    page.goto("/")
    box = page.get_by_role("searchbox", name="Name or e-mail")
    page.locator("h1").click()  # move focus away from the autofocused box
    expect(box).not_to_be_focused()
    page.keyboard.press("/")
    expect(box).to_be_focused()
    # the box starts focused: "/" in it while it is empty is the shortcut, not the start of a query
    page.keyboard.press("/")
    page.keyboard.type("priya")
    expect(box).to_have_value("priya")
    # a page with its own search box focuses that one
    page.goto("/audit/")
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
    # on a page without a search box, "/" opens the search page
    page.goto("/connections/")
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Name or e-mail")).to_be_focused()


def test_it_adds_a_connection_and_tests_it(page, console, shot):
    slug = console.unique("spare")
    page.goto("/connections/")
    page.get_by_role("link", name="Add connection").click()
    expect(page.get_by_role("heading", name="Add a connection")).to_be_visible()
    page.get_by_label("Name").fill(f"Spare {slug}")
    page.get_by_label("Slug").fill(slug)
    page.get_by_label("Kind").select_option("tooljet")
    page.get_by_label("Instance URL").fill(f"{console.spare.url}/api/ext")
    page.get_by_label("Environment").select_option("staging")
    page.get_by_label("Token").fill("tj-test-token")
    page.get_by_role("button", name="Test and add").click()

    page.wait_for_url(re.compile(rf"/connections/{slug}/\?test=1$"))
    expect(page.get_by_role("status").filter(has_text="added")).to_be_visible()
    result = page.locator("#test-result")
    expect(result).to_contain_text("Working")  # the automatic test after saving (hx-trigger load)
    expect(page.get_by_text("Not tested yet.")).to_have_count(0)

    # Test again on demand: the button posts with htmx and the panel is swapped in place.
    button = page.get_by_role("button", name="Test connection")
    with page.expect_response(re.compile(rf"/connections/{slug}/test/$")) as answer:
        button.click()
    assert answer.value.status == 200
    expect(result).to_contain_text("Working")
    expect(button).to_be_enabled()  # hx-disabled-elt released
    shot(page, "connection-detail")

    # The new connection is in the switcher.
    page.locator(".switcher summary").click()
    expect(page.locator(".switcher").get_by_role("link", name=re.compile(f"Spare {slug}"))).to_be_visible()


def test_it_sends_an_expired_session_to_the_login_page_during_htmx(page, console):
    page.goto("/connections/tj-prod/")
    expect(page.get_by_role("heading", name="TJ Production")).to_be_visible()
    # The server no longer knows this session (expired, or cleared by `clearsessions`).
    cookies = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    assert cookies, "logged-in context has a session cookie"
    page.context.add_cookies([{**cookies[0], "value": "expired0000000000000000000000000"}])

    page.get_by_role("button", name="Test connection").click()  # an htmx POST

    page.wait_for_url(re.compile(r"/login/\?next=%2Fconnections%2Ftj-prod%2F$"))
    expect(page.get_by_role("heading", name="Log in to adminui")).to_be_visible()
    expect(page.locator("#test-result")).to_have_count(0)  # no login form swapped into a fragment
    login(page)
    page.wait_for_url(re.compile(r"/connections/tj-prod/$"))
    expect(page.get_by_role("heading", name="TJ Production")).to_be_visible()


def test_htmx_injects_no_inline_style_and_the_console_check_would_see_one(page):
    page.goto("/?q=zo")
    page.get_by_role("searchbox", name="Name or e-mail").fill("jose")  # an htmx swap
    expect(page.locator("#results")).to_contain_text("jose")
    assert page.evaluate("() => document.querySelectorAll('style').length") == 0
    assert page.evaluate("() => htmx.config.includeIndicatorStyles") is False
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate("() => document.head.insertAdjacentHTML('beforeend', '<style>body{}</style>')")
    assert any("Content Security Policy" in p for p in page.console_problems)
    page.console_problems.clear()  # provoked on purpose: the fixture's check is what is shown to work here
