"""Invites in the browser: invite a person into two groups with a user attribute on Retool, find the pending
invite with the global search, and revoke it."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_it_invites_finds_and_revokes(page, console, shot):
    email = f"{console.unique('invitee')}@example.com"
    page.goto("/connections/retool/")
    page.locator("nav.subnav").get_by_role("link", name="Invites").click()
    page.wait_for_url(re.compile(r"/connections/retool/invites/$"))
    expect(page.get_by_role("heading", name="Invites on Retool Cloud")).to_be_visible()

    form = page.locator(".invite-create form")
    form.get_by_label("E-mail").fill(email)
    form.get_by_role("checkbox", name="Support").check()
    form.get_by_role("checkbox", name="Finance").check()
    form.locator("input[name=attr_department]").fill("finance")
    form.get_by_label("Reason").fill("New starter in finance (e2e)")
    form.get_by_role("button", name="Invite").click()

    expect(page.locator("#messages .alert-success")).to_contain_text(f"Invited {email}.")
    row = page.locator("tr", has_text=email)
    expect(row).to_have_attribute("data-invite-state", "pending")
    expect(row).to_contain_text("Support")
    expect(row).to_contain_text("Finance")
    expect(row).to_contain_text("department=finance")
    shot(page, "invites")

    page.goto("/")
    page.get_by_role("searchbox").first.press_sequentially(email.split("@")[0], delay=10)
    result = page.locator("#results tr", has_text=email).get_by_role("link", name=re.compile("Retool Cloud"))
    expect(result).to_contain_text(re.compile(r"invited, pending \(expires \d{4}-\d\d-\d\d\)"))
    result.click()
    page.wait_for_url(re.compile(r"/connections/retool/invites/$"))

    row = page.locator("tr", has_text=email)
    row.locator("summary").click()
    row.get_by_label("Reason").fill("Offer withdrawn (e2e)")
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator("#messages .alert-success")).to_contain_text(f"Revoked the invite of {email}.")
    expect(page.locator("tr", has_text=email)).to_have_count(0)

    page.goto(f"/?q={email}")
    expect(page.locator("#results")).to_contain_text("Nobody matches")
    expect(page.locator("#results tr", has_text=email)).to_have_count(0)
