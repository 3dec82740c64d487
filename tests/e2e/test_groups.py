"""Groups in the browser: find a group, add a member through the directory picker, see the message."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_it_adds_a_group_member(page, shot):
    page.goto("/connections/tj-prod/")
    page.locator("nav.subnav").get_by_role("link", name="Groups").click()
    page.wait_for_url(re.compile(r"/connections/tj-prod/groups/"))
    workspace = page.get_by_label("Workspace")
    # picking a workspace shows its groups at once (data-autosubmit; a double submit used to cancel it)
    staging = workspace.locator("option", has_text="Acme Staging").get_attribute("value")
    workspace.select_option(label="Acme Staging")
    page.wait_for_url(re.compile(rf"ws={staging}"))
    workspace.select_option(label="Acme Production")
    page.wait_for_url(re.compile(r"ws="))
    expect(workspace.locator("option:checked")).to_have_text("Acme Production")
    expect(page.get_by_role("link", name="Support")).to_be_visible()
    shot(page, "groups")
    page.get_by_role("link", name="Support").click()
    page.wait_for_url(re.compile(r"/connections/tj-prod/groups/[^/]+/"))
    expect(page.get_by_role("heading", name=re.compile("^Support"))).to_be_visible()

    members = page.locator("#member-list")
    expect(members.locator("tbody")).not_to_contain_text("nadia.angstrom.10@example.com")
    page.get_by_label("Find in the directory").press_sequentially("nadia.angstrom", delay=20)
    option = page.get_by_role("radio", name=re.compile("nadia.angstrom.10@example.com"))
    option.check()
    page.locator("#member-add-form").get_by_label("Reason").fill("Joins support rota (e2e)")
    page.get_by_role("button", name="Add to Support").click()

    expect(page.locator("#messages .alert-success")).to_be_visible()
    expect(page.locator("#member-list tbody")).to_contain_text("nadia.angstrom.10@example.com")
    page.reload()
    expect(page.locator("#member-list tbody")).to_contain_text("nadia.angstrom.10@example.com")
