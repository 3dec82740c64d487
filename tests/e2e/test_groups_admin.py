"""Group administration in the browser on ToolJet `latest`: create → edit permissions → delete, and the drift
report between two connections with its CSV. Groups used here are created by these tests only."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect


def test_it_creates_edits_and_deletes_a_tooljet_group(page, console):
    name = console.unique("e2e-crud")
    page.goto("/connections/tj-prod/groups/")
    page.get_by_role("link", name="New group").click()
    page.wait_for_url(re.compile(r"/connections/tj-prod/groups/new/"))
    form = page.locator("#group-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Create apps").check()
    form.get_by_label("Reason").fill("New rota group (e2e)")
    form.get_by_role("button", name="Create group").click()

    page.wait_for_url(re.compile(r"/connections/tj-prod/groups/(?!new/)[^/]+/"))
    expect(page.get_by_role("heading", name=re.compile(f"^{name}"))).to_be_visible()
    expect(page.locator("#messages")).to_contain_text(f"Group “{name}” created.")
    permissions = page.locator("section.group-permissions")
    expect(permissions.locator("li.ok")).to_have_text([re.compile("Create apps")])

    # Edit: one more workspace permission and a granular entry for one app.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url(re.compile(r"/edit/"))
    form = page.locator("#group-form")
    expect(form.get_by_label("Create apps")).to_be_checked()
    form.get_by_label("Release apps").check()
    form.locator("#id_g0_type").select_option(label="Apps")
    form.locator("#id_g0_resources").fill("Archive Browser")
    form.get_by_label("Reason").fill("Let the rota release the archive app (e2e)")
    form.get_by_role("button", name="Save").click()

    page.wait_for_url(re.compile(r"/connections/tj-prod/groups/[^/]+/(\?.*)?$"))
    expect(page.locator("#messages")).to_contain_text(f"Group “{name}” saved.")
    expect(permissions.locator("li.ok")).to_have_text([re.compile("Create apps"), re.compile("Release apps")])
    expect(permissions.locator(".granular-table tbody tr")).to_have_count(1)
    expect(permissions.locator(".granular-table tbody tr")).to_contain_text("Archive Browser")

    # Delete (hx-confirm is accepted by the page fixture) and land on the list without it.
    delete = page.locator("form.group-delete")
    delete.get_by_label("Reason").fill("Rota ended (e2e)")
    delete.get_by_role("button", name="Delete group").click()
    page.wait_for_url(re.compile(r"/connections/tj-prod/groups/(\?.*)?$"))
    expect(page.locator("#messages")).to_contain_text(f"Group “{name}” deleted.")
    page.get_by_label("Search groups").fill(name)
    expect(page.locator("#results")).to_contain_text("0 groups")
    expect(page.get_by_role("link", name=name)).to_have_count(0)


def test_the_drift_report_highlights_a_difference_and_downloads_as_csv(page, console):
    name = console.unique("e2e-drift")
    stage = console.fleet["tj-stage"]
    ws = next(w["id"] for w in stage.app.state.workspaces.values() if w["name"] == "Acme Production")
    with stage.app.lock:  # a group only staging has, as drift happens in real fleets
        stage.app.state.add_custom_group(ws, name, {"appCreate": True})

    page.goto("/groups/drift/")
    page.get_by_role("group", name="Left").get_by_label("Connection").select_option("tj-prod")
    page.get_by_role("group", name="Right").get_by_label("Connection").select_option("tj-stage")
    page.get_by_role("button", name="Compare").click()

    report = page.locator("#report")
    expect(report.get_by_role("heading", name=re.compile(r"^\d+ differences?$"))).to_be_visible()
    group = report.locator("tbody tr.drift-differs").filter(has=page.get_by_role("rowheader", name=name))
    expect(group).to_have_count(1)
    expect(group).to_contain_text("exists")
    expect(group.locator(".badge")).to_have_text("differs")
    expect(report.locator("tbody tr.drift-differs").filter(has_text="Create apps").first).to_be_visible()

    with page.expect_download() as download_info:
        report.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "group-drift.csv"
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["group", "setting"] and rows[0][-1] == "differs"
    assert any(r[0] == name and r[1] == "exists" and r[3] == "yes" and r[-1] == "yes" for r in rows), rows


def test_it_removes_a_member_without_javascript(page, browser, console):
    """The row's own reason field (revealed by <details>) makes the removal a plain form POST."""
    context = browser.new_context(
        base_url=console.base_url, java_script_enabled=False, storage_state=console.storage_state
    )
    try:
        nojs = context.new_page()
        nojs.goto("/connections/retool/groups/")
        nojs.get_by_role("link", name="Finance", exact=True).click()
        nojs.wait_for_url(re.compile(r"/connections/retool/groups/[^/]+/$"))
        row = nojs.locator("#member-list tbody tr").first
        email = row.locator("td").first.inner_text()
        remove = row.locator("details").filter(has_text="Remove…")
        remove.get_by_text("Remove…").click()  # <details> opens without JavaScript
        remove.get_by_label("Reason").fill("Left the finance team (e2e, no JS)")
        remove.get_by_role("button", name="Remove from Finance").click()
        expect(nojs.locator("#messages")).to_contain_text("Member removed.")
        expect(nojs.locator("#member-list tbody")).not_to_contain_text(email)
    finally:
        context.close()


def test_it_toggles_group_admin_in_place_with_the_rows_own_reason(page):
    page.goto("/connections/retool/groups/")
    page.get_by_role("link", name="Engineering", exact=True).click()
    page.wait_for_url(re.compile(r"/connections/retool/groups/[^/]+/$"))
    row = page.locator("#member-list tbody tr").filter(has_text="No — make admin…").first
    email = row.locator("td").first.inner_text()
    toggle = row.locator("details").filter(has_text="make admin")
    toggle.locator("summary").click()
    toggle.get_by_label("Reason").fill("Leads the on-call rota (e2e)")
    toggle.get_by_role("button", name="Make group admin").click()
    expect(page.locator("#messages .alert-success")).to_have_text("Group admin set.")
    updated = page.locator("#member-list tbody tr").filter(has_text=email)
    expect(updated.locator("summary").first).to_have_text("Yes — unset…")
    assert page.url.endswith("/")  # swapped in place, no navigation
