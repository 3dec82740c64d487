"""Transfers in the browser: export an app (a real download), import that file into another instance through
the preflight, and build a bundle while the page polls its progress to the end."""

from __future__ import annotations

import io
import json
import re
import zipfile

from playwright.sync_api import Page, expect


def _workspace_section(page: Page, name: str):
    return page.locator("section.workspace").filter(
        has=page.get_by_role("heading", name=re.compile(f"^{name}"))
    )


def _app_row(page: Page, workspace: str, app: str):
    return (
        _workspace_section(page, workspace)
        .locator("tbody tr")
        .filter(has=page.get_by_role("link", name=app, exact=True))
    )


def test_it_exports_an_app_and_imports_the_file_into_another_instance(page, console, tmp_path, shot):
    page.goto("/connections/tj-prod/apps/")
    row = _app_row(page, "Acme Production", "Refund Approvals")
    expect(row).to_have_count(1)
    shot(page, "apps")
    with page.expect_download() as download_info:
        row.get_by_role("button", name="Export newest").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".json"), download.suggested_filename
    exported = tmp_path / download.suggested_filename
    download.save_as(exported)
    body = json.loads(exported.read_bytes())
    assert "Refund Approvals" in json.dumps(body)
    assert body.get("tooljet_version")

    # Import the downloaded file into TJ Staging under a new name.
    page.goto("/connections/tj-stage/apps/")
    page.get_by_role("link", name="Import an app…").click()
    page.wait_for_url(re.compile(r"/connections/tj-stage/apps/import/$"))
    page.get_by_label("Target workspace").select_option(label="Acme Staging")
    page.get_by_label("ToolJet export file (.json)").set_input_files(str(exported))
    page.get_by_label("Reason").fill("Promote refunds app to staging (e2e)")
    page.get_by_role("button", name="Check file").click()

    expect(page.get_by_role("heading", name=re.compile("^Import preflight"))).to_be_visible()
    expect(page.locator(".preflight")).not_to_contain_text("error", ignore_case=False)
    shot(page, "import-preflight")
    page.get_by_label("Name in the target workspace").fill("Refund Approvals e2e")
    page.get_by_label("Reason").fill("Promote refunds app to staging (e2e)")
    page.get_by_role("button", name="Import now").click()

    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Refund Approvals e2e")).to_be_visible()
    page.get_by_role("link", name="Back to the apps").click()
    expect(_app_row(page, "Acme Staging", "Refund Approvals e2e")).to_have_count(1)
    staging = console.fleet["tj-stage"]
    assert any(r[0] == "POST" and "/import/" in r[1] for r in staging.requests)


def test_it_builds_a_bundle_and_the_page_follows_its_progress(page, console, shot):
    sim = console.fleet["tj-prod"]
    # Slow the two exports down so the page is seen polling before the bundle finishes.
    sim.faults.add(kind="latency", path="/api/ext/export/", ms=2000, times=2)
    try:
        page.goto("/connections/tj-prod/apps/")
        section = _workspace_section(page, "Acme Production")
        for app in ("Sales Dashboard", "Customer 360"):
            section.get_by_role("checkbox", name=f"Bundle {app}").check()
        section.get_by_text("Bundle these apps as one ZIP…").click()
        section.get_by_label("Reason").fill("Quarterly backup (e2e)")
        section.get_by_role("button", name="Build bundle").click()

        page.wait_for_url(re.compile(r"/connections/tj-prod/bundles/[0-9a-f-]+/$"))
        status = page.locator("#bundle-status")
        expect(status.locator("progress")).to_be_visible()  # still running: the panel polls every second
        expect(status.locator(".badge")).to_have_text("Building")  # the worker picked it up
        shot(page, "bundle-progress")
        expect(status.locator(".badge")).to_have_text("Done")
        expect(status.locator("progress")).to_have_count(0)
        expect(status).to_contain_text("2 of 2 done")
        expect(status).not_to_have_attribute("hx-trigger", re.compile("every"))  # polling stopped
    finally:
        sim.faults.clear()

    with page.expect_download() as download_info:
        status.get_by_role("link", name=re.compile("^Download")).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(download.path().read_bytes()))
    manifest = json.loads(archive.read("manifest.json"))
    assert sorted(a["name"] for a in manifest["apps"]) == ["Customer 360", "Sales Dashboard"]
    assert manifest["created_by"] == "e2e-admin"
