"""Long names must wrap: the pages that show an app's name, measured in headless Chromium.

The pages are rendered by the test client (the preflight and import talk to the ToolJet simulator over HTTP) and
then loaded into the browser with the real stylesheet, so the measure is the layout an operator gets. All database
work happens before the browser starts: Playwright's sync API runs an event loop the ORM refuses to share.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.contrib.staticfiles import finders

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.transfers.conftest import export_body, upload, workspace_id

VIEWPORT = {"width": 1280, "height": 860}
ORIGIN = "http://testserver"


def _page_widths(pages: dict[str, str]) -> dict[str, int]:
    """Load each ``{path: html}`` in Chromium (static files from the finders, nothing else reachable) and return
    the document's scroll width."""
    from playwright.sync_api import sync_playwright

    def serve(route):
        path = route.request.url.removeprefix(ORIGIN).split("?", 1)[0]
        if path in pages:
            return route.fulfill(status=200, content_type="text/html; charset=utf-8", body=pages[path])
        if path.startswith("/static/") and (found := finders.find(path.removeprefix("/static/"))):
            content_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
            return route.fulfill(status=200, content_type=content_type, body=Path(found).read_bytes())
        return route.fulfill(status=404, body="")

    widths = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.route("**/*", serve)
            for path in pages:
                page.goto(ORIGIN + path)
                widths[path] = page.evaluate("document.documentElement.scrollWidth")
        finally:
            browser.close()
    return widths


def test_a_5000_character_app_name_wraps_on_the_import_pages(admin_client, tooljet):
    sim, connection = tooljet
    long_name = "Quarterly" + "X" * 4991
    body = export_body()
    body["app"][0]["definition"]["appV2"]["name"] = long_name
    staged_url = admin_client.post(
        f"/connections/{connection.slug}/apps/import/",
        {"workspace": workspace_id(sim, "acme-staging"), "file": upload(body)},
    )["Location"]
    preflight = admin_client.get(staged_url).content.decode()
    assert long_name in preflight
    result_url = admin_client.post(staged_url, {"app_name": long_name[:200]})["Location"]
    pages = {
        staged_url: preflight,
        result_url: admin_client.get(result_url).content.decode(),
        f"/connections/{connection.slug}/apps/": admin_client.get(
            f"/connections/{connection.slug}/apps/"
        ).content.decode(),
    }
    assert long_name[:200] in pages[result_url]
    widths = _page_widths(pages)
    assert widths == dict.fromkeys(pages, VIEWPORT["width"]), widths
