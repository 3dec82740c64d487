"""More transfers in the browser: copy an app between two ToolJet instances through the dry-run preview, and
clone a Retool app into a folder. Apps used here are touched by no other e2e test."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def _workspace_section(page: Page, name: str):
    return page.locator("section.workspace").filter(
        has=page.get_by_role("heading", name=re.compile(f"^{name}"))
    )


def _imports(sim) -> int:
    return sum(1 for method, path in list(sim.requests) if method == "POST" and "/import/" in path)


def test_it_copies_an_app_to_another_instance_through_the_dry_run_preview(page, console):
    staging = console.fleet["tj-stage"]
    imports_before = _imports(staging)
    new_name = console.unique("Inventory Tracker copy")

    page.goto("/connections/tj-prod/apps/")
    row = (
        _workspace_section(page, "Acme Production")
        .locator("tbody tr")
        .filter(has=page.get_by_role("link", name="Inventory Tracker", exact=True))
    )
    row.get_by_role("link", name="Copy to…").click()
    page.wait_for_url(re.compile(r"/connections/tj-prod/apps/[^/]+/copy/"))
    expect(page.get_by_role("heading", name=re.compile("^Copy “Inventory Tracker”"))).to_be_visible()
    page.get_by_label("Copy to (connection → workspace)").select_option(label="TJ Staging → Acme Staging")
    page.get_by_role("button", name="Export and preview").click()

    # The dry run: what would be sent, the checks — and nothing imported yet.
    expect(page.get_by_role("heading", name=re.compile(r"^Copy preview \(dry run\)"))).to_be_visible()
    expect(page.locator("dl.kv")).to_contain_text("TJ Production · “Inventory Tracker”")
    expect(page.locator("ul.preflight li").first).to_be_visible()
    expect(page.locator("ul.preflight .check-error")).to_have_count(0)
    assert _imports(staging) == imports_before

    page.get_by_label("Name in the target workspace").fill(new_name)
    page.get_by_label("Reason").fill("Promote inventory app to staging (e2e)")
    page.get_by_role("button", name="Copy now").click()

    expect(page.get_by_role("heading", name="Copy finished")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=new_name)).to_be_visible()
    assert _imports(staging) == imports_before + 1
    page.get_by_role("link", name="Back to the apps").click()
    expect(
        _workspace_section(page, "Acme Staging").get_by_role("link", name=new_name, exact=True)
    ).to_be_visible()


def test_it_clones_a_retool_app_into_a_folder(page, console):
    clone_name = console.unique("Ops console clone")
    page.goto("/connections/retool/apps/")
    page.get_by_role("link", name="Ops console", exact=True).click()
    page.wait_for_url(re.compile(r"/connections/retool/apps/[^/]+/"))
    clone = page.locator("#clone")
    expect(clone.get_by_role("heading", name="Clone within Retool Cloud")).to_be_visible()
    clone.get_by_label("Name of the copy").fill(clone_name)
    clone.get_by_label("Folder").select_option("app_2")
    clone.get_by_label("Reason").fill("Sandbox for the ops team (e2e)")
    clone.get_by_role("button", name="Clone app").click()

    folder_name = console.fleet["retool"].state.folders["app_2"]["name"]
    expect(clone.get_by_role("status")).to_have_text(f"Cloned into “{clone_name}” in folder {folder_name}.")
    assert any(
        method == "POST" and path.endswith("/apps/cloneApp")
        for method, path in console.fleet["retool"].requests
    )
    page.goto("/connections/retool/apps/")
    folder = page.locator("section.folder").filter(has=page.get_by_role("heading", name=folder_name))
    expect(folder.get_by_role("link", name=clone_name, exact=True)).to_be_visible()
