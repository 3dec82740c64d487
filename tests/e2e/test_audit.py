"""The audit trail in the browser: htmx filters that push the URL, and the CSV export download."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect


def test_it_filters_the_audit_trail_and_exports_it(page, shot):
    page.goto("/audit/")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    rows = page.locator("#results tbody tr")
    expect(rows.filter(has_text="Retool Cloud")).not_to_have_count(0)  # the seed's connection tests
    shot(page, "audit")

    page.locator("form.filters").get_by_label("Connection").select_option(label="Retool Cloud")
    page.wait_for_url(re.compile(r"/audit/\?.*connection=retool"))
    expect(rows.filter(has_text="TJ Production")).to_have_count(0)
    expect(rows.filter(has_text="Retool Cloud")).not_to_have_count(0)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    table = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    assert len(table) >= 2
    header = [h.lower() for h in table[0]]
    body = "\n".join(",".join(r) for r in table[1:])
    assert any("action" in h for h in header), header
    assert "connection.test" in body
    assert "tj-prod" not in body  # the export follows the filter

    page.go_back()
    page.wait_for_url(re.compile(r"/audit/$"))
    expect(rows.filter(has_text="TJ Production")).not_to_have_count(0)
